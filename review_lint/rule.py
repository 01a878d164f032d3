"""The interface every rule module implements."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Iterator

from .config import skipping
from .diagnostics import Finding
from .project import Frame, Module, Project, note_reads, reading, swap_frame


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
    # Set by the engine when it judges incrementally (incremental.RuleVerdicts): the
    # verdicts `per_module` may reuse, and where it keeps its own.
    verdicts: Any = None

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def check(self, project: Project) -> Iterable[Finding]:
        raise NotImplementedError

    def judged_modules(self, project: Project, skip_paths: Iterable[str] = ()) -> Iterator[Module]:
        """The modules a rule judges: outside test paths and the rule's own skip globs."""
        skipped = skipping(tuple(skip_paths))
        for module in project.judged_modules():
            if skipped is None or skipped.match(module.path) is None:
                yield module

    # -- fault isolation ----------------------------------------------------
    @property
    def module_failures(self) -> list[ModuleFailure]:
        """Modules whose judgement raised (filled by `per_module`)."""
        return self.__dict__.setdefault("_module_failures", [])

    def per_module(self, modules: Iterable[Module], judge: Callable[[Module], Iterable[Finding]],
                   inputs: Callable[[Module], object] | None = None) -> Iterator[Finding]:
        """Yield `judge(module)`'s findings for each module.

        An exception while judging one module loses that module's findings only:
        the engine reports it as an RL999 naming the rule, the file and the
        exception, and the other modules are judged as usual. Use it as
        `yield from self.per_module(project.all_modules, self._judge_module)`.

        Judged incrementally (the language server), a module's last verdict is reused
        when nothing it read changed (incremental.py). So `judge(module)` must decide
        from the project alone, never from what judging another module left behind.

        `inputs(module)`: everything the rule's project-wide work hands `judge(module)`, as
        plain comparable data. A verdict is reused only when that is what it was last time;
        and when the rule says its project-wide results are the last judgement's
        (`self.verdicts.same_state(...)`), it is reused even if that work read the changed
        modules (so long as nothing the judgement itself read changed).
        """
        if self.verdicts is not None:
            yield from self._per_module_reusing(modules, judge, inputs)
            return
        for module in modules:
            try:
                found = list(judge(module))
            except Exception as error:  # noqa: BLE001 - one module must not hide the others
                self.module_failures.append(ModuleFailure(module.path, error, traceback.format_exc()))
                continue
            yield from found

    def _per_module_reusing(self, modules: Iterable[Module], judge: Callable[[Module], Iterable[Finding]],
                            inputs: Callable[[Module], object] | None = None) -> Iterator[Finding]:
        """per_module keeping each verdict with the modules read to reach it."""
        from .incremental import Verdict

        chosen = iter(modules)
        while True:
            # A frame of its own for choosing the module (`reading()`, without a generator per module).
            outer = swap_frame(Frame())
            try:
                module = next(chosen, None)
            finally:
                choosing = swap_frame(outer)
            if module is None:
                return
            # Reading the module itself to choose it is part of its verdict; reading
            # others (skipping them) is the rule's own work.
            choosing.pop(module.path, None)
            if choosing:
                note_reads(choosing)
            given = inputs(module) if inputs is not None else None
            prior = self.verdicts.reusable(module.path, outer or {}, given)
            if prior is not None:
                self.module_failures.extend(prior.failures)
                yield from prior.findings
                continue
            failed = len(self.module_failures)
            with reading() as read:
                read[module.path] = 0
                try:
                    found = list(judge(module))
                except Exception as error:  # noqa: BLE001 - one module must not hide the others
                    self.module_failures.append(ModuleFailure(module.path, error, traceback.format_exc()))
                    found = []
            self.verdicts.keep(module.path, Verdict(found, self.module_failures[failed:], tuple(read), given))
            yield from found
