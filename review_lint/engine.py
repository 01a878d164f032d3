"""The two phases: facts per file, then judgement over the whole project."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

from . import registry
from .config import CONFIG_NAME, ConfigError, RuleSpec, Settings, load_settings, rule_code
from .diagnostics import Diagnostic, one_line
from .discovery import PYTHON_SUFFIXES, project_files
from .facts import WHOLE_FILE, ModuleFacts, Problem
from .incremental import Judgements
from .project import Module, Project, find_root, module_name, reading
from .pyproject import PYPROJECT_NAME, UnreadPyproject, read_table
from .rule import Rule

RL000 = ("RL000", "syntax-error")
RL999 = ("RL999", "internal-error")


class GatheredFacts(Protocol):
    """Every file's facts, decoded on first use."""

    fingerprint: str | None  # what the files say (their facts), or None when unsettled

    def facts(self) -> list[ModuleFacts]: ...


class VerdictStore(Protocol):
    """Verdicts of earlier runs, by the key of the project they judged."""

    def key(self, contents: str | None, settings: str) -> str | None: ...

    def recall(self, key: str | None) -> tuple[list[Diagnostic], int] | None: ...

    def remember(self, keys: list[str | None], judgement: tuple[list[Diagnostic], int]) -> None: ...


class FactsSource(Protocol):
    """Where phase 1's facts come from (collect.Collector: cache, prefilter, workers)."""

    jobs: int  # processes the judging may use too
    verdicts: VerdictStore | None

    def forget(self) -> None:
        """Drop what was read for the last run (a --fix changed the files)."""

    def contents_key(self, root: Path, files: list[str]) -> str | None:
        """A digest of what the files hold, or None when one cannot be read."""

    def gather(self, root: Path, files: list[str]) -> GatheredFacts:
        """Every file's facts."""


class UsageError(Exception):
    """Bad input from the command line, phrased for the user."""


@dataclass
class Options:
    paths: list[str] = field(default_factory=lambda: ["."])
    config: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    verbose: bool = False
    root: str | None = None  # overrides root discovery (tests, embedding)
    stdin: bytes | None = None  # the content of paths[0] (read from stdin: it need not exist on disk)


@dataclass
class RunResult:
    root: Path
    diagnostics: list[Diagnostic]
    files: int
    specs: dict[str, RuleSpec]
    # Builds the project model on first use (the verdicts may have come from the cache).
    project_loader: Callable[[], Project | None]
    internal_errors: int = 0
    _project: Project | None = None
    # id(diagnostic) -> (diagnostic, fingerprint), set by baseline.attach when needed.
    fingerprints: dict | None = None
    # Root-relative path -> the content judged in place of the file on disk (stdin).
    contents: dict[str, bytes] = field(default_factory=dict)

    def read_bytes(self, path: str) -> bytes:
        """The content a root-relative file was judged with: from stdin, else the disk (OSError)."""
        content = self.contents.get(path)
        return content if content is not None else (self.root / path).read_bytes()

    @property
    def project(self) -> Project | None:
        """The project model; built on first use when the verdicts came from the cache."""
        if self._project is None:
            self._project = self.project_loader()
        return self._project


def facts_for_file(root: Path, relative: str, data: bytes | None = None) -> ModuleFacts:
    """Phase 1 for one file. Never raises: problems become RL000/RL999 facts."""
    return facts_and_source(root, relative, data)[0]


def facts_and_source(root: Path, relative: str, data: bytes | None = None) -> tuple[ModuleFacts, str | None]:
    """The file's facts (as facts_for_file), and the source they were extracted from
    (None when none was)."""
    if data is None:
        try:
            data = (root / relative).read_bytes()
        except OSError as error:
            facts = ModuleFacts(path=relative)
            facts.problems.append(Problem("RL000", f"cannot read the file: {error.strerror or error}"))
            return facts, None
    # Imported here: LibCST takes 0.2 s to import, and a warm run never parses.
    from .extract import extract
    from .source import parse

    try:
        source, module, failed = parse(relative, data)
        if failed is not None:
            return failed, None
        return extract(relative, source, module), source
    except RecursionError:
        facts = ModuleFacts(path=relative)
        facts.problems.append(Problem("RL999", "extraction: RecursionError: the file is too deeply nested to analyse"))
        return facts, None
    except Exception as error:  # noqa: BLE001 - one file must never stop the run
        facts = ModuleFacts(path=relative)
        facts.problems.append(Problem("RL999", f"extraction: {type(error).__name__}: {_one_line(error)}"))
        return facts, None


def _one_line(error: BaseException) -> str:
    return one_line(error, 200) or type(error).__name__


class Engine:
    def __init__(self, options: Options, cwd: Path | None = None, settings: Settings | None = None) -> None:
        """`settings`, when given, stand in for the configuration file (the language
        server keeps its last good settings when the file breaks)."""
        self.options = options
        self.cwd = (cwd or Path.cwd()).resolve()
        paths = [Path(p) if Path(p).is_absolute() else self.cwd / p for p in options.paths or ["."]]
        for path, given in zip(paths, options.paths or ["."]):
            if options.stdin is not None and path.is_dir():
                raise UsageError(f"--stdin-filename: is a folder: {given}")
            if options.stdin is None and not os.path.lexists(path):
                raise UsageError(f"path does not exist: {given}")
        self.paths = [p.resolve() for p in paths]
        self.root = Path(options.root).resolve() if options.root else find_root(self.paths[0], self.cwd)
        self.specs = registry.load_specs()
        self.notes: list[str] = []  # what --verbose adds: which configuration was read, and why
        # Files judged with a content other than the disk's: the one read from stdin.
        self.contents = {self.relative(self.paths[0]): options.stdin} if options.stdin is not None else {}
        self.settings: Settings = settings if settings is not None else load_settings(self._config_path(), self.specs)
        self.enabled = self._enabled_codes()
        self.skipped: list[str] = []  # files named on the command line that are not Python

    def _config_path(self) -> Path | None:
        """--config, else `.review-lint.yaml` at the root, else pyproject.toml's
        `[tool.review-lint]` table. A pyproject.toml that does not parse stops the run
        only when it shows a review-lint table: otherwise it is another tool's file."""
        if self.options.config:
            path = Path(self.options.config)
            path = path if path.is_absolute() else self.cwd / path
            if not path.is_file():
                raise UsageError(f"configuration file not found: {self.options.config}")
            return path
        candidate, pyproject = self.root / CONFIG_NAME, self.root / PYPROJECT_NAME
        if candidate.is_file():
            if self.options.verbose and pyproject.is_file():
                try:
                    table = read_table(pyproject)
                except ConfigError:
                    table = None  # not read, so not a reason to stop
                if table is not None:
                    self.notes.append(f"{candidate.name} wins over [tool.review-lint] in {pyproject.name} "
                                      f"(line {table[1]}), which is not read")
            return candidate
        try:
            table = read_table(pyproject) if pyproject.is_file() else None
        except UnreadPyproject as error:
            self.notes.append(f"{error}; no settings read from it")
            table = None
        return pyproject if table is not None else None

    def _codes(self, names: Iterable[str], flag: str) -> set[str]:
        """Codes, names, `ALL`, or a code prefix (`RL00`), as ruff takes them."""
        codes = set()
        for name in names:
            if name.upper() == "ALL":
                codes.update(self.specs)
                continue
            try:
                codes.add(rule_code(name, self.specs))
                continue
            except KeyError:
                pass
            prefixed = {code for code in self.specs if code.startswith(name.upper())} if name[:1].isalpha() else set()
            if not prefixed:
                raise UsageError(f"{flag}: unknown rule {name!r} (see `review-lint rules`)")
            codes.update(prefixed)
        return codes

    def _enabled_codes(self) -> list[str]:
        selected = self._codes(self.options.select, "--select")
        ignored = self._codes(self.options.ignore, "--ignore")
        enabled = []
        for code, rule in self.settings.rules.items():
            on = code in selected if selected else rule.enabled
            if on and code not in ignored:
                enabled.append(code)
        return sorted(enabled)

    # -- files ------------------------------------------------------------
    def relative(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.root)).as_posix()

    def files(self) -> tuple[list[str], set[str]]:
        """(every project file, the files to report on)."""
        self.skipped = []
        everything = [p for p in project_files(self.root) if not self.settings.is_excluded(p)]
        known = set(everything)
        reported: set[str] = set()
        for path in self.paths:
            relative = self.relative(path)
            if path.is_dir():
                prefix = "" if relative == "." else relative + "/"
                below = [p for p in everything if p.startswith(prefix)]
                if relative.startswith("..") and not below:
                    below = [self.relative(Path(f)) for f in _walk_python(path)]
                    below = [p for p in below if not self.settings.is_excluded(p)]
                    for p in below:
                        if p not in known:
                            known.add(p)
                            everything.append(p)
                reported.update(below)
            elif self.settings.is_excluded(relative):
                continue
            elif not relative.endswith(PYTHON_SUFFIXES) and not _has_python_shebang(path, self.contents.get(relative)):
                self.skipped.append(os.path.relpath(path, self.cwd))
            else:
                reported.add(relative)
                if relative not in known:
                    known.add(relative)
                    everything.append(relative)
        return everything, reported

    # -- the run ----------------------------------------------------------
    def run(self, source: FactsSource | None = None) -> RunResult:
        """Files -> facts -> project -> verdicts, each step skipped when the
        source's verdict cache already holds its outcome."""
        everything, reported = self.files()
        source = source if source is not None else _serial_source()
        source.forget()  # files read by an earlier run (before --fix) are stale
        verdicts = source.verdicts
        settings = self._judgement_settings()
        files_key = verdicts.key(source.contents_key(self.root, everything), settings) if verdicts else None
        judged = verdicts.recall(files_key) if verdicts else None
        if judged is not None:
            # Nothing that affects a verdict changed: the facts stay on disk unless a
            # reporter asks for the project (baseline fingerprints do).
            loader = lambda: self.build_project(source.gather(self.root, everything).facts())  # noqa: E731
        else:
            gathered = source.gather(self.root, everything)
            # Files changed but perhaps not what they say (a comment): the verdicts by facts.
            facts_key = verdicts.key(gathered.fingerprint, settings) if verdicts else None
            judged = verdicts.recall(facts_key) if verdicts else None
            if judged is None:
                project, judged = self.judge(gathered.facts(), source.jobs)
                loader = lambda: project  # noqa: E731
            else:
                loader = lambda: self.build_project(gathered.facts())  # noqa: E731
            if verdicts:
                verdicts.remember([files_key, facts_key], judged)
        return self.result(judged, reported, loader)

    def result(self, judged: tuple[list[Diagnostic], int], reported: set[str],
               loader: Callable[[], Project | None]) -> RunResult:
        """The run's outcome from the project's judgement: the diagnostics of the files
        to report on (and internal errors, which name no file of the project)."""
        diagnostics, internal = judged
        kept = [d for d in diagnostics if d.path in reported or d.rule == "RL999"]
        return RunResult(self.root, kept, len(reported), self.specs, loader, internal)

    def _judgement_settings(self) -> str:
        """Everything besides the files and the code that can change a verdict. Part of
        a cache key that other processes (a later run, another machine) must compute
        alike: sets are sorted, since their order follows the process's string hashing."""
        ignores = sorted((pattern, sorted(codes)) for pattern, codes in self.settings.per_file_ignores.items())
        return repr((self.settings.exclude, ignores, self.settings.test_paths,
                     sorted((code, repr(rule)) for code, rule in self.settings.rules.items()), self.enabled))

    def judge(self, all_facts: list[ModuleFacts], jobs: int = 1,
              judgements: Judgements | None = None) -> tuple[Project, tuple[list[Diagnostic], int]]:
        """Phase 2 over facts already gathered: the project model, and (diagnostics, internal errors).

        With `judgements` (what the last judgement of this project left, kept by the
        language server), verdicts that the changes since cannot affect are reused
        (incremental.py), in this process."""
        if judgements is None:
            project = self.build_project(all_facts)
            return project, self._judge_all(all_facts, project, jobs)
        modules = judgements.modules_for(all_facts, self, judgements.names(all_facts, self, self.module_names))
        project = judgements.project(self.root, modules, self.settings.is_test)
        judged = self._judge_all(all_facts, project, 1, judgements)
        judgements.finish(project)
        return project, judged

    def _judge_all(self, all_facts: list[ModuleFacts], project: Project, jobs: int = 1,
                   judgements: Judgements | None = None) -> tuple[list[Diagnostic], int]:
        diagnostics: list[Diagnostic] = []
        internal = 0
        for facts in all_facts:
            for problem in facts.problems:
                code, name = RL000 if problem.code == "RL000" else RL999
                internal += code == "RL999"
                diagnostics.append(
                    Diagnostic(facts.path, problem.line, problem.column, problem.line, problem.column, code, name,
                               "error", problem.message)
                )
        judged = ([self._judge(code, project, judgements) for code in self.enabled] if judgements is not None
                  else self._judge_rules(project, jobs))
        for rule_diagnostics, failed in judged:
            internal += failed
            diagnostics.extend(rule_diagnostics)
        kept = [d for d in diagnostics if not self._suppressed(d, project)]
        kept.sort(key=Diagnostic.sort_key)
        return kept, internal

    def _judge_rules(self, project: Project, jobs: int) -> list[tuple[list[Diagnostic], int]]:
        """Each enabled rule's diagnostics and failure count.

        Rules that ask for the same knowledge (`Rule.uses`) are judged in one
        process, which builds that knowledge once. With more than one core, forked
        processes judge all but the largest share of those groups while this one
        judges the rest: the facts are shared copy-on-write, and only diagnostics
        travel back. If a child dies, its rules are judged here. A large project is
        judged here alone (see FORKED_JUDGING_MAX_MODULES).
        """
        forking = sys.platform.startswith("linux") and len(project.all_modules) <= FORKED_JUDGING_MAX_MODULES
        shares = _shares(self._rule_groups(), jobs if forking else 1)
        if len(shares) < 2:
            return [self._judge(code, project) for share in shares for code in share]
        from multiprocessing import get_context

        context = get_context("fork")
        children = []
        for share in shares[1:]:
            receiver, sender = context.Pipe(duplex=False)
            child = context.Process(target=_judge_in_child, args=(self, share, project, sender))
            child.start()
            sender.close()
            children.append((share, child, receiver))
        try:
            judged = {code: self._judge(code, project) for code in shares[0]}
            for share, child, receiver in children:
                try:
                    judged.update(zip(share, receiver.recv()))
                except (EOFError, OSError):
                    pass
                child.join()
        except KeyboardInterrupt:
            for _, child, _ in children:
                child.terminate()  # they leave Ctrl-C to this process
            for _, child, _ in children:
                child.join()  # reaped here: left to init, a zombie outlived the run (its group stayed alive)
            raise
        for code in self.enabled:
            if code not in judged:
                judged[code] = self._judge(code, project)  # its process died
        return [judged[code] for code in self.enabled]

    def _rule_groups(self) -> list[list[str]]:
        """The enabled rules, grouped so that rules sharing knowledge stay together."""
        uses = {}
        for code in self.enabled:
            try:
                uses[code] = set(registry.load_rule_class(self.specs[code]).uses)
            except Exception:  # noqa: BLE001 - _judge reports a rule that does not load
                uses[code] = set()
        return _connected(uses)

    def module_names(self, all_facts: list[ModuleFacts]) -> dict[str, tuple[str, bool]]:
        """path -> (dotted module name, is a package)."""
        package_dirs: dict[str, bool] = {}

        def is_package_dir(folder: str) -> bool:
            if folder not in package_dirs:
                package_dirs[folder] = (self.root / folder / "__init__.py").is_file()
            return package_dirs[folder]

        return {facts.path: module_name(facts.path, is_package_dir) for facts in all_facts}

    def build_project(self, all_facts: list[ModuleFacts]) -> Project:
        names = self.module_names(all_facts)
        modules = [Module(*names[facts.path], facts) for facts in all_facts]
        return Project(self.root, modules, self.settings.is_test)

    def _judge(self, code: str, project: Project, judgements: Judgements | None = None) -> tuple[list[Diagnostic], int]:
        spec = self.specs[code]
        settings = self.settings.rules[code]
        try:
            rule: Rule = registry.load_rule_class(spec)(settings.options)
            if judgements is not None:
                rule.verdicts = judgements.for_rule(code)
                # The rule's own reads (outside its per-module verdicts) decide whether any may be reused.
                with reading():
                    findings = list(rule.check(project))
            else:
                findings = rule.check(project)
            found = [Diagnostic.of(f, code, spec.name, settings.severity) for f in findings]
            # A rule that judges module by module (Rule.per_module) loses only the
            # modules it failed on; each failure is one RL999 naming its file.
            failures = list(getattr(rule, "module_failures", None) or ())
            for failure in failures:
                message = (f"rule {code} ({spec.name}) failed on this file: "
                           f"{type(failure.error).__name__}: {_one_line(failure.error)}")
                if self.options.verbose:
                    message += "\n" + failure.traceback
                found.append(Diagnostic(failure.path, 1, 1, 1, 1, *RL999, "error", message))
            return found, len(failures)
        except Exception as error:  # noqa: BLE001 - a broken rule must not hide the others
            message = f"rule {code} ({spec.name}) failed: {type(error).__name__}: {_one_line(error)}"
            if self.options.verbose:
                message += "\n" + traceback.format_exc()
            where = _location_of(project)
            return [Diagnostic(where, 1, 1, 1, 1, *RL999, "error", message)], 1

    def _suppressed(self, diagnostic: Diagnostic, project: Project) -> bool:
        if diagnostic.rule in self.settings.ignored_codes(diagnostic.path):
            return True
        module = project.by_path.get(diagnostic.path)
        if module is None or diagnostic.rule in ("RL000",):
            return False
        if module.facts.suppressions.get(WHOLE_FILE, False) is None:
            return True  # `# review-lint: skip-file`
        codes = module.facts.suppressions.get(diagnostic.line, False)
        if codes is False:
            return False
        # Comments are read upper-cased: `ignore[assert-in-handler]` is ASSERT-IN-HANDLER.
        return codes is None or diagnostic.rule in codes or diagnostic.name.upper() in codes


# A forked judge copies the pages it reads: every object it touches gets its reference
# count written. It copies about three quarters of the facts (116 KB a module on the
# 10,000-file scale tree: one file changed peaks at 770 MB with a forked judge against
# 446 MB without, on its quarter, for 12% less wall time). Below this many modules the
# copy is at most about 120 MB and the time is worth it; above, the memory is not.
FORKED_JUDGING_MAX_MODULES = 1_000


def _judge_in_child(engine: Engine, codes: list[str], project: Project, sender) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops this process
    sender.send([engine._judge(code, project) for code in codes])
    sender.close()


def _connected(uses: dict[str, set[str]]) -> list[list[str]]:
    """Codes grouped by shared knowledge, transitively (each group in code order)."""
    groups: list[tuple[set[str], list[str]]] = []
    for code in sorted(uses):
        knowledge, members = set(uses[code]), [code]
        for group in [g for g in groups if g[0] & knowledge]:
            groups.remove(group)
            knowledge |= group[0]
            members += group[1]
        groups.append((knowledge, members))
    return sorted(sorted(members) for _, members in groups)


def _shares(groups: list[list[str]], processes: int) -> list[list[str]]:
    """Groups dealt out to at most `processes` shares, largest group first onto the
    smallest share; the first share (this process's) is the largest."""
    shares: list[list[str]] = [[] for _ in range(max(1, min(processes, len(groups))))]
    for group in sorted(groups, key=len, reverse=True):
        min(shares, key=len).extend(group)
    return sorted((sorted(share) for share in shares if share), key=len, reverse=True)


def _location_of(project: Project) -> str:
    """Where a rule that failed as a whole is reported: the project's first file."""
    return project.all_modules[0].path if project.all_modules else "."


def _has_python_shebang(path: Path, content: bytes | None = None) -> bool:
    """A script named on the command line (what pre-commit's `types: [python]` passes)."""
    if content is not None:
        first = content[:200].split(b"\n", 1)[0]
    else:
        try:
            with open(path, "rb") as stream:
                first = stream.readline(200)
        except OSError:
            return False
    return first.startswith(b"#!") and b"python" in first


def _walk_python(folder: Path) -> list[str]:
    from .discovery import _walk

    return [str(folder / p) for p in _walk(folder) if p.endswith(PYTHON_SUFFIXES)]


def _serial_source() -> FactsSource:
    """Every file parsed here, one by one: no cache, no prefilter, no workers."""
    from .collect import Collector  # it imports this module

    return Collector(jobs=1, cache_dir=None, prefilter=False)
