"""`# review-lint: skip-file` on a line of its own hides every finding in that file;
the file still counts for the rest of the project (its calls, its models)."""

from __future__ import annotations

from tests.test_cli import VIOLATION, make_project, run_cli


def test_skip_file_anywhere_hides_every_finding_in_that_file_only(tmp_path):
    skipped = "def handler(x):\n    assert x\n    # review-lint: skip-file  (generated code)\n    assert x\n"
    root = make_project(tmp_path, {"gen/api.py": skipped, "app.py": VIOLATION})
    for _ in range(2):  # the second run reads the facts from the cache
        done = run_cli(["check", "."], root)
        assert (done.returncode, done.stderr) == (1, "")
        assert done.stdout == "app.py:2:5: RL900 [any-assert] assert statement: x\nFound 1 finding in 2 files checked.\n"


def test_only_a_comment_of_its_own_line_skips_the_file(tmp_path):
    not_skipping = {
        "after_code.py": "def f(x):\n    assert x  # review-lint: skip-file\n",
        "in_a_string.py": 'def f(x):\n    """\n# review-lint: skip-file\n"""\n    assert x\n',
        "with_codes.py": "# review-lint: skip-file[RL900]\ndef f(x):\n    assert x\n",
    }
    root = make_project(tmp_path, {**not_skipping, "skipped.py": "def f(x):\n    assert x\n# review-lint: skip-file\n"})
    assert run_cli(["check", ".", "-q"], root).stdout == (
        "after_code.py:2:5: RL900 [any-assert] assert statement: x\n"
        "in_a_string.py:5:5: RL900 [any-assert] assert statement: x\n"
        "with_codes.py:3:5: RL900 [any-assert] assert statement: x\n")


def test_a_skipped_file_is_still_part_of_the_call_graph(tmp_path):
    views = ("# review-lint: skip-file\nfrom fastapi import APIRouter\n\nfrom app.helpers import load\n\n"
             "router = APIRouter()\n\n\n@router.get('/orders/{order_id}')\nasync def show_order(order_id: int):\n"
             "    assert order_id\n    return load(order_id)\n")
    helpers = "def load(order_id):\n    assert order_id > 0\n    return {'id': order_id}\n"
    root = make_project(tmp_path, {"app/__init__.py": "", "app/views.py": views, "app/helpers.py": helpers})
    done = run_cli(["check", ".", "--select", "RL001"], root)
    assert done.returncode == 1
    assert done.stdout == (
        "app/helpers.py:2:5: RL001 [*] [assert-in-handler] assert on the request path of `show_order` (via `load`) is "
        "removed under `python -O`; raise an explicit error\n"
        "    app/views.py:10:1: request handler `show_order`: route decorator `router.get`\n"
        "    app/views.py:12:12: `show_order` calls `load`\n"
        "Found 1 finding in 3 files checked.\n"
        "[*] 1 fixable with `--fix` (`--diff` shows the changes).\n")
