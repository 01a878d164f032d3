"""action.yml: the composite action's run step, executed with bash as a runner would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitrepo import CHECKOUT, RULE_DIRS, commit, make_repo, write

ACTION = yaml.safe_load((CHECKOUT / "action.yml").read_text(encoding="utf-8"))


STEPS = {step["name"]: step for step in ACTION["runs"]["steps"]}


def test_inputs_and_steps() -> None:
    assert set(ACTION["inputs"]) == {"paths", "config", "diff-base", "sarif-file", "baseline", "args", "version",
                                     "cache"}
    assert ACTION["inputs"]["diff-base"]["default"] == "${{ github.event.pull_request.base.sha }}"
    assert ACTION["runs"]["using"] == "composite"
    assert list(STEPS) == ["Install review-lint", "Restore the facts cache", "Run review-lint", "Save the facts cache"]
    install = STEPS["Install review-lint"]
    assert '"${REVIEW_LINT_VERSION:-$GITHUB_ACTION_PATH}"' in install["run"]  # the action's own checkout by default


def test_the_cache_is_on_by_default_restored_and_saved_under_one_key() -> None:
    assert ACTION["inputs"]["cache"]["default"] == "true"
    restore, save = STEPS["Restore the facts cache"], STEPS["Save the facts cache"]
    assert restore["uses"] == "actions/cache/restore@v4" and save["uses"] == "actions/cache/save@v4"
    assert restore["if"] == "inputs.cache == 'true'"
    assert save["if"] == "always() && inputs.cache == 'true'"  # findings fail the step; the facts are kept
    folder = "${{ runner.temp }}/review-lint-cache"
    assert restore["with"]["path"] == save["with"]["path"] == STEPS["Run review-lint"]["env"]["REVIEW_LINT_CACHE_DIR"] == folder
    assert restore["with"]["key"] == save["with"]["key"]
    # The newest cache of the same review-lint code, whichever run wrote it.
    assert restore["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert "steps.install.outputs.fingerprint" in restore["with"]["restore-keys"]
    assert 'fingerprint=' in STEPS["Install review-lint"]["run"] and STEPS["Install review-lint"]["id"] == "install"


def run_step(repo: Path, tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    step = STEPS["Run review-lint"]
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
    step = STEPS["Install review-lint"]
    github_path, github_output = tmp_path / "github-path", tmp_path / "github-output"
    environment = {**os.environ, "RUNNER_TEMP": str(tmp_path), "GITHUB_PATH": str(github_path),
                   "GITHUB_OUTPUT": str(github_output),
                   "GITHUB_ACTION_PATH": str(tmp_path / "nowhere"), "REVIEW_LINT_VERSION": str(CHECKOUT)}
    done = subprocess.run([bash, "-c", step["run"]], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    bin_folder = Path(github_path.read_text().strip())
    version = subprocess.run([str(bin_folder / "review-lint"), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("review-lint, version ")
    # The cache key's part: the installed review-lint's code fingerprint.
    [output] = github_output.read_text().splitlines()
    assert re.fullmatch(r"fingerprint=[0-9a-f]{32}", output), output


def test_with_the_cache_the_run_step_keeps_it_in_the_given_folder(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "runner-temp" / "review-lint-cache"
    first = run_step(repo, tmp_path, paths=".", diff_base="", cache="true", cache_dir=str(cache))
    assert first.returncode == 1, first.stderr
    assert (cache / "facts.msgpack").is_file() and not (repo / ".review-lint-cache").exists()
    again = run_step(repo, tmp_path, paths=".", diff_base="", cache="true", cache_dir=str(cache))
    assert (again.returncode, again.stdout) == (1, first.stdout)
    # `args` still wins: --no-cache there means no cache at all.
    other = tmp_path / "other-cache"
    off = run_step(repo, tmp_path, paths=".", diff_base="", cache="true", cache_dir=str(other), args="--no-cache")
    assert (off.returncode, off.stdout) == (1, first.stdout) and not any(other.iterdir())
