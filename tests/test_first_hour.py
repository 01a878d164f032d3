"""What a new user meets in the first hour, each as the shell shows it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import VIOLATION, make_project, run_cli

REPO = Path(__file__).resolve().parent.parent


def test_settings_in_pyproject_are_read_and_a_typo_names_its_line(tmp_path):
    root = make_project(tmp_path, {"app/views.py": VIOLATION}, config=None)
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.review-lint.rules.RL900]\nenabled = false\n')
    done = run_cli(["check", "."], root)
    assert (done.returncode, done.stdout, done.stderr) == (0, "All clear: 1 file checked, no findings.\n", "")
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.review-lint.rules.RL900]\nenabeld = false\n')
    done = run_cli(["check", "."], root)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"review-lint: error: {root / 'pyproject.toml'}:5: rules.RL900.enabeld: unknown option "
                           "(known: enabled, severity, skip-tests, message)\n")
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.ruff]\nline-length = 100\n')
    assert run_cli(["check", "."], root).returncode == 1  # other tools' tables are not ours


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_diff_applies_with_git_from_the_folder_it_was_made_in(tmp_path):
    # The demo service is its own project (it has its own configuration) inside a repository.
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples", repo / "examples")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for command in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-qm", "demo"]):
        subprocess.run(command, cwd=repo, check=True, env=env)
    done = subprocess.run([sys.executable, "-m", "review_lint.cli", "check", "examples", "--diff"], cwd=repo,
                          capture_output=True, text=True, env={**os.environ, "REVIEW_LINT_RULES_PATH": ""})
    assert done.returncode == 1 and "+++ b/examples/workerhub/frames.py" in done.stdout
    (repo / "d.patch").write_text(done.stdout)
    checked = subprocess.run(["git", "apply", "--check", "d.patch"], cwd=repo, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_a_script_without_the_py_suffix_is_checked_when_named_and_other_files_are_said_to_be_skipped(tmp_path):
    root = make_project(tmp_path, {"bin/serve": "#!/usr/bin/env python3\n" + VIOLATION, "notes.txt": "hello\n"})
    done = run_cli(["check", "bin/serve", "notes.txt"], root)
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["bin/serve:3:5: RL900 [any-assert] assert statement: x",
                                        "Found 1 finding in 1 file checked."]
    assert done.stderr == ("review-lint: warning: notes.txt: not checked: not a Python file (no .py suffix or "
                           "python shebang)\n")


def test_a_run_over_no_python_file_warns_instead_of_saying_all_clear(tmp_path):
    root = make_project(tmp_path, {"docs/readme.md": "# hi\n"})
    done = run_cli(["check", "docs"], root)
    assert done.returncode == 0
    assert done.stdout == "No Python files checked.\n"
    assert done.stderr == "review-lint: warning: no Python files to check in docs\n"


def test_statistics_print_the_counts_instead_of_the_findings(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION, "b.py": VIOLATION})
    assert run_cli(["check", ".", "--statistics"], root).stdout == (
        "    2  RL900  any-assert\nFound 2 findings in 2 files checked.\n")
    assert run_cli(["check", ".", "--statistics", "-q"], root).stdout == "    2  RL900  any-assert\n"


def test_what_fix_can_rewrite_is_marked_as_ruff_marks_it(tmp_path):
    views = ("from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/')\nasync def home(user):\n"
             "    assert user\n    return user\n")
    root = make_project(tmp_path, {"app/views.py": views})
    done = run_cli(["check", "."], root)
    assert done.returncode == 1
    assert done.stdout == (
        "app/views.py:8:5: RL001 [*] [assert-in-handler] assert in request handler `home` is removed under "
        "`python -O`; raise an explicit error\n"
        "    app/views.py:7:1: request handler `home`: route decorator `router.get`\n"
        "app/views.py:8:5: RL900 [any-assert] assert statement: user\n"
        "Found 2 findings in 1 file checked.\n"
        "[*] 1 fixable with `--fix` (`--diff` shows the changes).\n")
    assert run_cli(["check", ".", "--statistics"], root).stdout == (
        "    1  RL001  [*] assert-in-handler\n"
        "    1  RL900  [ ] any-assert\n"
        "Found 2 findings in 1 file checked.\n"
        "[*] 1 fixable with `--fix` (`--diff` shows the changes).\n")


def test_a_suppression_comment_takes_the_rule_name_as_config_does(tmp_path):
    source = ("def handler(x):\n    assert x  # review-lint: ignore[any-assert]\n"
              "    assert x  # noqa: any-assert, RL001\n    assert x  # review-lint: ignore[assert-in-handler]\n")
    root = make_project(tmp_path, {"a.py": source})
    done = run_cli(["check", ".", "-q"], root)
    assert done.stdout == "a.py:4:5: RL900 [any-assert] assert statement: x\n"  # another rule's name hides nothing


def test_the_text_output_shows_the_places_that_explain_a_finding(tmp_path):
    done = run_cli(["check", "examples", "--select", "RL001,RL002", "-q"], REPO)
    lines = done.stdout.splitlines()
    at = lines.index("examples/workerhub/protocol.py:17:5: RL002 [optional-field-always-populated] `ReadyPayload."
                     "worker_id` is declared `UUID | None`, but the only construction site gives it a value that "
                     "cannot be None; make the field required or stop sending it; `worker.id` may expose an "
                     "internal identifier to clients")
    assert lines[at + 1] == "    examples/workerhub/frames.py:39:12: `ReadyPayload` built here sets `worker_id` to `worker.id`"
    handler = [line for line in lines if line.startswith("    examples/workerhub/handshake.py:")]
    assert handler and "request handler `connect`" in handler[0]


def test_the_baseline_says_how_many_findings_it_hid(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION})
    assert run_cli(["baseline", "."], root).returncode == 0
    done = run_cli(["check", ".", "--baseline", ".review-lint-baseline.json"], root)
    assert done.returncode == 0
    assert done.stdout == ("All clear: 1 file checked, no findings.\n"
                           "Baseline .review-lint-baseline.json: 1 finding hidden, 0 stale entries.\n")


def test_version_has_the_short_flag(tmp_path):
    from review_lint import __version__

    for flag in ("-V", "--version"):
        assert run_cli([flag], tmp_path).stdout == f"review-lint, version {__version__}\n"


def test_select_takes_prefixes_and_all(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION})
    for selected in ("RL9", "rl90", "ALL", "RL900"):
        assert run_cli(["check", ".", "--select", selected, "-q"], root).stdout.startswith("a.py:2:5: RL900"), selected
    assert run_cli(["check", ".", "--select", "RL00", "-q"], root).stdout == ""  # RL001-RL004: nothing here
    done = run_cli(["check", ".", "--select", "RL7"], root)
    assert done.returncode == 2 and done.stderr == "review-lint: error: --select: unknown rule 'RL7' (see `review-lint rules`)\n"


@pytest.mark.parametrize("environment, coloured", [({"FORCE_COLOR": "1"}, True), ({}, False),
                                                   ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False)])
def test_force_color_colours_a_pipe_and_no_color_wins(tmp_path, monkeypatch, environment, coloured):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FORCE_COLOR", raising=False) if "FORCE_COLOR" not in environment else None
    root = make_project(tmp_path, {"a.py": VIOLATION})
    assert ("\x1b[" in run_cli(["check", "."], root).stdout) is coloured


def test_review_lint_is_clean_on_its_own_repository():
    done = subprocess.run([sys.executable, "-m", "review_lint.cli", "check", ".", "--no-cache"], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "REVIEW_LINT_RULES_PATH": ""})
    assert (done.returncode, done.stderr) == (0, ""), done.stdout
    assert done.stdout.startswith("All clear:")
