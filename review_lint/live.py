"""A project kept in memory for the language server: facts per module, the editor's
unsaved buffers, and the last judgement.

The first load gathers every file's facts as `check` does (the facts cache, worker
processes). After that, a change re-extracts only the modules whose text changed
(an open buffer, or a file changed on disk); every other module keeps its facts in
memory. Judgement is then incremental (incremental.py): each rule's verdict on a
module is reused while nothing it read changed, and judged again otherwise.

A buffer that does not parse keeps the last facts of its module that did: the
other modules' findings do not flap while the user types. The module itself then
shows its RL000 only (its other findings would point at lines of the old text).

An edit inside one function body re-extracts that function alone (extract/splice.py)
from one of the module's last few texts extracted here, newest first; anything else
extracts the whole module.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections import defaultdict
from pathlib import Path

from . import registry
from .collect import CACHE_DIR_NAME, Collector
from .config import CONFIG_NAME, ConfigError, load_settings
from .diagnostics import Diagnostic
from .discovery import PYTHON_SUFFIXES
from .engine import Engine, Options, UsageError, facts_for_file
from .facts import ModuleFacts
from .incremental import Judgements
from .pyproject import PYPROJECT_NAME

CONFIG_FILES = (CONFIG_NAME, PYPROJECT_NAME)
HISTORY = 4  # texts kept per edited module to splice the next edit into (an undo finds its text)


class _Held:
    """GatheredFacts of facts already in memory (never a settled verdict: no fingerprint)."""

    fingerprint = None

    def __init__(self, facts: list[ModuleFacts]) -> None:
        self._facts = facts

    def facts(self) -> list[ModuleFacts]:
        return self._facts


class MemoryFacts:
    """A FactsSource (engine.py) that keeps the last ModuleFacts of every module.

    `gather` reads a module (through the Collector: its cache, its workers) only the
    first time it is asked for it, or again once `changed` named it; `contents` are
    the open buffers, judged instead of the disk.
    """

    jobs = 1  # judging forks no processes: with the facts in this heap, a fork costs more than it saves
    verdicts = None  # the verdict cache keys whole projects: an edited buffer never matches one

    def __init__(self, collector: Collector, keep_last_good: bool = True) -> None:
        """`keep_last_good`: a module whose text does not parse keeps its last facts that
        did (the editor's half-typed buffer); else it has no facts, as in `check`."""
        self.collector = collector
        self.keep_last_good = keep_last_good
        self.contents: dict[str, bytes] = collector.contents  # shared: the collector reads them too
        self.held: dict[str, ModuleFacts] = {}  # path -> the facts judged
        self.good: dict[str, ModuleFacts] = {}  # path -> its last facts that parsed
        self.broken: set[str] = set()  # paths whose current text does not parse
        self.stale: set[str] = set()
        self.extracted = 0  # modules re-extracted after the first load (tests, the benchmark)
        self.spliced = 0  # of which by re-extracting one function (tests, the benchmark)
        # path -> its last texts extracted here that parsed, newest first, with their facts
        # (a splice spends the facts it starts from, and the entry with them).
        self.extractions: dict[str, list] = {}

    def forget(self) -> None:
        pass  # nothing read for a run goes stale unseen: `changed` names what did

    def contents_key(self, root: Path, files: list[str]) -> str | None:
        return None

    def changed(self, path: str) -> None:
        self.stale.add(path)

    def gather(self, root: Path, files: list[str]) -> _Held:
        missing = [path for path in files if path not in self.held]
        if missing:
            # The first load reads and refreshes the facts cache. Later misses (files
            # created, an exclude dropped) leave it alone: a gather saves only the
            # entries of the files it was given.
            collector = self.collector if not self.held else dataclasses.replace(self.collector, cache_dir=None)
            collector.forget()
            for facts in collector.gather(root, missing).facts():
                self._keep(facts)
        for path in sorted(self.stale):
            if path in self.held or path in files:
                self._keep(self._extract(root, path))
                self.extracted += 1
        self.stale.clear()
        return _Held([self.held[path] for path in files])

    def _extract(self, root: Path, path: str) -> ModuleFacts:
        """The module's facts from its current text: spliced into the facts of one of its
        last texts when the edit stays inside one function body, else extracted in full."""
        data = self.contents.get(path)
        if data is None:
            try:
                data = (root / path).read_bytes()
            except OSError:
                return facts_for_file(root, path, None)  # its RL000
        from .extract.splice import Extraction, splice  # LibCST: the first load may not have imported it
        from .source import decode

        try:
            new = Extraction(decode(data))
        except (SyntaxError, UnicodeDecodeError, LookupError):
            return facts_for_file(root, path, data)
        history = self.extractions.setdefault(path, [])
        for previous in list(history):
            try:
                facts = splice(previous, new)
            except Exception:  # noqa: BLE001 - a fault of the shortcut must cost no more than the long way
                history.clear()
                break
            if facts is not None:
                history.remove(previous)
                history.insert(0, new)
                self.spliced += 1
                return facts
        facts = facts_for_file(root, path, data)
        if not facts.problems:
            new.facts = facts
            history.insert(0, new)
            del history[HISTORY:]
        return facts

    def _keep(self, facts: ModuleFacts) -> None:
        path = facts.path
        if self.keep_last_good and any(problem.code == "RL000" for problem in facts.problems) and path in self.good:
            self.broken.add(path)
            facts = dataclasses.replace(self.good[path], problems=list(facts.problems))
        else:
            self.broken.discard(path)
            self.good[path] = facts
        self.held[path] = facts

    def drop(self, path: str) -> None:
        for kept in (self.held, self.good, self.contents, self.extractions):
            kept.pop(path, None)
        self.broken.discard(path)
        self.stale.discard(path)


class LiveProject:
    """One project root: its settings, its files, its facts in memory, its findings.

    Not thread-safe: the server calls it from one thread only.
    """

    def __init__(self, root: Path, cache: bool = True) -> None:
        self.root = root.resolve()
        # The server runs threads: its workers are spawned, not forked.
        collector = Collector(jobs=os.cpu_count() or 1, cache_dir=self.root / CACHE_DIR_NAME if cache else None,
                              patch_libcst=True, start_method="spawn")
        self.source = MemoryFacts(collector)
        self.files: list[str] = []
        self.findings: dict[str, list[Diagnostic]] = {}  # path -> its diagnostics, as last judged
        self.internal: list[Diagnostic] = []  # RL999 that name no file of the project
        self.engine: Engine | None = None
        self.judgements = Judgements()  # the last judgement's verdicts, for the next one to reuse
        # The configuration's error at the first load (then every rule's defaults are in force).
        self.config_error = self.load_settings()

    # -- paths ----------------------------------------------------------------
    @staticmethod
    def relative_to(root: Path, path: Path) -> str | None:
        """The root-relative POSIX path of a file below `root`, else None."""
        try:
            relative = Path(os.path.relpath(path.resolve(), root.resolve())).as_posix()
        except ValueError:  # another drive
            return None
        return None if relative == ".." or relative.startswith("../") else relative

    @staticmethod
    def is_config_of(root: Path, path: Path) -> bool:
        """Whether the file is one the settings of the project at `root` come from."""
        return path.name in CONFIG_FILES and path.resolve().parent == root.resolve()

    def judged(self, relative: str) -> bool:
        """Whether the file is one the project judges (Python, not excluded)."""
        return relative.endswith(PYTHON_SUFFIXES) and not self.engine.settings.is_excluded(relative)

    def refresh_files(self) -> None:
        """List the project's files again (a file created or deleted, an exclude changed);
        open buffers count even when git does not know them yet."""
        files, _ = self.engine.files()
        known = set(files)
        files += sorted(p for p in self.source.contents if p not in known and self.judged(p))
        for gone in set(self.files) - set(files):
            self.source.drop(gone)
        self.files = files

    # -- what the editor says ---------------------------------------------------
    def set_buffer(self, relative: str, text: str) -> None:
        """The unsaved text of an open document."""
        data = text.encode("utf-8", "surrogatepass")
        if self.source.contents.get(relative) == data:
            return
        self.source.contents[relative] = data
        self.source.changed(relative)
        if relative not in self.files and self.judged(relative):
            self.files.append(relative)

    def close_buffer(self, relative: str) -> None:
        """The document was closed: the file on disk is the truth again."""
        if self.source.contents.pop(relative, None) is None:
            return
        self.source.changed(relative)
        if not (self.root / relative).is_file() and relative in self.files:
            self.files.remove(relative)
            self.source.drop(relative)

    def disk_changed(self, relative: str) -> None:
        """A file changed on disk (created, edited elsewhere, deleted)."""
        if relative in self.source.contents:
            return  # the open buffer wins until it is closed
        if (self.root / relative).is_file():
            if relative not in self.files and self.judged(relative):
                self.files.append(relative)
            self.source.changed(relative)
        elif relative in self.files:
            self.files.remove(relative)
            self.source.drop(relative)

    def load_settings(self) -> str | None:
        """Read the configuration (again): None, or its one-line error, and then the last
        good settings stay in force (the first time: every rule's defaults)."""
        options = Options(paths=[str(self.root)], root=str(self.root))
        error = None
        try:
            self.engine = Engine(options, cwd=self.root)
        except (ConfigError, UsageError) as failure:
            error = str(failure)
            if self.engine is None:
                self.engine = Engine(options, cwd=self.root, settings=load_settings(None, registry.load_specs()))
        self.refresh_files()
        return error

    # -- judgement ----------------------------------------------------------------
    def judge(self, full: bool = False) -> dict[str, list[Diagnostic]]:
        """Re-extract what changed, judge again what it can affect; path -> its diagnostics.
        `full`: judge everything again, remembering nothing (what incremental judgement
        must equal: the differential tests and bench/incremental_diff.py compare them)."""
        facts = self.source.gather(self.root, self.files).facts()
        _, (diagnostics, _) = self.engine.judge(facts, self.source.jobs, None if full else self.judgements)
        findings: dict[str, list[Diagnostic]] = defaultdict(list)
        internal = []
        known = set(self.files)
        for diagnostic in diagnostics:
            if diagnostic.path in self.source.broken and diagnostic.rule not in ("RL000", "RL999"):
                continue  # a finding on the last good text: its lines no longer hold
            if diagnostic.path in known:
                findings[diagnostic.path].append(diagnostic)
            else:
                internal.append(diagnostic)
        self.findings = dict(findings)
        self.internal = internal
        return self.findings
