"""Settings in pyproject.toml's `[tool.review-lint]`: the keys, validation and lines of
`.review-lint.yaml`, which wins when both exist; a pyproject.toml without our table
never stops a run."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from review_lint import pyproject, registry
from review_lint.config import Settings, load_settings, option_groups, top_level_keys
from tests.test_cli import VIOLATION, make_project, run_cli
from tests.test_config_errors import refused

# One value for each top-level key that is not an option group; a key added to the
# configuration fails test_every_top_level_key_reads_the_same_from_pyproject until it has one.
SAMPLES = {
    "exclude": ["migrations/**"],
    "test-paths": ["checks/**"],
    "per-file-ignores": {"scripts/**": ["RL900"], "bin/*.py": "any-assert"},
    "rules": {"RL900": {"enabled": False, "severity": "info", "message": "no asserts here"},
              "any-assert": {"skip-tests": False}},
}


def sample_option(type_name: str, default):
    """A value of the option's type that is not its default."""
    samples = {"bool": lambda: not default, "int": lambda: (default or 0) + 1, "str": lambda: "sample",
               "list[str]": lambda: ["sample_*"], "dict[str,str]": lambda: {"sample": "value"}}
    return samples[type_name.removesuffix("|null")]()


def sample(key: str, specs):
    if key in SAMPLES:
        return SAMPLES[key]
    groups = option_groups(specs)
    assert key in groups, f"{key}: a new top-level key: give it a sample in SAMPLES"
    return {name: sample_option(takers[0][1].type, takers[0][1].default) for name, takers in groups[key].items()}


def toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + "}"


def without_source(settings: Settings) -> Settings:
    return dataclasses.replace(settings, source=None)


@pytest.mark.parametrize("key", sorted(top_level_keys(registry.load_specs())))
def test_every_top_level_key_reads_the_same_from_pyproject(tmp_path, key):
    specs = registry.load_specs()
    value = sample(key, specs)
    (tmp_path / ".review-lint.yaml").write_text(yaml.safe_dump({key: value}))
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "shop"\n\n[tool.review-lint]\n{key} = {toml(value)}\n')
    from_yaml = without_source(load_settings(tmp_path / ".review-lint.yaml", specs))
    from_toml = without_source(load_settings(tmp_path / "pyproject.toml", specs))
    assert from_toml == from_yaml
    assert from_toml != without_source(load_settings(None, specs))  # the sample did change something


WRONG = {
    "unknown top key": ("[tool.review-lint]\nexclude = []\nexclud = []\n",
                        "3: exclud: unknown key (expected one of database, exclude, per-file-ignores, rules, "
                        "test-paths, web)"),
    "option in a rule's sub-table": ("[tool.review-lint]\nexclude = []\n\n[tool.review-lint.rules.RL900]\n"
                                     "message = 'm'\nskip_tests = true\n",
                                     "6: rules.RL900.skip_tests: unknown option (known: enabled, severity, skip-tests, "
                                     "message)"),
    "dotted key": ("[tool.review-lint]\nexclude = []\nrules.RL900.severity = 'fatal'\n",
                   "3: rules.RL900.severity: must be one of error, warning, info"),
    "dotted key from [tool]": ("[tool]\nruff.line-length = 100\nreview-lint.test-paths = 'tests'\n",
                               "3: test-paths: must be a list of glob strings"),
    "inline table": ("[tool.review-lint]\nrules = { RL900 = { enabled = 'no' } }\n",
                     "2: rules.RL900.enabled: must be true or false"),
    "multi-line array": ("[tool.review-lint]\nexclude = [\n  'a',\n  3,\n]\n",
                         "2: exclude: must be a list of glob strings"),
    "group option of the wrong type": ("[tool.review-lint.database]\n\nreceivers = 'store'\n",
                                       "3: database.receivers: must be list[str], got str"),
    "unknown rule under a quoted key": ('[tool.review-lint.per-file-ignores]\n"a.py" = ["RL900"]\n"b.py" = ["RL777"]\n',
                                        "3: per-file-ignores.b.py: unknown rule RL777"),
    "a date": ("[tool.review-lint.rules.any-assert]\nmessage = 1979-05-27\n",
               "2: rules.any-assert.message: must be str, got date"),
    "not a table": ("[tool]\nreview-lint = 3\n", "2: tool.review-lint: must be a table"),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_a_mistake_names_pyproject_the_line_and_the_key(tmp_path, case):
    assert refused(tmp_path, WRONG[case][0], "pyproject.toml") == WRONG[case][1]


def test_a_key_whose_line_is_not_found_is_reported_at_the_table_header(tmp_path, monkeypatch):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "shop"\n\n[tool.review-lint]\nrules = { RL900 = { enabled = "no" } }\n')
    monkeypatch.setattr(pyproject, "key_lines", lambda text: {("tool", "review-lint"): 4})
    assert refused(tmp_path, path.read_text(), "pyproject.toml") == "4: rules.RL900.enabled: must be true or false"


def test_the_line_scan_follows_strings_comments_and_arrays():
    text = ('[project]\ndescription = """\n[tool.review-lint]\nexclude = 3\n"""\n'
            "keywords = ['a', # not the end ]\n  \"b\"]\n\n"
            "[tool.'review-lint'.rules]\nRL900.message = \"it's\"\nRL001 = {severity = \"info\", enabled = true}\n")
    assert pyproject.tomllib.loads(text)["tool"]["review-lint"]["rules"]["RL001"]["enabled"] is True
    lines = pyproject.key_lines(text)
    assert lines[("tool", "review-lint")] == lines[("tool", "review-lint", "rules")] == 9
    assert lines[("tool", "review-lint", "rules", "RL900", "message")] == 10
    assert lines[("tool", "review-lint", "rules", "RL001", "enabled")] == 11
    assert ("tool", "review-lint", "exclude") not in lines  # that was inside a string


def test_the_line_scan_never_raises_on_what_it_cannot_follow():
    assert pyproject.key_lines("[tool.review-lint]\nx = {{{{\n") == {("tool",): 1, ("tool", "review-lint"): 1,
                                                                     ("tool", "review-lint", "x"): 2}


# -- the command line ------------------------------------------------------------------
PYPROJECT = '[project]\nname = "shop"\n\n[tool.review-lint]\nexclude = ["legacy/**"]\n\n' \
            '[tool.review-lint.rules.any-assert]\nmessage = "no asserts in views"\n'


def test_pyproject_settings_configure_the_run(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION, "legacy/old.py": VIOLATION}, config=None)
    (root / "pyproject.toml").write_text(PYPROJECT)
    done = run_cli(["check", "."], root)
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout == "app/views.py:2:5: RL900 [any-assert] no asserts in views: x\nFound 1 finding in 1 file checked.\n"


def test_a_mistake_in_pyproject_is_one_line_naming_the_file_the_line_and_the_key(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION}, config=None)
    (root / "pyproject.toml").write_text(PYPROJECT + "severity = 'loud'\n")
    done = run_cli(["check", "."], root)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"review-lint: error: {root / 'pyproject.toml'}:9: rules.any-assert.severity: "
                           "must be one of error, warning, info\n")


def test_review_lint_yaml_wins_over_pyproject_and_verbose_says_so(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION, "legacy/old.py": VIOLATION}, config="exclude: []\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    done = run_cli(["check", ".", "-q"], root)
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout == ("app/views.py:2:5: RL900 [any-assert] assert statement: x\n"
                           "legacy/old.py:2:5: RL900 [any-assert] assert statement: x\n")
    verbose = run_cli(["check", ".", "-q", "--verbose"], root)
    assert verbose.stdout == done.stdout
    assert verbose.stderr.splitlines()[0] == ("review-lint: .review-lint.yaml wins over [tool.review-lint] in "
                                              "pyproject.toml (line 4), which is not read")  # then LibCST's status


def test_a_pyproject_that_does_not_parse_stops_the_run_only_when_it_has_our_table(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION}, config=None)
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.review-lint]\nexclude = ["a",\n')
    done = run_cli(["check", "."], root)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"review-lint: error: {root / 'pyproject.toml'}:5: invalid TOML: "
                           "Invalid value\n")
    # Another tool's broken table is that tool's business: the run goes on (--verbose says why nothing was read).
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.ruff]\nline-length = \n')
    done = run_cli(["check", ".", "-q"], root)
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout == "app/views.py:2:5: RL900 [any-assert] assert statement: x\n"
    assert run_cli(["check", ".", "-q", "-v"], root).stderr.splitlines()[0] == (
        f"review-lint: {root / 'pyproject.toml'}:5: invalid TOML: Invalid value; no settings read from it")


def test_a_folder_with_only_pyproject_is_the_project_root(tmp_path):
    # The outer folder's configuration is not the inner project's: pyproject.toml marks the root.
    outer = make_project(tmp_path, {}, config="rules:\n  RL900:\n    message: outer\n")
    inner = outer / "service"
    (inner / "app").mkdir(parents=True)
    (inner / "app" / "views.py").write_text(VIOLATION)
    (inner / "pyproject.toml").write_text('[tool.review-lint.rules.RL900]\nmessage = "inner"\n')
    assert run_cli(["check", ".", "-q"], inner).stdout == "app/views.py:2:5: RL900 [any-assert] inner: x\n"
    assert run_cli(["check", "service/app/views.py", "-q"], outer).stdout == (
        "service/app/views.py:2:5: RL900 [any-assert] inner: x\n")


def test_config_takes_any_toml_file_with_our_table(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION}, config=None)
    (root / "lint.toml").write_text(PYPROJECT)
    (root / "other.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert run_cli(["check", ".", "-q", "--config", "lint.toml"], root).stdout == (
        "app/views.py:2:5: RL900 [any-assert] no asserts in views: x\n")
    done = run_cli(["check", ".", "--config", "other.toml"], root)
    assert (done.returncode, done.stderr) == (2, f"review-lint: error: {root / 'other.toml'}: no [tool.review-lint] table\n")
