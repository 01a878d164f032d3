"""The interface every rule module implements."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator

from .config import matches_any
from .diagnostics import Finding
from .project import Module, Project


@dataclass
class ModuleFailure:
    """One module a rule could not judge: reported as RL999 naming the file."""

    path: str
    error: BaseException
    traceback: str


class Rule:
    """A rule judges the whole project from facts and yields findings.

    Subclasses set `code` and `name` (matching their YAML) and implement `check`.
    `options` holds the YAML defaults merged with the project's configuration.
    `uses` names the `review_lint.knowledge` modules the rule asks that build
    project-wide results (those keeping them in `project.memo`): rules that share
    one are judged in the same process, which builds that knowledge once.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    uses: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def check(self, project: Project) -> Iterable[Finding]:
        raise NotImplementedError

    def judged_modules(self, project: Project, skip_paths: Iterable[str] = ()) -> Iterator[Module]:
        """The modules a rule judges: outside test paths and the rule's own skip globs."""
        skip = list(skip_paths)
        for module in project.judged_modules():
            if not (skip and matches_any(module.path, skip)):
                yield module

    # -- fault isolation ----------------------------------------------------
    @property
    def module_failures(self) -> list[ModuleFailure]:
        """Modules whose judgement raised (filled by `per_module`)."""
        return self.__dict__.setdefault("_module_failures", [])

    def per_module(self, modules: Iterable[Module], judge: Callable[[Module], Iterable[Finding]]) -> Iterator[Finding]:
        """Yield `judge(module)`'s findings for each module.

        An exception while judging one module loses that module's findings only:
        the engine reports it as an RL999 naming the rule, the file and the
        exception, and the other modules are judged as usual. Use it as
        `yield from self.per_module(project.all_modules, self._judge_module)`.
        """
        for module in modules:
            try:
                found = list(judge(module))
            except Exception as error:  # noqa: BLE001 - one module must not hide the others
                self.module_failures.append(ModuleFailure(module.path, error, traceback.format_exc()))
                continue
            yield from found
