"""The two phases: facts per file, then judgement over the whole project."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import registry
from .config import CONFIG_NAME, ConfigError, RuleSpec, Settings, load_settings, rule_code
from .diagnostics import Diagnostic
from .discovery import PYTHON_SUFFIXES, project_files
from .facts import WHOLE_FILE, ModuleFacts, Problem
from .project import Module, Project, find_root, module_name
from .pyproject import PYPROJECT_NAME, UnreadPyproject, read_table
from .rule import Rule

RL000 = ("RL000", "syntax-error")
RL999 = ("RL999", "internal-error")


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
    if data is None:
        try:
            data = (root / relative).read_bytes()
        except OSError as error:
            facts = ModuleFacts(path=relative)
            facts.problems.append(Problem("RL000", f"cannot read the file: {error.strerror or error}"))
            return facts
    # Imported here: LibCST takes 0.2 s to import, and a warm run never parses.
    from .extract import extract
    from .source import parse

    try:
        source, module, failed = parse(relative, data)
        if failed is not None:
            return failed
        return extract(relative, source, module)
    except RecursionError:
        facts = ModuleFacts(path=relative)
        facts.problems.append(Problem("RL999", "extraction: RecursionError: the file is too deeply nested to analyse"))
        return facts
    except Exception as error:  # noqa: BLE001 - one file must never stop the run
        facts = ModuleFacts(path=relative)
        facts.problems.append(Problem("RL999", f"extraction: {type(error).__name__}: {_one_line(error)}"))
        return facts


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] or type(error).__name__


class Engine:
    def __init__(self, options: Options, cwd: Path | None = None) -> None:
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
        config_path = self._config_path()
        self.settings: Settings = load_settings(config_path, self.specs)
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
    def run(self, collect: Callable[[Path, list[str]], list[ModuleFacts]] | None = None) -> RunResult:
        everything, reported = self.files()
        collect = collect or _collect_serial
        if hasattr(collect, "forget"):
            collect.forget()  # files read by an earlier run (before --fix) are stale
        remembered = getattr(collect, "remembered_judgement", None)
        settings = self._judgement_settings()
        key = collect.judgement_key(self.root, everything, settings) if remembered else None
        judged = remembered(key) if key else None
        if judged is None:
            gathered = collect.gather(self.root, everything) if hasattr(collect, "gather") else None
            # Files changed but perhaps not what they say (a comment): the verdicts by facts.
            facts_key = collect.facts_judgement_key(gathered, settings) if gathered else None
            judged = remembered(facts_key) if facts_key else None
            if judged is None:
                all_facts = gathered.facts() if gathered is not None else collect(self.root, everything)
                project = self.build_project(all_facts)
                judged = self._judge_all(all_facts, project, getattr(collect, "jobs", 1))
                loader = lambda: project  # noqa: E731
            else:
                loader = lambda: self.build_project(gathered.facts())  # noqa: E731
            if key or facts_key:
                collect.remember_judgement([key, facts_key], judged)
        else:
            # Nothing that affects a verdict changed: the facts stay on disk unless a
            # reporter asks for the project (baseline fingerprints do).
            loader = lambda: self.build_project(collect(self.root, everything))  # noqa: E731
        diagnostics, internal = judged
        kept = [d for d in diagnostics if d.path in reported or d.rule == "RL999"]
        return RunResult(self.root, kept, len(reported), self.specs, loader, internal)

    def _judgement_settings(self) -> str:
        """Everything besides the files and the code that can change a verdict."""
        return repr((self.settings.exclude, sorted(self.settings.per_file_ignores.items()), self.settings.test_paths,
                     sorted((code, repr(rule)) for code, rule in self.settings.rules.items()), self.enabled))

    def _judge_all(self, all_facts: list[ModuleFacts], project: Project, jobs: int = 1) -> tuple[list[Diagnostic], int]:
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
        for rule_diagnostics, failed in self._judge_rules(project, jobs):
            internal += failed
            diagnostics.extend(rule_diagnostics)
        kept = [d for d in diagnostics if not self._suppressed(d, project)]
        kept.sort(key=Diagnostic.sort_key)
        return kept, internal

    def _judge_rules(self, project: Project, jobs: int) -> list[tuple[list[Diagnostic], int]]:
        """Each enabled rule's diagnostics and failure count.

        With more than one core, a forked process judges the first half of the
        rules while this one judges the rest: the facts are shared copy-on-write,
        and only diagnostics travel back. Rules that share knowledge (RL001 and
        RL002 the handlers, RL003 and RL004 the reads) stay together. If the
        child dies, its rules are judged here.
        """
        codes = list(self.enabled)
        if jobs < 2 or len(codes) < 2 or not sys.platform.startswith("linux"):
            return [self._judge(code, project) for code in codes]
        from multiprocessing import get_context

        theirs, mine = codes[: len(codes) // 2], codes[len(codes) // 2 :]
        context = get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_judge_in_child, args=(self, theirs, project, sender))
        child.start()
        sender.close()
        try:
            judged_here = [self._judge(code, project) for code in mine]
            try:
                judged_there = receiver.recv()
            except (EOFError, OSError):
                judged_there = None
        except KeyboardInterrupt:
            child.terminate()  # it leaves Ctrl-C to this process
            raise
        child.join()
        if judged_there is None:
            judged_there = [self._judge(code, project) for code in theirs]
        return judged_there + judged_here

    def build_project(self, all_facts: list[ModuleFacts]) -> Project:
        package_dirs: dict[str, bool] = {}

        def is_package_dir(folder: str) -> bool:
            if folder not in package_dirs:
                package_dirs[folder] = (self.root / folder / "__init__.py").is_file()
            return package_dirs[folder]

        modules = []
        for facts in all_facts:
            name, is_package = module_name(facts.path, is_package_dir)
            modules.append(Module(name, is_package, facts))
        return Project(self.root, modules, self.settings.is_test)

    def _judge(self, code: str, project: Project) -> tuple[list[Diagnostic], int]:
        spec = self.specs[code]
        settings = self.settings.rules[code]
        try:
            rule: Rule = registry.load_rule_class(spec)(settings.options)
            found = [Diagnostic.of(f, code, spec.name, settings.severity) for f in rule.check(project)]
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
            where = _location_of(error, project)
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


def _judge_in_child(engine: Engine, codes: list[str], project: Project, sender) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops this process
    sender.send([engine._judge(code, project) for code in codes])
    sender.close()


def _location_of(error: Exception, project: Project) -> str:
    """The file a failing rule was judging, when it said so; else the first file."""
    path = getattr(error, "review_lint_path", None)
    if path:
        return path
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


def _collect_serial(root: Path, files: list[str]) -> list[ModuleFacts]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        return [facts_for_file(root, relative) for relative in files]
    finally:
        sys.setrecursionlimit(limit)
