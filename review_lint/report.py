"""Reporters: each turns a run's diagnostics into text for one audience."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Callable

import click

from . import __version__
from .diagnostics import Diagnostic
from .engine import RunResult

JSON_VERSION = 1
_SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}


def by_rule(diagnostics: list[Diagnostic]) -> dict[str, int]:
    return dict(sorted(Counter(d.rule for d in diagnostics).items()))


def text(result: RunResult, cwd: Path, colour: bool, statistics: bool, quiet: bool) -> str:
    """One finding a line, as ruff and flake8 print them, each followed by the places
    that explain it (the handler and its calls, the construction sites, the
    earlier read), indented; with `statistics`, the counts per rule instead.
    As in Ruff, `[*]` marks what `--fix` can rewrite."""
    lines = []
    fixable = Counter(d.rule for d in result.diagnostics if d.fixable)
    for d in [] if statistics else result.diagnostics:
        path = _display_path(result.root / d.path, cwd)
        code = click.style(d.rule, fg=_SEVERITY_COLOURS.get(d.severity), bold=True) if colour else d.rule
        where = click.style(f"{path}:{d.line}:{d.column}:", bold=True) if colour else f"{path}:{d.line}:{d.column}:"
        lines.append(f"{where} {code}{' [*]' if d.fixable else ''} [{d.name}] {d.message}")
        for related in d.related:
            shown = _display_path(result.root / related.path, cwd)
            lines.append(f"    {shown}:{related.span[0]}:{related.span[1]}: {related.message}")
    if statistics and result.diagnostics:
        names = {d.rule: d.name for d in result.diagnostics}
        for code, count in by_rule(result.diagnostics).items():
            marker = ("[*] " if fixable[code] else "[ ] ") if fixable else ""
            lines.append(f"{count:>5}  {code}  {marker}{names[code]}")
    if not quiet:
        findings = len(result.diagnostics)
        noun = "finding" if findings == 1 else "findings"
        files = "file" if result.files == 1 else "files"
        if not result.files:
            lines.append("No Python files checked.")
        elif findings:
            lines.append(f"Found {findings} {noun} in {result.files} {files} checked.")
            if fixable:
                lines.append(f"[*] {sum(fixable.values())} fixable with `--fix` (`--diff` shows the changes).")
        else:
            lines.append(f"All clear: {result.files} {files} checked, no findings.")
    return "\n".join(lines) + ("\n" if lines else "")


def as_json(result: RunResult, cwd: Path, colour: bool, statistics: bool, quiet: bool) -> str:
    document = {
        "version": JSON_VERSION,
        "tool": {"name": "review-lint", "version": __version__},
        "diagnostics": [d.to_json() for d in result.diagnostics],
        "summary": {
            "files": result.files,
            "findings": len(result.diagnostics),
            "by_rule": by_rule(result.diagnostics),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _display_path(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd)
    except ValueError:
        return str(path)


Reporter = Callable[[RunResult, Path, bool, bool, bool], str]
REPORTERS: dict[str, Reporter] = {"text": text, "json": as_json}

# The CI formats live in review_lint/formats/ (imported last: they use this module's neighbours).
from .formats import github as _github, gitlab as _gitlab, sarif as _sarif  # noqa: E402

REPORTERS.update({"github": _github.report, "sarif": _sarif.report, "gitlab": _gitlab.report})
