"""Fingerprints that survive edits, and baselines built from them.

A fingerprint names a finding by what it is about rather than where it is:
the rule, the file, the enclosing function (or class) by qualified name, and
the normalised source text of the flagged code, plus an occurrence index when
several findings share all of those. Inserting lines above a finding, or
editing other functions of the file, leaves it unchanged.

A baseline is a JSON file of the fingerprints of the findings a code base
already has; `check --baseline FILE` reports only the findings not in it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .diagnostics import Diagnostic
from .engine import RunResult, UsageError
from .source import decode

BASELINE_VERSION = 1
FINGERPRINT_VERSION = "v1"
DEFAULT_BASELINE = ".review-lint-baseline.json"
_NEWLINE = re.compile(r"\r\n|\r|\n")
_MAX_STATEMENT_LINES = 8  # longer spans (a whole class or function) keep only their first line


# -- fingerprints --------------------------------------------------------------
_SPACE_BESIDE_SYMBOL = re.compile(r" (?=\W)|(?<=\W) ")
_TRAILING_COMMA = re.compile(r",(?=[)\]}])")


def normalise(text: str) -> str:
    """Source text without comments, keeping a space only between two word characters,
    and without trailing commas: re-indenting or re-wrapping code does not change it."""
    collapsed = " ".join(" ".join(_strip_comment(line) for line in _NEWLINE.split(text)).split())
    return _TRAILING_COMMA.sub("", _SPACE_BESIDE_SYMBOL.sub("", collapsed))


def _strip_comment(line: str) -> str:
    quote = None
    i = 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif char in "\"'":
            quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else char
            i += len(quote)
            continue
        elif char == "#":
            return line[:i]
        i += 1
    return line


def _flagged_text(lines: list[str], d: Diagnostic) -> str:
    if not lines or d.line < 1 or d.line > len(lines):
        return ""
    end_line = d.end_line if d.end_line >= d.line else d.line
    if end_line - d.line >= _MAX_STATEMENT_LINES or end_line > len(lines):
        return lines[d.line - 1][max(d.column - 1, 0):]
    if end_line == d.line:
        end = d.end_column - 1 if d.end_column > d.column else len(lines[d.line - 1])
        return lines[d.line - 1][max(d.column - 1, 0):end]
    parts = [lines[d.line - 1][max(d.column - 1, 0):], *lines[d.line : end_line - 1]]
    parts.append(lines[end_line - 1][: max(d.end_column - 1, 0)])
    return "\n".join(parts)


def _scope(result: RunResult, d: Diagnostic) -> str:
    """The innermost function or class whose span holds the finding's line."""
    module = result.project.by_path.get(d.path) if result.project is not None else None
    if module is None:
        return "<module>"
    best, best_size = "<module>", None
    for fact in (*module.facts.functions, *module.facts.classes):
        if fact.qualname == "<module>":
            continue
        start, _, end, _ = fact.span
        if start <= d.line <= end and (best_size is None or end - start < best_size):
            best, best_size = fact.qualname, end - start
    return best


class _Sources:
    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.cache: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self.cache:
            try:
                self.cache[path] = _NEWLINE.split(decode(self.result.read_bytes(path)))
            except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
                self.cache[path] = []
        return self.cache[path]


def compute_fingerprints(result: RunResult) -> dict[int, tuple[Diagnostic, str]]:
    """id(diagnostic) -> (diagnostic, fingerprint) for every diagnostic of the run."""
    sources = _Sources(result)
    seen: dict[tuple[str, ...], int] = {}
    found: dict[int, tuple[Diagnostic, str]] = {}
    for d in sorted(result.diagnostics, key=Diagnostic.sort_key):
        key = (d.rule, d.path, _scope(result, d), normalise(_flagged_text(sources.lines(d.path), d)))
        index = seen.get(key, 0)
        seen[key] = index + 1
        digest = hashlib.sha256("\0".join((FINGERPRINT_VERSION, *key, str(index))).encode("utf-8", "surrogatepass"))
        found[id(d)] = (d, digest.hexdigest()[:32])
    return found


def attach(result: RunResult) -> None:
    """Compute the fingerprints once, before any filtering, and keep them on the result,
    so that every later step sees the same ones (occurrence indexes depend on the full list)."""
    if getattr(result, "fingerprints", None) is None:
        result.fingerprints = compute_fingerprints(result)  # type: ignore[attr-defined]


def fingerprints(result: RunResult) -> list[str]:
    """The fingerprints of result.diagnostics, in order."""
    known = getattr(result, "fingerprints", None)
    if known is None or any(known.get(id(d), (None,))[0] is not d for d in result.diagnostics):
        known = compute_fingerprints(result)
    return [known[id(d)][1] for d in result.diagnostics]


# -- baseline files ------------------------------------------------------------
@dataclass
class Entry:
    fingerprint: str
    rule: str
    path: str
    line: int
    message: str


@dataclass
class Applied:
    hidden: int
    stale: int


def document(result: RunResult) -> str:
    entries = [
        {"fingerprint": fp, "rule": d.rule, "path": d.path, "line": d.line, "message": d.message}
        for d, fp in zip(result.diagnostics, fingerprints(result))
        if d.rule != "RL999"
    ]
    entries.sort(key=lambda e: (e["path"], e["line"], e["rule"], e["fingerprint"]))
    data = {
        "version": BASELINE_VERSION,
        "tool": {"name": "review-lint", "version": __version__},
        "findings": entries,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load(path: Path, shown: str | None = None) -> list[Entry]:
    shown = shown or str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"baseline file not found: {shown} (create it with `review-lint baseline`)") from None
    except OSError as error:
        raise UsageError(f"cannot read baseline {shown}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"baseline {shown} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(
        data.get("findings"), list
    ):
        raise UsageError(f"baseline {shown} is not a review-lint baseline (version {BASELINE_VERSION})")
    entries = []
    for number, item in enumerate(data["findings"], start=1):
        try:
            entries.append(Entry(str(item["fingerprint"]), str(item["rule"]), str(item["path"]),
                                 int(item.get("line", 0)), str(item.get("message", ""))))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise UsageError(f"baseline {shown}: entry {number} needs fingerprint, rule and path") from None
    return entries


def apply(result: RunResult, entries: list[Entry], reported: set[str], enabled: set[str]) -> Applied:
    """Drop the diagnostics the baseline knows. Stale entries are those for a file and
    rule this run checked that no current finding matches any more."""
    known = {entry.fingerprint for entry in entries}
    current = fingerprints(result)
    kept, matched = [], set()
    for d, fp in zip(result.diagnostics, current):
        if fp in known and d.rule != "RL999":
            matched.add(fp)
        else:
            kept.append(d)
    hidden = len(result.diagnostics) - len(kept)
    result.diagnostics = kept
    checked = enabled | {"RL000"}
    stale = sum(
        1 for e in entries if e.fingerprint not in matched and e.path in reported and e.rule in checked
    )
    return Applied(hidden, stale)


def stale_after_rewrite(old: list[Entry], result: RunResult) -> int:
    """How many entries of an old baseline a new one drops."""
    current = set(fingerprints(result))
    return sum(1 for entry in old if entry.fingerprint not in current)


# -- the command line's glue ---------------------------------------------------
def load_baseline(engine, baseline_file: str) -> list[Entry]:
    path = Path(baseline_file)
    return load(path if path.is_absolute() else engine.cwd / path, baseline_file)


def narrow(result: RunResult, engine, changes=None, baseline_file: str | None = None) -> str | None:
    """Apply `--baseline` and `--diff-base` to a finished run, in that order (the
    fingerprints are taken from the full list first). Returns the statistics line
    about the baseline, if one was used."""
    if changes is None and baseline_file is None:
        return None
    attach(result)
    note = None
    if baseline_file is not None:
        entries = load_baseline(engine, baseline_file)
        reported = engine.files()[1]
        applied = apply(result, entries, reported, set(engine.enabled))
        note = (f"Baseline {baseline_file}: {applied.hidden} finding{'' if applied.hidden == 1 else 's'} hidden, "
                f"{applied.stale} stale entr{'y' if applied.stale == 1 else 'ies'}"
                + (" (re-run `review-lint baseline` to prune them)." if applied.stale else "."))
    if changes is not None:
        result.diagnostics = changes.filter(result.diagnostics)
    return note
