"""Changed-lines mode: keep only the findings a change introduced.

The lines added or changed since `git merge-base REF HEAD` are read from
`git diff -U0` against the working tree (so staged and unstaged edits count),
with renames followed; files git does not track yet count whole. A finding is
kept when any of its locations, primary or related, touches such a line. The
analysis itself still sees the whole project: only the report is narrowed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path, PurePosixPath

from .diagnostics import Diagnostic
from .engine import UsageError

WHOLE = None  # a file whose every line counts (new, untracked)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_GIT_TIMEOUT = 120


class Changes:
    """Changed lines per file, POSIX paths relative to the project root."""

    def __init__(self, lines: dict[str, set[int] | None]) -> None:
        self.lines = lines

    def touches(self, path: str, first: int, last: int) -> bool:
        if path not in self.lines:
            return False
        changed = self.lines[path]
        if changed is WHOLE:
            return True
        last = max(first, last)
        if last - first > len(changed):
            return any(first <= line <= last for line in changed)
        return any(line in changed for line in range(first, last + 1))

    def keeps(self, d: Diagnostic) -> bool:
        if d.rule == "RL999":  # the tool's own failures are never hidden
            return True
        if self.touches(d.path, d.line, d.end_line):
            return True
        return any(self.touches(r.path, r.span[0], r.span[2]) for r in d.related)

    def filter(self, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
        return [d for d in diagnostics if self.keeps(d)]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GIT_PAGER="cat", LC_ALL="C")
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=_GIT_TIMEOUT, env=env)
    except FileNotFoundError:
        raise UsageError("--diff-base needs git, and git is not installed") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"--diff-base: `git {args[0]}` took longer than {_GIT_TIMEOUT} s") from None


def _text(completed: subprocess.CompletedProcess) -> str:
    return completed.stdout.decode("utf-8", errors="surrogateescape")


def _error(completed: subprocess.CompletedProcess) -> str:
    lines = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
    return lines[0].removeprefix("fatal: ") if lines else f"git exited with {completed.returncode}"


def changes_since(root: Path, ref: str) -> Changes:
    """The lines changed since `git merge-base REF HEAD`, in the work tree holding `root`."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(f"--diff-base needs a git repository, and {root} is not inside one")
    toplevel = Path(_text(top).strip()).resolve()
    if ref.startswith("-") or _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise UsageError(f"--diff-base: {ref!r} is not a commit in this repository")
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head.returncode != 0:
        raise UsageError("--diff-base: the repository has no commit yet (HEAD does not exist)")
    merge_base = _git(root, "merge-base", ref, "HEAD")
    if merge_base.returncode != 0:
        raise UsageError(f"--diff-base: {ref!r} and HEAD have no common ancestor")
    base = _text(merge_base).strip()
    diff = _git(
        root, "-c", "core.quotePath=true", "diff", "-U0", "--no-color", "--no-ext-diff", "--find-renames",
        "--src-prefix=a/", "--dst-prefix=b/", base, "--",
    )
    if diff.returncode != 0:
        raise UsageError(f"--diff-base: git diff failed: {_error(diff)}")
    by_top = parse_diff(_text(diff))
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard", "--full-name")
    if untracked.returncode == 0:
        for name in _text(untracked).split("\0"):
            if name:
                by_top[name] = WHOLE
    prefix = PurePosixPath(Path(os.path.relpath(root.resolve(), toplevel)).as_posix())
    lines: dict[str, set[int] | None] = {}
    for path, changed in by_top.items():
        relative = _relative_to(PurePosixPath(path), prefix)
        if relative is not None:
            lines[relative] = changed
    return Changes(lines)


def _relative_to(path: PurePosixPath, prefix: PurePosixPath) -> str | None:
    if str(prefix) in (".", ""):
        return path.as_posix()
    try:
        return path.relative_to(prefix).as_posix()
    except ValueError:
        return None  # outside the project: nothing there can be reported


def parse_diff(text: str) -> dict[str, set[int] | None]:
    """{new path: added or changed line numbers} from `git diff -U0` output."""
    found: dict[str, set[int] | None] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            if target == "/dev/null":  # deleted: nothing left to report on
                current = None
                continue
            name = _unquote(target)
            name = name[2:] if name.startswith("b/") else name
            current = set()
            found[name] = current
        elif line.startswith("@@") and current is not None:
            match = _HUNK.match(line)
            if match:
                start = int(match.group(1))
                count = int(match.group(2)) if match.group(2) is not None else 1
                current.update(range(start, start + count))
    return found


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of unusual path names (`"a/caf\\303\\251.py"`)."""
    name = name.rstrip("\t")
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name
    body, out, i = name[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            following = body[i + 1]
            if re.fullmatch(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(following, ord(following)))
            i += 2
            continue
        out.extend(char.encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", errors="surrogateescape")
