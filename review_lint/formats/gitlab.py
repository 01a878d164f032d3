"""GitLab Code Quality report (a JSON array, the Code Climate subset GitLab reads)."""

from __future__ import annotations

import json
from pathlib import Path

from ..baseline import fingerprints
from ..engine import RunResult
from . import repo_path

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def report(result: RunResult, cwd: Path, colour: bool, statistics: bool, quiet: bool) -> str:
    issues = []
    for d, fingerprint in zip(result.diagnostics, fingerprints(result)):
        description = d.message
        if d.related:
            description += " (" + "; ".join(
                f"{repo_path(result, r.path)}:{r.span[0]}: {r.message}" for r in d.related) + ")"
        issues.append({
            "type": "issue",
            "check_name": f"{d.rule} {d.name}",
            "description": description,
            "categories": ["Bug Risk"],
            "severity": SEVERITIES.get(d.severity, "minor"),
            "fingerprint": fingerprint,
            "location": {
                "path": repo_path(result, d.path),
                "lines": {"begin": max(d.line, 1), "end": max(d.end_line, d.line, 1)},
            },
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
