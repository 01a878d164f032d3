"""The pre-commit hook, run for real, and the project context it relies on.

pre-commit hands the hook a list of file names. The rules are cross-file, so the
engine still builds its facts from the whole project and reports only findings
whose primary location is in one of the given files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitrepo import CHECKOUT, RULE_DIRS, commit, git, make_repo, run
from review_lint.engine import Engine, Options

MODELS = "class Order:\n    total: int = 0\n"
VIEWS = "from pkg.models import Order\n\n\ndef create():\n    return Order()\n"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("REVIEW_LINT_RULES_PATH", RULE_DIRS)
    return make_repo(tmp_path / "shop", {"pkg/__init__.py": "", "pkg/models.py": MODELS, "pkg/views.py": VIEWS})


def reported(repo: Path, *paths: str) -> set[tuple[str, int, str]]:
    engine = Engine(Options(paths=list(paths), select=["RL901"]), cwd=repo)
    result = engine.run()
    assert {m.path for m in result.project.all_modules} == {"pkg/__init__.py", "pkg/models.py", "pkg/views.py"}
    return {(d.path, d.line, d.rule) for d in result.diagnostics}


def test_a_file_list_is_judged_with_the_whole_project(shop: Path) -> None:
    # The model's finding needs views.py (the construction site) although only models.py is given.
    assert reported(shop, "pkg/models.py") == {("pkg/models.py", 1, "RL901")}
    # The construction site is only a related location: given alone, it reports nothing.
    assert reported(shop, "pkg/views.py") == set()
    assert reported(shop, "pkg/views.py", "pkg/models.py") == {("pkg/models.py", 1, "RL901")}


def test_a_file_list_from_a_subfolder(shop: Path) -> None:
    done = run(shop / "pkg", "check", "models.py", "--select", "RL901", "--no-cache")
    assert done.returncode == 1, done.stderr
    assert "models.py:1:1: RL901 [constructed-elsewhere] Order is constructed in pkg/views.py" in done.stdout


def test_hook_definitions() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert hooks["review-lint"]["entry"] == "review-lint check"
    assert hooks["review-lint-fix"]["entry"] == "review-lint check --fix"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi"]
        assert hook["require_serial"] is True


def snapshot(target: Path) -> Path:
    """This checkout as it is on disk (tracked and new files alike) committed to a fresh
    repository: try-repo on a work tree takes only tracked edits, and would miss new files."""
    listed = subprocess.run(["git", "-C", str(CHECKOUT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = CHECKOUT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q", "-b", "main")
    commit(target, "snapshot of the checkout under test")
    return target


def pre_commit(repo: Path, hooks: Path, home: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "REVIEW_LINT_RULES_PATH"}
    environment.update(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "review-lint", "--all-files",
         "--verbose"],
        cwd=repo, capture_output=True, text=True, env=environment, timeout=900,
    )


@pytest.mark.skipif(not (CHECKOUT / ".git").exists(), reason="needs the git checkout of review-lint")
@pytest.mark.slow
def test_pre_commit_try_repo(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    repo = make_repo(tmp_path / "user", {"app/__init__.py": "", "app/ok.py": "x = 1\n",
                                         "app/broken.py": "def broken(:\n    pass\n"})
    home = tmp_path / "pre-commit-home"
    hooks = snapshot(tmp_path / "review-lint")
    failed = pre_commit(repo, hooks, home)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "app/broken.py:1:" in output and "RL000 [syntax-error]" in output, output
    (repo / "app/broken.py").write_text("def broken():\n    pass\n", encoding="utf-8")
    commit(repo, "fix the syntax error")
    passed = pre_commit(repo, hooks, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "review-lint" in passed.stdout and "Passed" in passed.stdout
