"""Which files make up the project."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PYTHON_SUFFIXES = (".py", ".pyi")
SKIPPED_FOLDERS = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", "build", "dist", ".tox", ".nox", ".venv", "venv",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".review-lint-cache", ".eggs", "site-packages",
}


def project_files(root: Path) -> list[str]:
    """POSIX paths relative to root: git's view inside a work tree, else a walk."""
    listed = _git_files(root)
    if not listed:
        # Not a work tree, or one that ignores this whole folder (a checkout's
        # vendored tree, a corpus unpacked inside a repository): walk it.
        return sorted(p for p in _walk(root) if p.endswith(PYTHON_SUFFIXES))
    return sorted(p for p in listed if p.endswith(PYTHON_SUFFIXES) and _is_file(root / p))


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _git_files(root: Path) -> list[str] | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    names = result.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return [n for n in names if n]


def _walk(root: Path) -> list[str]:
    """Every file below root (symbolic links followed, as `Path.is_file` does),
    skipping tool folders and virtual environments.

    os.scandir and plain strings: a warm run on Django (2,457 folders) spent
    most of its time here with pathlib and os.walk. A folder is known to be a
    virtual environment from its own listing, without a `stat` per folder.
    """
    found: list[str] = []
    pending = [("", str(root))]
    while pending:
        prefix, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        if prefix and any(entry.name == "pyvenv.cfg" and _is_file_entry(entry) for entry in entries):
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_FOLDERS:
                        pending.append((prefix + entry.name + "/", entry.path))
                elif entry.is_file():
                    found.append(prefix + entry.name)
            except OSError:
                continue
    return found


def _is_file_entry(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
