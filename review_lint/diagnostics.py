"""What a rule reports, and what the user sees."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .facts import Span


@dataclass(slots=True)
class Related:
    path: str
    span: Span
    message: str
    # The place's order on the path that leads to the finding (RL001: the handler, then
    # each call), which SARIF shows as a code flow; None: not a step of that path.
    step: int | None = None


@dataclass(slots=True)
class Finding:
    """A rule's verdict: where, why, and the places that explain it."""

    path: str
    span: Span
    message: str
    related: list[Related] = field(default_factory=list)
    fix: dict[str, Any] | None = None


@dataclass(slots=True)
class Diagnostic:
    path: str  # POSIX, relative to the project root
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    name: str
    severity: str
    message: str
    related: list[Related] = field(default_factory=list)
    fix: dict[str, Any] | None = None

    @classmethod
    def of(cls, finding: Finding, rule: str, name: str, severity: str) -> "Diagnostic":
        line, column, end_line, end_column = finding.span
        return cls(finding.path, line, column, end_line, end_column, rule, name, severity, finding.message,
                   list(finding.related), finding.fix)

    @property
    def fixable(self) -> bool:
        """`--fix` can rewrite it: its rule offers a fix (review_lint/fixer.py)."""
        return isinstance(self.fix, dict)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.rule, self.message)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["related"] = [
            {"path": r.path, "line": r.span[0], "column": r.span[1], "message": r.message} for r in self.related
        ]
        return data


def one_line(error: BaseException | str, limit: int | None = None) -> str:
    """An error message on one line (at most `limit` characters) for a diagnostic."""
    text = " ".join(str(error).split())
    return text[:limit] if limit is not None else text
