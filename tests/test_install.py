"""A non-editable install, used outside the source tree, must carry its rule YAML."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_installed_outside_the_source_tree_lists_rules_and_checks(tmp_path):
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(REPO)],
        capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("review_lint-*.whl")
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        capture_output=True, text=True,
    )
    assert installed.returncode == 0, installed.stderr
    assert list((site / "review_lint" / "_rules").glob("*.yaml")), "rule YAML files are package data"
    assert (site / "review_lint" / "_rules" / "groups" / "database.yaml").is_file(), "and the option groups"

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "app.py").write_text("def f(:\n")
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_LINT_RULES_PATH"}
    env["PYTHONPATH"] = str(site)
    command = [sys.executable, "-c", "import sys; from review_lint.cli import main; sys.argv[0] = 'review-lint'; main()"]
    listing = subprocess.run([*command, "rules"], cwd=work, capture_output=True, text=True, env=env)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("CODE")
    checked = subprocess.run([*command, "check", "."], cwd=work, capture_output=True, text=True, env=env)
    assert checked.returncode == 1, checked.stderr
    assert checked.stdout.startswith("app.py:1:7: RL000 [syntax-error]")
    imported = subprocess.run([sys.executable, "-c", "import review_lint; print(review_lint.__file__)"],
                              cwd=work, capture_output=True, text=True, env=env)
    assert imported.stdout.startswith(str(site)), "the installed copy, not the source tree, was tested"
