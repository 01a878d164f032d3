"""--diff-base REF: only findings on lines a branch added or changed, on a real two-branch repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitrepo import commit, git, make_repo, run, write
from review_lint.changed_lines import parse_diff

LEGACY = "def f(x):\n    assert x\n" + "".join(f"\n\ndef unchanged_{i}():\n    return {i}\n" for i in range(8))

BASE = {
    "pkg/__init__.py": "",
    "pkg/models.py": """\
        class Order:
            total: int = 0
        """,
    "pkg/app.py": """\
        def old(x):
            assert x  # an old line: hidden


        def helper():
            return 1
        """,
    "pkg/views.py": """\
        from pkg.models import Order


        def build():
            return Order()  # an old construction: hidden
        """,
    "pkg/legacy.py": LEGACY,
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", BASE)
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {
        "pkg/app.py": """\
            def old(x):
                assert x  # an old line: hidden


            def helper(y):
                assert y  # a changed line: shown
                return 1
            """,
        "pkg/views.py": """\
            from pkg.models import Order


            def build():
                return Order()  # an old construction: hidden


            def rebuild():
                return Order()  # a new construction: its finding is on models.py, related here
            """,
        "pkg/jobs.py": "from pkg.models import Order\n\n\ndef job():\n    return Order()\n",
    })
    git(repo, "mv", "pkg/legacy.py", "pkg/renamed.py")
    (repo / "pkg/renamed.py").write_text(LEGACY + "\n\ndef g(y):\n    assert y\n", encoding="utf-8")
    commit(repo, "feature work")
    # main moves on after the branch point: its edits are not the branch's.
    git(repo, "checkout", "-q", "main")
    write(repo, {"pkg/app.py": BASE["pkg/app.py"].replace("hidden", "hidden, edited on main")})
    commit(repo, "main moves on")
    git(repo, "checkout", "-q", "feature")
    # Uncommitted work counts too: an edit and a file git does not track yet.
    (repo / "pkg/models.py").write_text("class Order:\n    total: int = 0\n\n\nassert Order  # uncommitted\n")
    (repo / "pkg/scratch.py").write_text("assert 1  # untracked\n", encoding="utf-8")
    return repo


def findings(repo: Path, *args: str) -> set[tuple[str, int, str]]:
    done = run(repo, "check", ".", "--select", "RL900,RL901", "--format", "json", "--no-cache", "-j", "1", *args)
    assert done.returncode in (0, 1), done.stderr
    return {(d["path"], d["line"], d["rule"]) for d in json.loads(done.stdout)["diagnostics"]}


def test_everything_without_diff_base(repo: Path) -> None:
    assert findings(repo) == {
        ("pkg/app.py", 2, "RL900"), ("pkg/app.py", 6, "RL900"), ("pkg/renamed.py", 2, "RL900"),
        ("pkg/renamed.py", 38, "RL900"), ("pkg/models.py", 5, "RL900"), ("pkg/scratch.py", 1, "RL900"),
        ("pkg/models.py", 1, "RL901"),
    }


def test_only_what_the_branch_introduced(repo: Path) -> None:
    done = run(repo, "check", ".", "--select", "RL900,RL901", "--format", "json", "--no-cache", "-j", "1",
               "--diff-base", "main")
    diagnostics = json.loads(done.stdout)["diagnostics"]
    shown = {(d["path"], d["line"], d["rule"]) for d in diagnostics}
    assert shown == {
        ("pkg/app.py", 6, "RL900"),  # a changed line
        ("pkg/renamed.py", 38, "RL900"),  # added to a renamed file; its old assert on line 2 stays hidden
        ("pkg/models.py", 5, "RL900"),  # uncommitted edit
        ("pkg/scratch.py", 1, "RL900"),  # untracked file: every line counts
        ("pkg/models.py", 1, "RL901"),  # primary on an old line, related on changed lines
    }
    assert done.returncode == 1


def test_related_location_alone_keeps_a_finding(repo: Path) -> None:
    # Drop the uncommitted and untracked work: models.py is then entirely old.
    git(repo, "checkout", "-q", "--", "pkg/models.py")
    (repo / "pkg/scratch.py").unlink()
    diagnostics = json.loads(run(repo, "check", ".", "--select", "RL901", "--format", "json", "--no-cache",
                                 "--diff-base", "main").stdout)["diagnostics"]
    # One finding per construction: the old one (views.py:5) is hidden, the two new ones are shown.
    assert sorted((d["path"], d["line"], d["related"][0]["path"], d["related"][0]["line"]) for d in diagnostics) == [
        ("pkg/models.py", 1, "pkg/jobs.py", 5), ("pkg/models.py", 1, "pkg/views.py", 9),
    ]


def test_merge_base_not_the_tip_of_ref(repo: Path) -> None:
    # Against main's tip, app.py:2 differs (main edited it), but the branch never touched it.
    assert ("pkg/app.py", 2, "RL900") not in findings(repo, "--diff-base", "main")


def test_nothing_changed_means_nothing_reported(repo: Path) -> None:
    git(repo, "checkout", "-q", "--", "pkg/models.py")
    (repo / "pkg/scratch.py").unlink()
    assert findings(repo, "--diff-base", "HEAD") == set()


def test_project_in_a_subfolder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "mono", {"svc/pyproject.toml": "", "svc/a.py": "assert 1\n", "other/b.py": "assert 2\n"})
    write(repo, {"svc/a.py": "assert 1\nassert 3\n", "other/b.py": "assert 2\nassert 4\n"})
    assert findings(repo / "svc", "--diff-base", "HEAD") == {("a.py", 2, "RL900")}


def test_unknown_ref_is_a_usage_error(repo: Path) -> None:
    done = run(repo, "check", ".", "--diff-base", "no-such-branch")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "review-lint: error: --diff-base: 'no-such-branch' is not a commit in this repository"
    ]


def test_outside_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "a.py").write_text("assert 1\n")
    done = run(tmp_path, "check", ".", "--diff-base", "main", env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "--diff-base needs a git repository" in done.stderr


def test_parse_diff_hunks_new_files_and_quoted_names() -> None:
    diff = "\n".join([
        "diff --git a/x.py b/x.py",
        "--- a/x.py",
        "+++ b/x.py",
        "@@ -3 +3 @@",
        "@@ -10,0 +11,2 @@ def f():",
        "@@ -20,2 +22,0 @@",
        'diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"',
        "--- /dev/null",
        '+++ "b/caf\\303\\251.py"',
        "@@ -0,0 +1,3 @@",
        "diff --git a/gone.py b/gone.py",
        "--- a/gone.py",
        "+++ /dev/null",
        "@@ -1,2 +0,0 @@",
    ])
    assert parse_diff(diff) == {"x.py": {3, 11, 12}, "café.py": {1, 2, 3}}
