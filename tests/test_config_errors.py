"""A broken configuration is one line on stderr naming the file, the line and the key; exit 2.

Wrong types at every level, anchors and aliases (legitimate use works), a
"billion laughs" document (refused by the alias-expansion budget), an
oversized file, and an option given twice.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from review_lint import registry
from review_lint.config import MAX_CONFIG_BYTES, ConfigError, load_settings


def settings_from(tmp_path: Path, text: str, name: str = ".review-lint.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return load_settings(path, registry.load_specs()), path


def refused(tmp_path: Path, text: str, name: str = ".review-lint.yaml") -> str:
    """The error, after `<the file>:` (pyproject.toml's table is refused by the same code)."""
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, text, name)
    message = str(caught.value)
    path = str(tmp_path / name)
    assert message.startswith(path + ":"), message
    return message[len(path) + 1 :]


WRONG = {
    "top level a list": ("- exclude\n", "1: the configuration must be a mapping"),
    "top level a string": ("just text\n", "1: the configuration must be a mapping"),
    "unknown top key": ("exclude: []\nexclud: []\n",
                        "2: exclud: unknown key (expected one of database, exclude, per-file-ignores, rules, "
                        "test-paths, web)"),
    "database a list": ("database: [session]\n", "1: database: must be a mapping of options"),
    "database unknown option": ("database:\n  receiver: [store]\n",
                                "2: database.receiver: unknown option (known: broad-errors, insert-functions, "
                                "insert-helpers, integrity-errors, not-sessions, read-functions, read-helpers, "
                                "receivers, savepoints, session-types, upsert-methods)"),
    "database option of the wrong type": ("database:\n  receivers: store\n",
                                          "2: database.receivers: must be list[str], got str"),
    "exclude a string": ("exclude: build/\n", "1: exclude: must be a list of glob strings"),
    "exclude holds a number": ("exclude:\n  - 3\n", "1: exclude: must be a list of glob strings"),
    "test-paths a mapping": ("test-paths: {a: b}\n", "1: test-paths: must be a list of glob strings"),
    "per-file-ignores a list": ("per-file-ignores: [RL900]\n",
                                "1: per-file-ignores: must map globs to rule codes"),
    "per-file-ignores value a number": ("per-file-ignores:\n  'a.py': 3\n",
                                        "2: per-file-ignores.a.py: must be a list of rule codes or names"),
    "per-file-ignores unknown rule": ("per-file-ignores:\n  'a.py': [RL777]\n",
                                      "2: per-file-ignores.a.py: unknown rule RL777"),
    "rules a list": ("rules: [RL900]\n", "1: rules: must map rule codes or names to settings"),
    "rule settings a string": ("rules:\n  RL900: off\n", "2: rules.RL900: must be a mapping of settings"),
    "unknown rule": ("rules:\n  RL777: {enabled: false}\n", "2: rules.RL777: unknown rule"),
    "enabled a string": ("rules:\n  RL900:\n    enabled: 'no'\n", "3: rules.RL900.enabled: must be true or false"),
    "severity unknown": ("rules:\n  RL900:\n    severity: fatal\n",
                         "3: rules.RL900.severity: must be one of error, warning, info"),
    "bool option given a string": ("rules:\n  RL900:\n    skip-tests: 'yes'\n",
                                   "3: rules.RL900.skip-tests: must be bool, got str"),
    "str option given a list": ("rules:\n  any-assert:\n    message: [a]\n",
                                "3: rules.any-assert.message: must be str, got list"),
    "one-of option given another word": ("rules:\n  RL002:\n    defaulted-fields: always\n",
                                         "3: rules.RL002.defaulted-fields: must be one of forced, skip, judge, "
                                         "got 'always'"),
    "unknown option": ("rules:\n  RL900:\n    skip_tests: true\n",
                       "3: rules.RL900.skip_tests: unknown option (known: enabled, severity, skip-tests, message)"),
    "non-scalar key": ("? [a, b]\n: 1\n", "1: a key must be a plain value"),
    "invalid YAML": ("rules: [\n", "2: invalid YAML: expected the node content, but found '<stream end>'"),
    "option named twice": ("rules:\n  RL900:\n    message: a\n    message: b\n",
                           "4: message: given twice (first on line 3)"),
    "rule named twice": ("rules:\n  RL900: {}\n  RL900: {}\n", "3: RL900: given twice (first on line 2)"),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_configuration_is_refused_with_file_line_and_key(tmp_path, case):
    text, expected = WRONG[case]
    assert refused(tmp_path, text) == expected


def test_anchors_aliases_and_merge_keys_work(tmp_path):
    settings, _ = settings_from(tmp_path, """\
exclude: &generated
  - build/**
  - gen/*.py
test-paths: *generated
rules:
  RL900: &quiet
    severity: info
    skip-tests: false
  any-assert:
    <<: *quiet
    message: merged
""")
    assert settings.exclude == settings.test_paths == ["build/**", "gen/*.py"]
    rule = settings.rules["RL900"]
    assert (rule.severity, rule.options["skip-tests"], rule.options["message"]) == ("info", False, "merged")


def test_rule_named_by_code_and_by_name_is_a_conflict_that_the_last_one_wins_is_not_silent(tmp_path):
    # The same rule under its code and its name: both apply, in file order.
    settings, _ = settings_from(tmp_path, "rules:\n  RL900: {message: first}\n  any-assert: {message: second}\n")
    assert settings.rules["RL900"].options["message"] == "second"


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    started = time.monotonic()
    message = refused(tmp_path, "\n".join(lines) + "\n")
    assert message == " too many values once aliases are expanded"
    assert time.monotonic() - started < 5


def test_an_oversized_configuration_is_refused(tmp_path):
    text = "exclude:\n" + "  - x\n" * (MAX_CONFIG_BYTES // 6 + 1)
    assert refused(tmp_path, text) == f" larger than {MAX_CONFIG_BYTES} bytes"


def test_an_empty_configuration_is_the_defaults(tmp_path):
    settings, _ = settings_from(tmp_path, "# nothing yet\n")
    assert settings.rules["RL900"].options == {"skip-tests": True, "message": "assert statement"}


def test_the_cli_prints_one_line_and_exits_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "a.py").write_text("f()\n")
    (tmp_path / ".review-lint.yaml").write_text("rules:\n  RL900:\n    severity: 3\n")
    done = subprocess.run([sys.executable, "-m", "review_lint.cli", "check", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"review-lint: error: {tmp_path / '.review-lint.yaml'}:3: rules.RL900.severity: "
        "must be one of error, warning, info\n"
    )
