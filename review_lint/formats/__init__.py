"""Machine-readable reports for CI systems: GitHub annotations, SARIF, GitLab Code Quality.

Each module defines `report(result, cwd, colour, statistics, quiet) -> str`, the
reporter signature of review_lint.report. Paths in these formats are relative to
the repository root (what GitHub and GitLab resolve them against), not to the
project root review-lint reports against elsewhere.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ..engine import RunResult


@lru_cache(maxsize=16)
def repository_root(folder: Path) -> Path:
    """The git work tree holding `folder`, else `folder` itself."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return folder
    if completed.returncode != 0:
        return folder
    return Path(completed.stdout.decode("utf-8", errors="surrogateescape").strip()).resolve()


def repo_path(result: RunResult, path: str) -> str:
    """A project-relative POSIX path made relative to the repository root."""
    root = result.root.resolve()
    top = repository_root(root)
    if top == root:
        return path
    try:
        prefix = PurePosixPath(Path(os.path.relpath(root, top)).as_posix())
    except ValueError:
        return path
    if str(prefix).startswith(".."):
        return path
    return (prefix / path).as_posix()
