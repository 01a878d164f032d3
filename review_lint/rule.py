"""The interface every rule module implements."""

from __future__ import annotations

from typing import Any, ClassVar, Iterable

from .diagnostics import Finding
from .project import Project


class Rule:
    """A rule judges the whole project from facts and yields findings.

    Subclasses set `code` and `name` (matching their YAML) and implement `check`.
    `options` holds the YAML defaults merged with the project's configuration.
    """

    code: ClassVar[str]
    name: ClassVar[str]

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def check(self, project: Project) -> Iterable[Finding]:
        raise NotImplementedError
