"""`review-lint check --stdin-filename PATH -`: the text on stdin judged as that file of
its project (what editors and wrappers send: the unsaved buffer), the other files
read from disk; with --fix, the fixed text on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_cli import VIOLATION, make_project

VIEWS = '''from fastapi import APIRouter

from app.helpers import load

router = APIRouter()


@router.get("/orders/{order_id}")
async def show_order(order_id: int):
    return load(order_id)
'''
HELPERS_ON_DISK = 'def load(order_id):\n    return {"id": order_id}\n'
HELPERS_EDITED = 'def load(order_id):\n    assert order_id > 0, "positive"\n    return {"id": order_id}\n'
HELPERS_FIXED = 'def load(order_id):\n    if not (order_id > 0):\n        raise RuntimeError("positive")\n    return {"id": order_id}\n'


def run_stdin(args: list[str], cwd: Path, text: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "review_lint.cli", *args], cwd=cwd, input=text,
                          capture_output=True, text=True, env=dict(os.environ))


def service(tmp_path: Path) -> Path:
    return make_project(tmp_path, {"app/__init__.py": "", "app/views.py": VIEWS, "app/helpers.py": HELPERS_ON_DISK})


def test_stdin_is_judged_as_the_named_file_with_the_project_on_disk(tmp_path):
    root = service(tmp_path)
    done = run_stdin(["check", "--select", "RL001", "--stdin-filename", "app/helpers.py", "-"], root, HELPERS_EDITED)
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout == (
        "app/helpers.py:2:5: RL001 [*] [assert-in-handler] assert on the request path of `show_order` (via `load`) is "
        "removed under `python -O`; raise an explicit error\n"
        "    app/views.py:9:1: request handler `show_order`: route decorator `router.get`\n"
        "    app/views.py:10:12: `show_order` calls `load`\n"
        "Found 1 finding in 1 file checked.\n"
        "[*] 1 fixable with `--fix` (`--diff` shows the changes).\n")
    assert (root / "app" / "helpers.py").read_text() == HELPERS_ON_DISK


def test_only_the_stdin_file_is_reported(tmp_path):
    root = make_project(tmp_path, {"a.py": VIOLATION, "b.py": "x = 1\n"})
    done = run_stdin(["check", "--stdin-filename", "b.py", "-"], root, "def g(y):\n    assert y\n")
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout == "b.py:2:5: RL900 [any-assert] assert statement: y\nFound 1 finding in 1 file checked.\n"
    clean = run_stdin(["check", "--stdin-filename", "a.py", "-"], root, "x = 1\n")  # the disk's a.py has one
    assert (clean.returncode, clean.stdout) == (0, "All clear: 1 file checked, no findings.\n")


def test_the_cache_never_takes_stdin_for_the_file_on_disk(tmp_path):
    root = make_project(tmp_path, {"a.py": "x = 1\n"})
    for _ in range(2):  # the second round runs warm
        assert run_stdin(["check", "-q", "--stdin-filename", "a.py", "-"], root, VIOLATION).stdout == (
            "a.py:2:5: RL900 [any-assert] assert statement: x\n")
        disk = run_stdin(["check", "-q", "a.py"], root, "")
        assert (disk.returncode, disk.stdout) == (0, "")
    assert (root / ".review-lint-cache").is_dir()


def test_without_paths_stdin_filename_reads_stdin_as_ruff_does(tmp_path):
    root = make_project(tmp_path, {"a.py": "x = 1\n"})
    done = run_stdin(["check", "-q", "--stdin-filename", "a.py"], root, VIOLATION)
    assert (done.returncode, done.stdout) == (1, "a.py:2:5: RL900 [any-assert] assert statement: x\n")


def test_a_file_not_yet_on_disk_is_judged(tmp_path):
    root = make_project(tmp_path, {"a.py": "x = 1\n"})
    done = run_stdin(["check", "--stdin-filename", "new/b.py", "-"], root, VIOLATION)
    assert done.stdout == "new/b.py:2:5: RL900 [any-assert] assert statement: x\nFound 1 finding in 1 file checked.\n"


def test_fix_prints_the_fixed_text_and_nothing_else_on_stdout(tmp_path):
    root = service(tmp_path)
    done = run_stdin(["check", "--select", "RL001", "--fix", "--stdin-filename", "app/helpers.py", "-"], root,
                     HELPERS_EDITED)
    assert (done.returncode, done.stdout) == (0, HELPERS_FIXED)
    assert done.stderr == "Fixed 1 finding(s) in 1 file.\nAll clear: 1 file checked, no findings.\n"
    assert (root / "app" / "helpers.py").read_text() == HELPERS_ON_DISK  # stdin's fix is never written


def test_fix_with_nothing_to_fix_prints_the_text_unchanged_and_reports_on_stderr(tmp_path):
    root = make_project(tmp_path, {"a.py": "x = 1\n"})
    done = run_stdin(["check", "--fix", "--stdin-filename", "a.py", "-"], root, VIOLATION)  # RL900 has no fix
    assert (done.returncode, done.stdout) == (1, VIOLATION)
    assert done.stderr == "a.py:2:5: RL900 [any-assert] assert statement: x\nFound 1 finding in 1 file checked.\n"


def test_the_diff_of_stdin_goes_to_stdout(tmp_path):
    root = service(tmp_path)
    done = run_stdin(["check", "--select", "RL001", "--diff", "--stdin-filename", "app/helpers.py", "-"], root,
                     HELPERS_EDITED)
    assert done.returncode == 1
    assert done.stdout.startswith("--- a/app/helpers.py\n+++ b/app/helpers.py\n")
    assert '+        raise RuntimeError("positive")\n' in done.stdout


def test_stdin_usage_mistakes_are_one_line(tmp_path):
    root = make_project(tmp_path, {"a.py": "x = 1\n"})
    cases = {
        ("check", "-"): "`-` reads the file from stdin: name it with --stdin-filename PATH",
        ("check", "--stdin-filename", "a.py", "a.py"): "--stdin-filename names the text read from stdin: give `-` "
                                                       "as the only path",
        ("check", "--stdin-filename", "a.py", "-", "a.py"): "`-` (stdin) cannot be combined with other paths",
        ("check", "--stdin-filename", ".", "-"): "--stdin-filename: is a folder: .",
    }
    for args, message in cases.items():
        done = run_stdin(list(args), root, VIOLATION)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", f"review-lint: error: {message}\n"), args
