"""SARIF 2.1.0, as GitHub code scanning accepts it.

One run; `tool.driver.rules` describes every rule that has a result (from the
rule's YAML docs); each result has a location relative to the repository root
(`uriBaseId` %SRCROOT%), its related locations, a partial fingerprint that
survives line shifts (see review_lint.baseline), where the rule offers an
autofix, `fixes`, and where the related locations are the steps of a path to the
finding (RL001: the handler, then each call, down to the assert), a `codeFlows`
thread flow, which code scanning shows step by step.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import REPOSITORY_URL, __version__
from ..baseline import fingerprints
from ..config import RuleSpec
from ..diagnostics import Diagnostic
from ..engine import RunResult
from . import repo_path

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "reviewLint/v1"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_TITLES = {"what-it-does": "What it does", "why-it-matters": "Why it matters", "example": "Example",
           "use-instead": "Use instead"}
_BUILTIN = {
    "RL000": ("syntax-error", "The file could not be parsed or read.", "error"),
    "RL999": ("internal-error", "review-lint failed while analysing the file.", "error"),
}


def _region(span: tuple[int, int, int, int]) -> dict[str, int]:
    line, column, end_line, end_column = span
    line = max(line, 1)
    region = {"startLine": line, "startColumn": max(column, 1)}
    end_line = max(end_line, line)
    region["endLine"] = end_line
    if end_column >= 1 and (end_line > line or end_column >= region["startColumn"]):
        region["endColumn"] = end_column
    return region


def _physical(result: RunResult, path: str, span) -> dict[str, Any]:
    return {
        "artifactLocation": {"uri": quote(repo_path(result, path)), "uriBaseId": SRCROOT},
        "region": _region(span),
    }


def _rule(code: str, name: str, spec: RuleSpec | None) -> dict[str, Any]:
    if spec is None:
        summary, level = _BUILTIN.get(code, (name, "", "error"))[1:]
        return {"id": code, "name": name, "shortDescription": {"text": summary},
                "fullDescription": {"text": summary}, "help": {"text": summary, "markdown": summary},
                "defaultConfiguration": {"level": LEVELS.get(level, "warning")}}
    text, markdown = [], []
    for section, title in _TITLES.items():
        body = spec.docs.get(section)
        if not body:
            continue
        code_block = section in ("example", "use-instead")
        text.append(f"{title}:\n{body}")
        markdown.append(f"## {title}\n\n```python\n{body}\n```" if code_block else f"## {title}\n\n{body}")
    if spec.options:
        options = [f"- `{o.name}` ({o.type}, default `{o.default!r}`): {o.description}" for o in spec.options.values()]
        text.append("Options:\n" + "\n".join(options))
        markdown.append("## Options\n\n" + "\n".join(options))
    return {
        "id": code,
        "name": spec.name,
        "shortDescription": {"text": spec.summary},
        "fullDescription": {"text": spec.docs.get("what-it-does") or spec.summary},
        "help": {"text": "\n\n".join(text) or spec.summary, "markdown": "\n\n".join(markdown) or spec.summary},
        "defaultConfiguration": {"level": LEVELS.get(spec.severity, "warning")},
        "properties": {"tags": ["review-lint"]},
    }


def _edits(fix: dict[str, Any]) -> list[dict[str, Any]]:
    edits = fix.get("edits", fix.get("replacements"))
    if edits is None and any(k in fix for k in ("content", "text", "replacement")):
        edits = [fix]
    return edits if isinstance(edits, list) else []


def _edit_span(edit: dict[str, Any]) -> tuple[int, int, int, int] | None:
    """An edit's replaced range: `span` (line, column, end_line, end_column), the four keys,
    or Ruff's `location`/`end_location` with `row`/`column`."""
    try:
        if "span" in edit:
            line, column, end_line, end_column = (int(v) for v in edit["span"])
        elif "location" in edit:
            start, end = edit["location"], edit.get("end_location", edit["location"])
            line, column = int(start["row"]), int(start["column"])
            end_line, end_column = int(end["row"]), int(end["column"])
        else:
            line, column = int(edit["line"]), int(edit["column"])
            end_line, end_column = int(edit["end_line"]), int(edit["end_column"])
    except (KeyError, TypeError, ValueError):
        return None
    if line < 1 or column < 1 or (end_line, end_column) < (line, column):
        return None
    return line, column, end_line, end_column


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def _hunk_replacements(diff: str, old_lines: list[str]) -> list[dict[str, Any]]:
    """SARIF replacements from a unified diff of one file: each hunk replaces its old
    lines, whole, with its new lines."""
    replacements = []
    hunks: list[tuple[int, int, list[str]]] = []
    previous = ""
    for line in diff.splitlines(keepends=True):
        match = _HUNK.match(line)
        if match:
            count = int(match.group(2)) if match.group(2) is not None else 1
            hunks.append((int(match.group(1)), count, []))
        elif hunks and line.startswith((" ", "+")):
            hunks[-1][2].append(line[1:])
        elif hunks and line.startswith("\\") and previous[:1] in (" ", "+") and hunks[-1][2]:
            # "\ No newline at end of file" after a line of the new text: it has no final newline.
            hunks[-1][2][-1] = hunks[-1][2][-1].rstrip("\r\n")
        previous = line
    for start, count, new in hunks:
        first = start if count else start + 1
        region = {"startLine": first, "startColumn": 1}
        if first + count <= len(old_lines):
            region.update(endLine=first + count, endColumn=1)
        else:
            # The hunk reaches the end of the file: end after the last character, newline included.
            last = old_lines[-1] if old_lines else ""
            region.update(endLine=max(len(old_lines), 1), endColumn=len(last) + 1)
        replacements.append({"deletedRegion": region, "insertedContent": {"text": "".join(new)}})
    return replacements


def _autofix(result: RunResult, d: Diagnostic) -> list[dict[str, Any]]:
    """The edits of a rule's own autofix (the `--fix` machinery, for this finding alone)."""
    try:
        from ..fixer import apply_fixes
        from ..source import decode

        single = dataclasses.replace(result, diagnostics=[d])
        diff = apply_fixes(single, write=False).diff
        if not diff:
            return []
        old_lines = decode(result.read_bytes(d.path)).splitlines(keepends=True)
        replacements = _hunk_replacements(diff, old_lines)
    except Exception:  # noqa: BLE001 - a report must never fail because a fix could not be previewed
        return []
    if not replacements:
        return []
    return [{
        "description": {"text": str(d.fix.get("description") or f"Fix {d.rule} {d.name}")},
        "artifactChanges": [{
            "artifactLocation": {"uri": quote(repo_path(result, d.path)), "uriBaseId": SRCROOT},
            "replacements": replacements,
        }],
    }]


def _fixes(result: RunResult, d: Diagnostic) -> list[dict[str, Any]]:
    """SARIF fixes: the edits the diagnostic's `fix` lists, else those its rule's fixer makes."""
    if not isinstance(d.fix, dict):
        return []
    if not _edits(d.fix):
        return _autofix(result, d)
    by_path: dict[str, list[dict[str, Any]]] = {}
    for edit in _edits(d.fix):
        if not isinstance(edit, dict):
            return []
        span = _edit_span(edit)
        content = next((edit[k] for k in ("content", "text", "replacement") if isinstance(edit.get(k), str)), None)
        if span is None or content is None:
            return []
        line, column, end_line, end_column = span
        region = {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}
        by_path.setdefault(str(edit.get("path") or d.path), []).append(
            {"deletedRegion": region, "insertedContent": {"text": content}})
    if not by_path:
        return []
    description = d.fix.get("description") or d.fix.get("message") or f"Fix {d.rule} {d.name}"
    return [{
        "description": {"text": str(description)},
        "artifactChanges": [
            {"artifactLocation": {"uri": quote(repo_path(result, path)), "uriBaseId": SRCROOT},
             "replacements": replacements}
            for path, replacements in sorted(by_path.items())
        ],
    }]


def _code_flow(result: RunResult, d: Diagnostic) -> list[dict[str, Any]]:
    """The related locations that are steps of the path to the finding, in order, then
    the finding itself: one thread flow."""
    steps = sorted((r for r in d.related if r.step is not None), key=lambda r: r.step)
    if not steps:
        return []
    places = [(r.path, r.span, r.message) for r in steps]
    places.append((d.path, (d.line, d.column, d.end_line, d.end_column), d.message))
    locations = [{"location": {"physicalLocation": _physical(result, path, span), "message": {"text": message}}}
                 for path, span, message in places]
    return [{"threadFlows": [{"locations": locations}]}]


def document(result: RunResult) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for d in sorted(result.diagnostics, key=lambda d: d.rule):
        if d.rule not in index:
            index[d.rule] = len(rules)
            rules.append(_rule(d.rule, d.name, result.specs.get(d.rule)))
    results = []
    for d, fingerprint in zip(result.diagnostics, fingerprints(result)):
        item: dict[str, Any] = {
            "ruleId": d.rule,
            "ruleIndex": index[d.rule],
            "level": LEVELS.get(d.severity, "warning"),
            "message": {"text": d.message},
            "locations": [{"physicalLocation": _physical(result, d.path, (d.line, d.column, d.end_line, d.end_column))}],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        }
        if d.related:
            item["relatedLocations"] = [
                {"id": number, "physicalLocation": _physical(result, r.path, r.span), "message": {"text": r.message}}
                for number, r in enumerate(d.related, start=1)
            ]
        flow = _code_flow(result, d)
        if flow:
            item["codeFlows"] = flow
        fixes = _fixes(result, d)
        if fixes:
            item["fixes"] = fixes
        results.append(item)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "review-lint", "version": __version__, "semanticVersion": __version__,
                                **({"informationUri": REPOSITORY_URL} if REPOSITORY_URL else {}), "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def report(result: RunResult, cwd: Path, colour: bool, statistics: bool, quiet: bool) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"
