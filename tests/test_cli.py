"""The command line as a user meets it: output lines, exit codes, errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from review_lint.cli import cli

VIOLATION = "def handler(x):\n    assert x\n    return x\n"


def make_project(tmp_path: Path, files: dict[str, str], config: str | None = "") -> Path:
    root = tmp_path / "proj"
    root.mkdir(parents=True)
    if config is not None:
        (root / ".review-lint.yaml").write_text(config)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The real process: exit codes and stderr exactly as a shell sees them."""
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "review_lint.cli", *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def invoke(args: list[str], cwd: Path):
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_text_output_is_one_finding_per_line_with_a_summary(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION})
    done = run_cli(["check", "."], root)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "app/views.py:2:5: RL900 [any-assert] assert statement: x"
    assert lines[-1] == "Found 1 finding in 1 file checked."
    assert "\x1b[" not in done.stdout  # no colour in a pipe


def test_paths_are_relative_to_the_current_directory(tmp_path):
    make_project(tmp_path, {"app/views.py": VIOLATION})
    done = run_cli(["check", "proj"], tmp_path)
    assert done.stdout.splitlines()[0].startswith("proj/app/views.py:2:5: RL900")


def test_clean_project_exits_zero(tmp_path):
    root = make_project(tmp_path, {"app/views.py": "def f():\n    return 1\n"})
    done = run_cli(["check"], root)
    assert done.returncode == 0
    assert "no findings" in done.stdout


def test_exit_zero_and_quiet(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION})
    done = run_cli(["check", ".", "--exit-zero", "--quiet"], root)
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["app/views.py:2:5: RL900 [any-assert] assert statement: x"]


def test_json_output_matches_the_documented_schema(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION})
    done = run_cli(["check", "app", "--format", "json"], root)
    document = json.loads(done.stdout)
    assert document["version"] == 1
    assert document["tool"]["name"] == "review-lint"
    assert document["summary"] == {"files": 1, "findings": 1, "by_rule": {"RL900": 1}}
    [diagnostic] = document["diagnostics"]
    assert diagnostic == {
        "path": "app/views.py",
        "line": 2,
        "column": 5,
        "end_line": 2,
        "end_column": 13,
        "rule": "RL900",
        "name": "any-assert",
        "severity": "warning",
        "message": "assert statement: x",
        "related": [],
        "fix": None,
    }


def test_output_file_and_statistics(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION, "b.py": VIOLATION})
    done = run_cli(["check", ".", "--output", "report.txt", "--statistics"], root)
    assert done.returncode == 1 and done.stdout == ""
    report = (root / "report.txt").read_text()
    assert "    2  RL900  any-assert" in report


def test_select_and_ignore_accept_codes_and_names(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION})
    assert run_cli(["check", "--ignore", "any-assert"], root).returncode == 0
    assert run_cli(["check", "--ignore", "RL900"], root).returncode == 0
    assert run_cli(["check", "--select", "rl900"], root).returncode == 1


def test_severity_and_options_come_from_the_project_config(tmp_path):
    config = "rules:\n  any-assert:\n    severity: info\n    message: no asserts here\n"
    root = make_project(tmp_path, {"a.py": VIOLATION}, config)
    document = json.loads(run_cli(["check", "--format", "json"], root).stdout)
    [diagnostic] = document["diagnostics"]
    assert diagnostic["severity"] == "info"
    assert diagnostic["message"] == "no asserts here: x"


def test_disabled_rule_and_per_file_ignores_and_exclude(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION}, "rules:\n  RL900:\n    enabled: false\n")
    assert run_cli(["check"], root).returncode == 0
    config = "per-file-ignores:\n  'legacy/*.py': [RL900]\nexclude: ['gen/**']\n"
    root = make_project(tmp_path / "two", {"legacy/a.py": VIOLATION, "gen/b.py": VIOLATION, "c.py": VIOLATION}, config)
    done = run_cli(["check", "--quiet"], root)
    assert done.stdout.splitlines() == ["c.py:2:5: RL900 [any-assert] assert statement: x"]


def test_test_paths_are_configurable(tmp_path):
    files = {"tests/test_a.py": VIOLATION, "checks/b.py": VIOLATION}
    root = make_project(tmp_path, files, "test-paths: ['checks/**']\n")
    done = run_cli(["check", "--quiet"], root)
    assert done.stdout.splitlines() == ["tests/test_a.py:2:5: RL900 [any-assert] assert statement: x"]


def test_default_test_paths_skip_tests_and_conftest(tmp_path):
    files = {"tests/test_a.py": VIOLATION, "pkg/conftest.py": VIOLATION, "pkg/x_test.py": VIOLATION,
             "pkg/test_y.py": VIOLATION}
    root = make_project(tmp_path, files)
    assert run_cli(["check"], root).returncode == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "missing-dir"], "review-lint: error: path does not exist: missing-dir"),
        (["check", "--select", "RL123"], "review-lint: error: --select: unknown rule 'RL123' (see `review-lint rules`)"),
        (["check", "--format", "xml"], "review-lint: error: Invalid value for '--format'"),
        (["check", "--no-such-flag"], "review-lint: error: No such option '--no-such-flag'"),
        (["rule", "RL123"], "review-lint: error: unknown rule 'RL123' (see `review-lint rules`)"),
        (["check", "--config", "nope.yaml"], "review-lint: error: configuration file not found: nope.yaml"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path, args, message):
    root = make_project(tmp_path, {"a.py": VIOLATION})
    done = run_cli(args, root)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_config_error_names_file_line_and_key(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION}, "rules:\n  RL900:\n    severity: loud\n")
    done = run_cli(["check"], root)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"review-lint: error: {root / '.review-lint.yaml'}:3: rules.RL900.severity: must be one of error, warning, info"
    )


def test_syntax_error_is_a_diagnostic_and_the_run_goes_on(tmp_path):
    root = make_project(tmp_path, {"bad.py": "def f(:\n    pass\n", "good.py": VIOLATION})
    done = run_cli(["check", "--quiet"], root)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "bad.py:1:7: RL000 [syntax-error] syntax error: invalid syntax",
        "good.py:2:5: RL900 [any-assert] assert statement: x",
    ]


def test_encodings_pep263_bom_and_undecodable(tmp_path):
    root = make_project(tmp_path, {})
    (root / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ndef f(x):\n    assert x, '\xe9t\xe9'\n")
    (root / "bom.py").write_bytes(b"\xef\xbb\xbfdef f(x):\n    assert x\n")
    (root / "broken.py").write_bytes(b"def f(x):\n    return '\xff\xfe'\n")
    done = run_cli(["check", "--quiet"], root)
    assert done.stdout.splitlines() == [
        "bom.py:2:5: RL900 [any-assert] assert statement: x",
        "broken.py:2:13: RL000 [syntax-error] cannot decode the file: 'utf-8' codec can't decode byte 0xff in "
        "position 22: invalid start byte",
        "latin.py:3:5: RL900 [any-assert] assert statement: x",
    ]


def test_colour_only_on_a_tty_and_never_with_no_color(tmp_path, monkeypatch):
    from review_lint import cli as cli_module

    class Tty:
        def isatty(self):
            return True

    assert cli_module._colour(Tty()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli_module._colour(Tty()) is False


def test_rules_lists_and_rule_prints_docs(tmp_path):
    listing = invoke(["rules"], tmp_path)
    assert listing.exit_code == 0
    assert any(line.startswith("RL900  any-assert") for line in listing.output.splitlines())
    doc = invoke(["rule", "any-assert"], tmp_path)
    assert doc.exit_code == 0
    for heading in ("## What it does", "## Why it matters", "## Example", "## Use instead", "## Options"):
        assert heading in doc.output


HANDLER = '''from fastapi import APIRouter

router = APIRouter()


@router.get("/items/{item_id}")
def read_item(item_id: int):
    item = find(item_id)
    assert item is not None, "no such item"  # keep this comment
    return item


def find(item_id):
    return None
'''


def test_diff_shows_the_fix_and_changes_nothing(tmp_path):
    root = make_project(tmp_path, {"app.py": HANDLER})
    done = run_cli(["check", "--select", "RL001", "--diff"], root)
    assert done.returncode == 1
    assert done.stdout.splitlines()[:2] == ["--- a/app.py", "+++ b/app.py"]
    assert '-    assert item is not None, "no such item"  # keep this comment' in done.stdout
    assert "+    if item is None:  # keep this comment" in done.stdout
    assert '+        raise RuntimeError("no such item")' in done.stdout
    assert (root / "app.py").read_text() == HANDLER


def test_fix_rewrites_reports_what_remains_and_is_idempotent(tmp_path):
    root = make_project(tmp_path, {"app.py": HANDLER})
    done = run_cli(["check", "--select", "RL001", "--fix"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Fixed 1 finding(s) in 1 file." in done.stderr
    fixed = (root / "app.py").read_text()
    assert 'if item is None:  # keep this comment\n        raise RuntimeError("no such item")\n' in fixed
    again = run_cli(["check", "--select", "RL001", "--fix"], root)
    assert again.returncode == 0 and (root / "app.py").read_text() == fixed


def test_progress_only_on_a_terminal_outside_ci_and_not_quiet(monkeypatch):
    from review_lint import cli as cli_module

    class Tty:
        def isatty(self):
            return True

        def write(self, text):
            pass

        def flush(self):
            pass

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(cli_module.sys, "stderr", Tty())
    assert cli_module._Progress(enabled=True).enabled
    assert not cli_module._Progress(enabled=False).enabled  # --quiet
    monkeypatch.setenv("CI", "true")
    assert not cli_module._Progress(enabled=True).enabled
    monkeypatch.delenv("CI")
    monkeypatch.setattr(cli_module.sys, "stderr", open(os.devnull, "w"))  # a pipe or a file
    assert not cli_module._Progress(enabled=True).enabled


def test_no_progress_bar_in_pipes(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION})
    done = run_cli(["check"], root)
    assert done.stderr == ""


def test_main_called_by_an_embedder_keeps_nothing_alive_after_it_returns(tmp_path, monkeypatch):
    from review_lint import cli as cli_module

    root = make_project(tmp_path, {"app.py": VIOLATION})
    monkeypatch.chdir(root)
    for _ in range(2):
        with pytest.raises(SystemExit) as done:
            cli_module.main(["check", ".", "--select", "RL900", "--no-cache", "--jobs", "1", "--quiet"])
        assert done.value.code == 1
    # Only the `review-lint` command, which ends with os._exit, keeps its results
    # until the end instead of freeing them.
    assert cli_module._RETAINED == [] and not cli_module._EXIT_WITHOUT_TEARDOWN


def test_an_output_file_gets_the_permissions_of_a_new_file_or_keeps_its_own(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION})
    umask = os.umask(0o022)
    os.umask(umask)
    run_cli(["check", ".", "--output", "new.txt"], root)
    assert stat.S_IMODE((root / "new.txt").stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0o600
    (root / "shared.txt").write_text("old")
    (root / "shared.txt").chmod(0o664)
    run_cli(["check", ".", "--output", "shared.txt"], root)
    assert stat.S_IMODE((root / "shared.txt").stat().st_mode) == 0o664
    assert "assert" in (root / "shared.txt").read_text()


def test_an_output_fifo_stays_a_fifo_and_a_symlink_stays_a_link(tmp_path):
    # `--output /dev/null` is the everyday case; a FIFO is the same kind of file a test
    # can make: renaming a report over it would replace it with a regular file.
    import threading

    root = make_project(tmp_path, {"app/views.py": VIOLATION})
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    run_cli(["check", ".", "--output", str(fifo)], root)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received and "assert" in received[0]

    (tmp_path / "reports").mkdir()
    link = root / "latest.txt"
    link.symlink_to(tmp_path / "reports" / "latest.txt")
    run_cli(["check", ".", "--output", "latest.txt"], root)
    assert link.is_symlink()
    assert "assert" in (tmp_path / "reports" / "latest.txt").read_text()
