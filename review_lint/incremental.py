"""Incremental judgement: after an edit, judge again only what the edit can change.

The language server judges the project after every edit. Most of that work gives
the same verdicts as before: a rule's findings in a module depend on that module
and on the modules its judgement read (what names resolved to, the helpers a call
runs, the classes of the models), and an edit changes one module.

So every judgement is made under dependency tracking (project.reading): each rule's
verdict on each module (`Rule.per_module`) is kept with the set of modules read to
reach it, including the reads behind every memo entry it used (project.Memo). The
next judgement reuses a verdict when neither its module nor anything it read
changed, and when the rule's own work outside the per-module verdicts (choosing
the modules, project-wide knowledge built first, as RL001's call graph) read
nothing that changed either; everything else is judged again. Judging is
deterministic, so a judgement that reads only unchanged modules would decide as
before: the verdicts equal a full judgement's (tests/test_incremental.py checks it
edit by edit, bench/incremental_diff.py on a real corpus).

A change of the files themselves (one created, deleted, renamed) or of the settings
starts again from a full judgement: module names and every rule's options follow
from those.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Finding
from .facts import ModuleFacts
from .project import EVERYTHING, Module, Project


@dataclass(frozen=True, slots=True)
class Verdict:
    """One rule's findings in one module, and what they were judged from."""

    findings: list[Finding]
    failures: list  # rule.ModuleFailure: the module could not be judged
    # The paths of the modules read (a tuple: 1 to 3 paths for most, where a frozenset's
    # smallest is 216 bytes; 15,000 verdicts at 10,000 files).
    reads: tuple[str, ...]
    inputs: object = None  # what the rule handed the judgement of this module (Rule.per_module)


@dataclass
class RuleVerdicts:
    """One rule's verdicts: the last judgement's, which this one may reuse, and this one's."""

    before: dict[str, Verdict]
    changed: frozenset[str]
    now: dict[str, Verdict] = field(default_factory=dict)
    reused: int = 0
    asked: bool = False  # whether the rule judges module by module at all (Rule.per_module)
    before_state: object = None  # the rule's project-wide results at the last judgement (`same_state`)
    state: object = None
    same: bool = False  # whether `state` equals `before_state`

    def same_state(self, state: object) -> bool:
        """Keep the rule's project-wide results (plain, comparable data); whether they equal
        the last judgement's. Only then are the `inputs` a rule hands with each module
        (Rule.per_module) enough to reuse its verdict."""
        self.state = state
        self.same = self.before_state is not None and self.before_state == state
        return self.same

    def reusable(self, path: str, rule_reads: dict[str, int], inputs: object = None) -> Verdict | None:
        """The last verdict on `path` if nothing it read changed, what the rule handed its
        judgement (`inputs`) is what it handed last time, and either nothing the rule's own
        work so far read changed or that work's results are the last judgement's (`same`)."""
        self.asked = True
        prior = self.before.get(path)
        changed = self.changed
        # (`frozenset.isdisjoint(dict)` walks the whole dict: ask of the few changed paths instead.)
        if prior is None or path in changed or EVERYTHING in prior.reads or not changed.isdisjoint(prior.reads):
            return None
        if inputs is None or not self.same:
            if EVERYTHING in rule_reads or any(p in rule_reads for p in changed):
                return None
        if inputs is not None and prior.inputs != inputs:
            return None
        self.now[path] = prior
        self.reused += 1
        return prior

    def keep(self, path: str, verdict: Verdict) -> None:
        self.now[path] = verdict


class Judgements:
    """What the last judgement of one project left for the next: its modules, and
    every rule's per-module verdicts (with what each read)."""

    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}  # path -> the Module judged last time
        self.verdicts: dict[str, dict[str, Verdict]] = {}  # rule code -> path -> verdict
        self.states: dict[str, object] = {}  # rule code -> its project-wide results (RuleVerdicts.same_state)
        self.settings: object | None = None  # the settings judged under (an edit replaces the object)
        self.memos: dict = {}  # the last project's kept memos (Project.memo(kept=True))
        self.indexes: dict = {}  # the last project's indexes (Project.index), updated by the next
        self.current: dict[str, RuleVerdicts] = {}
        self.changed: frozenset[str] | None = None  # None: judged in full
        # Rule code -> modules judged again by the last judgement, or None for a rule that
        # judges the whole project at once (tests, bench/incremental_diff.py).
        self.judged_again: dict[str, int | None] = {}
        self._judging: tuple[object, dict[str, Module]] | None = None
        self._names: tuple[object, list[str], dict[str, tuple[str, bool]]] | None = None
        self._tests: dict[str, bool] = {}  # path -> whether it is test code, under self.settings

    def names(self, facts: list[ModuleFacts], settings: object, compute) -> dict[str, tuple[str, bool]]:
        """Every module's (name, is a package), computed again only when the files or the
        settings changed: a name follows from the paths and the packages' `__init__.py`,
        which are files of the project too."""
        paths = [item.path for item in facts]
        if self._names is not None and self._names[0] is settings and self._names[1] == paths:
            return self._names[2]
        names = compute(facts)
        self._names = (settings, paths, names)
        return names

    def modules_for(self, facts: list[ModuleFacts], settings: object, names: dict[str, tuple[str, bool]]) -> list[Module]:
        """The project's modules, reusing every Module whose facts and name did not change;
        sets what changed since the last judgement (None when it starts again in full)."""
        modules = []
        for item in facts:
            name, is_package = names[item.path]
            old = self.modules.get(item.path)
            if old is not None and old._facts is item and old.name == name and old.is_package == is_package:
                modules.append(old)
            else:
                modules.append(Module(name, is_package, item))
        # After a judgement that did not finish, the indexes may have moved past the verdicts.
        same_files = self._judging is None and settings is self.settings and len(modules) == len(self.modules) and all(
            m.path in self.modules for m in modules)
        self.changed = frozenset(m.path for m in modules if self.modules[m.path] is not m) if same_files else None
        # Committed by `finish`: a judgement that fails leaves the last one's state whole.
        self._judging = (settings, {m.path: m for m in modules})
        self.current = {}
        return modules

    def for_rule(self, code: str) -> RuleVerdicts:
        changed = self.changed
        before = self.verdicts.get(code, {}) if changed is not None else {}
        state = self.states.get(code) if changed is not None else None
        verdicts = self.current[code] = RuleVerdicts(before, changed or frozenset(), before_state=state)
        return verdicts

    def project(self, root, modules: list[Module], is_test) -> Project:
        """The project to judge, tracked, with the kept memos' entries that are still good."""
        earlier = self.memos if self.changed is not None else {}
        tests = self._tests if self.changed is not None else {}
        indexes = self.indexes if self.changed is not None else {}
        self.indexes = {}  # taken back by `finish`
        if self.changed:
            by_path = self._judging[1]
            started = set()
            for index in indexes.values():
                started |= index.update(by_path, self.changed, self.modules)
            self.changed |= started  # verdicts and memo entries that read those keys are stale too
        return Project(root, modules, is_test, tracked=True, earlier=earlier, changed=self.changed or frozenset(),
                       tests=tests, indexes=indexes)

    def finish(self, project: Project) -> None:
        """The verdicts of this judgement become those the next one may reuse."""
        self.settings, self.modules = self._judging
        self._judging = None
        self.memos = project.kept
        self.indexes = project.indexes
        self._tests = project._tests
        self.verdicts = {code: verdicts.now for code, verdicts in self.current.items()}
        self.states = {code: verdicts.state for code, verdicts in self.current.items()}
        self.judged_again = {code: len(v.now) - v.reused if v.asked else None for code, v in self.current.items()}
        self.current = {}
