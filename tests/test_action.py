"""action.yml: the composite action's run step, executed with bash as a runner would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitrepo import CHECKOUT, RULE_DIRS, commit, make_repo, write

ACTION = yaml.safe_load((CHECKOUT / "action.yml").read_text(encoding="utf-8"))


def test_inputs_and_steps() -> None:
    assert set(ACTION["inputs"]) == {"paths", "config", "diff-base", "sarif-file", "baseline", "args", "version"}
    assert ACTION["inputs"]["diff-base"]["default"] == "${{ github.event.pull_request.base.sha }}"
    assert ACTION["runs"]["using"] == "composite"
    install, _ = ACTION["runs"]["steps"]
    assert '"${REVIEW_LINT_VERSION:-$GITHUB_ACTION_PATH}"' in install["run"]  # the action's own checkout by default


def run_step(repo: Path, tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    step = ACTION["runs"]["steps"][1]
    environment = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    environment.update({
        "PATH": str(Path(sys.executable).parent) + os.pathsep + environment.get("PATH", ""),
        "REVIEW_LINT_RULES_PATH": RULE_DIRS,
        **{f"REVIEW_LINT_{name.upper()}": value for name, value in inputs.items()},
    })
    for name in step["env"]:
        environment.setdefault(name, "")
    return subprocess.run([bash, "-c", step["run"]], cwd=repo, capture_output=True, text=True, env=environment)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/a.py": "def f(x):\n    assert x\n"})
    write(repo, {"pkg/a.py": "def f(x):\n    assert x\n    assert x > 1\n",
                 ".review-lint.yaml": "rules:\n  RL901:\n    enabled: false\n"})
    commit(repo, "second")
    return repo


def test_annotations_for_the_changed_lines_and_sarif_for_everything(repo: Path, tmp_path: Path) -> None:
    sarif_file = tmp_path / "out" / "review-lint.sarif"
    sarif_file.parent.mkdir()
    done = run_step(repo, tmp_path, paths="pkg", config=".review-lint.yaml", diff_base="HEAD~1",
                    sarif_file=str(sarif_file))
    assert done.returncode == 1, done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        "::warning file=pkg/a.py,line=3,endLine=3,col=5,endColumn=16,title=RL900 any-assert::assert statement: x > 1"
    ]
    results = json.loads(sarif_file.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [2, 3]


def test_push_without_diff_base_checks_everything(repo: Path, tmp_path: Path) -> None:
    done = run_step(repo, tmp_path, paths="", config="", diff_base="", sarif_file="")
    assert done.returncode == 1, done.stderr
    assert sum(line.startswith("::warning ") for line in done.stdout.splitlines()) == 2


def test_a_bad_base_fails_the_step_with_one_line(repo: Path, tmp_path: Path) -> None:
    done = run_step(repo, tmp_path, paths=".", config="", diff_base="0" * 40, sarif_file="")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"review-lint: error: --diff-base: '{'0' * 40}' is not a commit in this repository"]


def test_args_and_baseline_reach_both_runs(repo: Path, tmp_path: Path) -> None:
    baseline = subprocess.run([sys.executable, "-m", "review_lint.cli", "baseline", "pkg", "--select", "RL900"],
                              cwd=repo, capture_output=True, text=True, env={**os.environ, "REVIEW_LINT_RULES_PATH": RULE_DIRS})
    assert baseline.returncode == 0, baseline.stderr
    write(repo, {"pkg/b.py": "def g(y):\n    assert y\n"})
    sarif_file = tmp_path / "review-lint.sarif"
    done = run_step(repo, tmp_path, paths="pkg", config="", diff_base="", sarif_file=str(sarif_file),
                    baseline=".review-lint-baseline.json", args="--select RL900 --jobs 1")
    assert done.returncode == 1, done.stderr
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        "::warning file=pkg/b.py,line=2,endLine=2,col=5,endColumn=12,title=RL900 any-assert::assert statement: y"
    ]
    results = json.loads(sarif_file.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == ["pkg/b.py"]


def test_an_unknown_argument_fails_the_step(repo: Path, tmp_path: Path) -> None:
    done = run_step(repo, tmp_path, paths="pkg", config="", diff_base="", sarif_file="", args="--selekt RL900")
    assert done.returncode == 2 and "--selekt" in done.stderr


@pytest.mark.slow
def test_the_install_step_installs_the_version_asked_for(tmp_path: Path) -> None:
    """`version` is any pip requirement: here the checkout by path, as a git URL would be fetched."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    step = ACTION["runs"]["steps"][0]
    github_path = tmp_path / "github-path"
    environment = {**os.environ, "RUNNER_TEMP": str(tmp_path), "GITHUB_PATH": str(github_path),
                   "GITHUB_ACTION_PATH": str(tmp_path / "nowhere"), "REVIEW_LINT_VERSION": str(CHECKOUT)}
    done = subprocess.run([bash, "-c", step["run"]], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    bin_folder = Path(github_path.read_text().strip())
    version = subprocess.run([str(bin_folder / "review-lint"), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("review-lint, version ")
