"""The project model every rule asks: module names and what a name refers to.

Resolution is static: a dotted name used in a module becomes either a
definition in the project (a function, a class, a module, a module-level
variable) or an external dotted name such as `fastapi.APIRouter`.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from .facts import EMPTY_LIST, Annotation, Class, Function, Import, ModuleFacts, Value

ROOT_MARKERS = (".review-lint.yaml", "pyproject.toml", ".git")
_MAX_HOPS = 24


def find_root(first_path: Path, cwd: Path) -> Path:
    """The nearest folder at or above `first_path` holding a root marker.

    Without one: the current directory when the path lies inside it, else the
    path's own folder (so a tree checked from elsewhere is still one project).
    """
    start = first_path.resolve()
    if not start.is_dir():
        start = start.parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    cwd = cwd.resolve()
    return cwd if start == cwd or cwd in start.parents else start


@functools.lru_cache(maxsize=1 << 16)
def rooted_name(relative: str) -> str:
    """The module name as seen from the root (or `src/`): a second name for files
    in regular packages below namespace folders (`galaxy/webapps/x.py` when
    `galaxy/` has no `__init__.py`), which module_name cannot tell apart from a
    folder that is not on the import path at all."""
    parts = list(PurePosixPath(relative).parts)
    if parts[:1] == ["src"]:
        parts = parts[1:]
    stem = parts[-1].rsplit(".", 1)[0]
    names = parts[:-1] + ([] if stem == "__init__" else [stem])
    return ".".join(n for n in names if n)


def module_name(relative: str, is_package_dir: Callable[[str], bool]) -> tuple[str, bool]:
    """(dotted module name, is a package) for a POSIX path relative to the root.

    A file inside regular packages is named from the topmost folder with an
    `__init__.py` (this handles `src/` layouts and unpacked wheels); a file in
    a folder without one is named from the root, dropping a leading `src/`
    (namespace packages). Project also knows every module by rooted_name.
    """
    parts = list(PurePosixPath(relative).parts)
    stem = parts[-1].rsplit(".", 1)[0]
    is_package = stem == "__init__"
    folders = parts[:-1]
    if folders and is_package_dir("/".join(folders)):
        top = len(folders)
        while top > 0 and is_package_dir("/".join(folders[:top])):
            top -= 1
        names = folders[top:]
    else:
        names = folders[1:] if folders[:1] == ["src"] else folders
    names = names + ([] if is_package else [stem])
    return ".".join(n for n in names if n), is_package


@dataclass(frozen=True, slots=True)
class Symbol:
    """What a name refers to.

    kind: "function", "class", "module", "variable" (inside the project, with
    `module` and `qualname`), or "external" (`qualname` is the dotted name).
    """

    kind: str
    module: str
    qualname: str

    @property
    def external(self) -> bool:
        return self.kind == "external"

    @property
    def key(self) -> str:
        return f"{self.module}:{self.qualname}" if self.module else self.qualname


# -- what a judgement read ------------------------------------------------------
# Incremental judgement (incremental.py) reuses a verdict while none of the modules it
# read changed. Every read of a module's content goes through Module's properties
# below, which note the module's path in the open frame: a dict of path -> the tick
# of its latest read, in the order of those reads (so that a Memo entry finds what
# was read since it was missed at the end). One frame is open at a time, in the one
# thread that judges; with none open (every run of `check`), nothing is noted.
class Frame(dict):
    """An open frame: path -> the tick of its latest read, in the order of those reads;
    and the misses of memo entries made in it (Memo._miss), which end with it."""

    __slots__ = ("misses",)

    def __init__(self) -> None:
        super().__init__()
        # id(memo) -> (the memo, key -> the tick of its miss); None until a miss. A miss's
        # record lasts as long as the frame it was made in, the only frame whose store of
        # the entry can use it: kept in the memos instead, 222,000 records were 25 MB at
        # the end of a daemon's first judgement of 10,000 files.
        self.misses: dict[int, tuple[Memo, dict]] | None = None


_frame: Frame | None = None
_tick = itertools.count()
# Read by a judgement that cannot say what it read: a verdict holding it is never reused.
EVERYTHING = "*"
_EVERYTHING = (EVERYTHING,)


@contextmanager
def reading() -> Iterator[Frame]:
    """A frame of its own for the reads inside the block: path -> tick."""
    global _frame
    outer, _frame = _frame, Frame()
    try:
        yield _frame
    finally:
        _frame = outer


def swap_frame(frame: Frame | None) -> Frame | None:
    """Open `frame` (or close the open one, with None or the outer frame); the frame that
    was open. What `reading` does, for loops that open a frame per item."""
    global _frame
    outer, _frame = _frame, frame
    return outer


def reads_so_far() -> Frame | None:
    """The open frame (None when nothing is noted)."""
    return _frame


def note_reads(paths: Iterable[str]) -> None:
    """Count `paths` as read now in the open frame (what a memo entry was computed from)."""
    frame = _frame
    if frame is not None:
        tick = next(_tick)
        for path in paths:
            frame.pop(path, None)
            frame[path] = tick


def _note(path: str) -> None:
    """One read of the module at `path` (the frame stays ordered by latest read)."""
    frame = _frame
    frame.pop(path, None)
    frame[path] = next(_tick)


class Memo(dict):
    """A project memo (Project.memo) whose entries remember the modules read to compute
    them, so that a judgement finding an entry counts those reads as its own. An entry
    stored after a miss holds what was read from the miss to its last store (the asker
    reads what forms the key itself): so the last store of an entry must end its
    computation (a placeholder stored first against recursion is stored again, even
    when the value stays the placeholder). One stored without a miss holds everything
    its frame had read."""

    __slots__ = ("_reads", "_tuples")

    def __init__(self, tuples: dict | None = None) -> None:
        super().__init__()
        self._reads: dict = {}
        # Equal read tuples held once (a project's memos share this table): at 10,000
        # files, 127,000 tuples held 36,000 values, 7.3 MB against 2.6.
        self._tuples: dict = tuples if tuples is not None else {}

    def __contains__(self, key) -> bool:
        if dict.__contains__(self, key):
            self._found(key)
            return True
        self._miss(key)
        return False

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        self._found(key)
        return value

    def get(self, key, default=None):
        # _found inlined: every module's entry of a kept memo is asked after every edit.
        try:
            value = dict.__getitem__(self, key)
        except KeyError:
            self._miss(key)
            return default
        frame = _frame
        if frame is not None:
            tick = next(_tick)
            for path in self._reads.get(key, _EVERYTHING):
                frame.pop(path, None)
                frame[path] = tick
        return value

    def setdefault(self, key, default=None):
        if key in self:
            return self[key]
        self[key] = default
        return default

    def __setitem__(self, key, value) -> None:
        dict.__setitem__(self, key, value)
        frame = _frame
        if frame is None:
            self._reads[key] = _EVERYTHING
            return
        misses = frame.misses
        mine = misses.get(id(self)) if misses is not None else None
        since = mine[1].get(key) if mine is not None and mine[0] is self else None
        if since is not None:
            read = []
            for path, tick in reversed(frame.items()):
                if tick <= since:
                    break
                read.append(path)
            read = tuple(read)
        else:
            read = tuple(frame)
        self._reads[key] = self._tuples.setdefault(read, read)

    def carry(self, earlier: "Memo", changed: frozenset[str]) -> None:
        """Take the entries of the same memo of the last judgement that read nothing in `changed`."""
        for key, reads in earlier._reads.items():
            if EVERYTHING not in reads and changed.isdisjoint(reads):
                dict.__setitem__(self, key, dict.__getitem__(earlier, key))
                self._reads[key] = reads

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def _found(self, key) -> None:
        if _frame is not None:
            note_reads(self._reads.get(key, _EVERYTHING))

    def _miss(self, key) -> None:
        frame = _frame
        if frame is not None:
            misses = frame.misses
            if misses is None:
                misses = frame.misses = {}
            mine = misses.get(id(self))
            if mine is None or mine[0] is not self:
                mine = misses[id(self)] = (self, {})
            mine[1][key] = next(_tick)


def module_places(modules: list["Module"]) -> tuple[list[str], dict[str, int]]:
    """Each module's path, and path -> its position: what an Index over `modules` keeps
    (Project shares one between its indexes: a dozen per judgement, 7 MB at 10,000 files)."""
    paths = [module.path for module in modules]
    return paths, {path: position for position, path in enumerate(paths)}


class _Many(list):
    """The items of an index key that has more than one (Index._items)."""

    __slots__ = ()


_NONE = object()  # no item under a key (an item may be None)


class Index:
    """A project-wide index, key -> items, gathered from each module's own contribution:
    `contribute(module)` gives (key, item) pairs that follow from that module's facts alone.
    A key's items come in the project's module order, each module's in its own order: what
    one pass over every module would build.

    Judged incrementally, an index outlives the edits (Project.index): `update` computes the
    contributions of the changed modules again, nothing else. Reading a key counts as reading
    the modules contributing to it and the key itself (`read_key`): a verdict that found no
    item of some module there is stale once that module starts contributing, so `update`
    names those keys, and incremental judgement counts them as changed."""

    __slots__ = ("kind", "_contribute", "_paths", "_positions", "_updatable", "_items", "_origins", "_reads")

    def __init__(self, kind: str, contribute: Callable[["Module"], Iterable[tuple[str, object]]],
                 modules: list["Module"], updatable: bool = True,
                 places: tuple[list[str], dict[str, int]] | None = None) -> None:
        self.kind = kind
        self._contribute = contribute
        self._paths, self._positions = places or module_places(modules)  # never changed
        # An update asks the module's last facts what they contributed: keeping each module's
        # keys instead cost 19 MB at 10,000 files, at the peak of a daemon's first judgement.
        self._updatable = updatable
        # key -> its items in module order, and key -> the module position of each: one int
        # when they all come from one module (most keys), else a list beside the items. At
        # 10,000 files a pair of lists per key was 60 MB of 148 MB that judging allocates.
        # A key's one item is held alone (most keys: a list of one is 72 bytes more), two or
        # more as a _Many. An update replaces a key's _Many, never changes it, since `get`
        # hands it out.
        self._items: dict[str, object] = {}
        self._origins: dict[str, int | list[int]] = {}
        self._reads: dict[str, tuple[str, ...]] = {}  # key -> what reading it reads (when asked)
        outer = swap_frame(None)  # the contributions are no one's reads: `get` notes what a key holds
        try:
            for module in modules:
                self._add(module)
        finally:
            swap_frame(outer)
        # Built by appending, a key's lists hold room to grow that nothing fills after (a
        # build is the only append): copied to their size. At 10,000 files, 23 MB of lists
        # became 19.
        items, origins = self._items, self._origins
        for key, found in items.items():
            if found.__class__ is _Many:
                items[key] = _Many(found)
                origin = origins[key]
                if origin.__class__ is not int:
                    origins[key] = tuple(origin)

    def read_key(self, key: str) -> str:
        """What a read of `key` is noted as, besides the modules contributing to it (never a path)."""
        return f"\0{self.kind}\0{key}"

    def get(self, key: str) -> list:
        """The items under `key` (never changed by the caller)."""
        if _frame is not None:
            reads = self._reads.get(key)
            if reads is None:
                paths = dict.fromkeys(self._paths[position] for position in self._positions_of(key))
                reads = self._reads[key] = (self.read_key(key), *paths)
            note_reads(reads)
        found = self._items.get(key, _NONE)
        return found if found.__class__ is _Many else EMPTY_LIST if found is _NONE else [found]

    def located(self, key: str) -> list[tuple[str, object]]:
        """The items under `key` (read as `get` reads), each with the path of the module it came from."""
        found = self.get(key)
        paths = self._paths
        return [(paths[position], item) for position, item in zip(self._positions_of(key), found)] if found else []

    def _list(self, key: str) -> list:
        """The items under `key` (a new list)."""
        found = self._items[key]
        return list(found) if found.__class__ is _Many else [found]

    def _positions_of(self, key: str) -> list[int]:
        """The module position of each item under `key` (a new list)."""
        origin = self._origins.get(key)
        if origin is None:
            return []
        if origin.__class__ is not int:
            return list(origin)
        found = self._items[key]
        return [origin] * (len(found) if found.__class__ is _Many else 1)

    def _set(self, key: str, positions: list[int], items: list) -> None:
        if items:
            self._items[key] = _Many(items) if len(items) > 1 else items[0]
            self._origins[key] = positions[0] if positions.count(positions[0]) == len(positions) else positions
        else:
            del self._items[key], self._origins[key]

    def update(self, by_path: dict[str, "Module"], changed: Iterable[str], earlier: dict[str, "Module"]) -> set[str]:
        """Take the contributions of the changed modules (path -> its Module now; `earlier`:
        path -> the Module this index was built or last updated with) again; the read keys
        of the keys they contribute to now and did not before."""
        if not self._updatable:
            raise RuntimeError(f"index {self.kind!r} was built for one judgement (updatable=False)")
        started: set[str] = set()
        outer = swap_frame(None)
        try:
            for path in changed:
                started |= self._update(path, by_path[path], earlier.get(path))
        finally:
            swap_frame(outer)
        return started

    def _update(self, path: str, module: "Module", earlier: "Module | None") -> set[str]:
        # A contribution follows from the module's facts alone: the earlier facts give it again.
        before = frozenset(key for key, _ in self._contribute(earlier)) if earlier is not None else frozenset()
        position = self._positions[path]
        for key in before:
            positions, items = self._positions_of(key), self._list(key)
            kept = [at for at, other in enumerate(positions) if other != position]
            self._set(key, [positions[at] for at in kept], [items[at] for at in kept])
            self._forget(key)
        now = self._add(module, updating=True)
        for key in now:
            self._forget(key)
        return {self.read_key(key) for key in now - before}

    def _add(self, module: "Module", updating: bool = False) -> frozenset[str]:
        position = self._positions[module.path]
        keys = []
        for key, item in self._contribute(module):
            items = self._items.get(key, _NONE)
            if items is _NONE:
                self._items[key] = item
                self._origins[key] = position
            elif not updating:  # built in module order: each module's items after the last
                if items.__class__ is not _Many:
                    items = self._items[key] = _Many((items,))
                origin = self._origins[key]
                if origin.__class__ is not int:
                    origin.append(position)
                elif origin != position:
                    self._origins[key] = [origin] * len(items) + [position]
                items.append(item)
            else:  # after the modules before it, and its own items so far; new lists (see above)
                positions, items = self._positions_of(key), self._list(key)
                at = bisect.bisect_right(positions, position)
                positions.insert(at, position)
                items.insert(at, item)
                self._set(key, positions, items)
            keys.append(key)
        return frozenset(keys)

    def _forget(self, key: str) -> None:
        self._reads.pop(key, None)



class Module:
    """One file's facts plus the scope tables resolution needs.

    Stateless once built: a project rebuilt after an edit keeps the Module of every
    file whose facts did not change. Its content is read through properties that note
    the read (see `reading`)."""

    __slots__ = ("name", "is_package", "path", "_facts", "_functions", "_classes", "_variables", "_imports",
                 "_derived")

    def __init__(self, name: str, is_package: bool, facts: ModuleFacts) -> None:
        self.name = name
        self.is_package = is_package
        self._facts = facts
        self.path = facts.path
        self._functions: dict[str, Function] = {f.qualname: f for f in facts.functions}
        self._classes: dict[str, Class] = {c.qualname: c for c in facts.classes}
        top = self._functions.get("<module>")
        self._variables: dict[str, Value | None] = {}
        if top is not None:
            for binding in top.bindings:
                self._variables[binding.name] = binding.value
        self._imports: dict[str, Import] = {}
        for imported in facts.imports:
            self._imports.setdefault(imported.local, imported)
        self._derived: dict[Callable, object] = {}

    def derived(self, compute: Callable[["Module"], object]) -> object:
        """`compute(self)`, once per Module: for what follows from this module's own path and
        facts alone (a Module outlives the edits of other modules in the language server).
        Asking counts as reading the module."""
        if _frame is not None:
            _note(self.path)
        try:
            return self._derived[compute]
        except KeyError:
            found = self._derived[compute] = compute(self)
            return found

    @property
    def facts(self) -> ModuleFacts:
        if _frame is not None:
            _note(self.path)
        return self._facts

    @property
    def functions(self) -> dict[str, Function]:
        if _frame is not None:
            _note(self.path)
        return self._functions

    @property
    def classes(self) -> dict[str, Class]:
        if _frame is not None:
            _note(self.path)
        return self._classes

    @property
    def variables(self) -> dict[str, Value | None]:
        if _frame is not None:
            _note(self.path)
        return self._variables

    @property
    def imports(self) -> dict[str, Import]:
        if _frame is not None:
            _note(self.path)
        return self._imports

    def absolute(self, imported: Import) -> str:
        """The absolute dotted target of an import."""
        if imported.level == 0:
            base = imported.module
        else:
            package = self.name.split(".") if self.is_package else self.name.split(".")[:-1]
            if imported.level > 1:
                package = package[: len(package) - (imported.level - 1)]
            base = ".".join(p for p in [*package, imported.module] if p)
        if imported.name is None:
            return base
        return f"{base}.{imported.name}" if base else imported.name


class Project:
    def __init__(self, root: Path, modules: list[Module], is_test: Callable[[str], bool], tracked: bool = False,
                 earlier: dict[str, Memo] | None = None, changed: frozenset[str] = frozenset(),
                 tests: dict[str, bool] | None = None, indexes: dict[str, Index] | None = None) -> None:
        """`tracked`: memos remember what their entries were computed from (incremental.py);
        `earlier`: the kept memos of the last judgement, `changed`: the modules changed since
        (and the read keys of indexes they changed); `tests`: which paths are test code, as the
        last judgement under the same settings found; `indexes`: the last judgement's, updated."""
        self.root = root
        self.tracked = tracked
        self._earlier = earlier or {}
        self._changed = changed
        self.kept: dict[str, Memo] = {}  # the memos the next judgement may take entries from
        self._places: tuple[list[str], dict[str, int]] | None = None  # shared by the indexes built here
        self.modules: dict[str, Module] = {}
        for module in modules:
            # Two files can claim one name (scripts in different folders); keep the first.
            self.modules.setdefault(module.name, module)
        for module in modules:
            # Names through namespace folders come second: a real package name wins.
            self.modules.setdefault(rooted_name(module.path), module)
        self.by_path: dict[str, Module] = {m.path: m for m in modules}
        self.all_modules = modules
        self._is_test = is_test
        self._memos: dict[str | tuple, dict] = {}
        self._read_tuples: dict[tuple, tuple] = {}  # shared by its memos (Memo._tuples)
        self._tests: dict[str, bool] = tests if tests is not None else {}
        self.indexes: dict[str, Index] = indexes if indexes is not None else {}

    def memo(self, kind: str | tuple, kept: bool = False) -> dict:
        """Where a knowledge module keeps what it derives from the whole project, so
        that it is built once however many rules ask (each rule names what it asks
        in `Rule.uses`, and the engine judges rules that share it in one process).

        `kept`: judged incrementally, the entries outlive an edit that changes none of
        the modules they read. For memos whose values hold no Project and no id(),
        and whose entries read (after their miss, through Module) every module their
        value comes from: the asker's objects are those of the last judgement."""
        memo = self._memos.get(kind)
        if memo is None:
            if not self.tracked:
                memo = {}
            else:
                memo = Memo(self._read_tuples)
                if kept:
                    earlier = self._earlier.get(kind)
                    if earlier is not None:
                        memo.carry(earlier, self._changed)
                    self.kept[kind] = memo
            self._memos[kind] = memo
        return memo

    def index(self, kind: str, contribute: Callable[[Module], Iterable[tuple[str, object]]]) -> Index:
        """The project-wide index `kind`, built from every module's `contribute(module)` (see
        Index): judged incrementally, it outlives edits, updated for the changed modules."""
        found = self.indexes.get(kind)
        if found is None:
            if self._places is None:
                self._places = module_places(self.all_modules)
            found = self.indexes[kind] = Index(kind, contribute, self.all_modules, self.tracked, self._places)
        return found

    def cache(self) -> dict:
        """A memo of the caller's own (a knowledge object's cache): its entries remember
        what they were computed from, as Project.memo's do; never kept across edits."""
        return Memo(self._read_tuples) if self.tracked else {}

    def is_test(self, path: str) -> bool:
        found = self._tests.get(path)
        if found is None:  # asked of every module by every rule: matched once
            found = self._tests[path] = self._is_test(path)
        return found

    def judged_modules(self) -> Iterator[Module]:
        """Modules outside test paths."""
        for module in self.all_modules:
            if not self.is_test(module.path):
                yield module

    # -- resolution --------------------------------------------------------
    def is_imported(self, name: str) -> bool:
        """Whether an import anywhere in the project names the module `name` (or a module
        below it, or a name inside it)."""
        return bool(self.index("project-imported-modules", _imported_modules).get(name))

    def resolve(self, module: Module, name: str | None) -> Symbol | None:
        """What `name` (dotted) means in `module`; None when unknown (builtins, locals)."""
        if not name:
            return None
        head, _, rest = name.partition(".")
        return self._resolve_in(module, head, rest, 0)

    def resolve_absolute(self, dotted_name: str, hops: int = 0) -> Symbol | None:
        """Resolve a fully qualified dotted name (`pkg.mod.func`)."""
        if hops > _MAX_HOPS:
            return None
        parts = dotted_name.split(".")
        for cut in range(len(parts), 0, -1):
            target = self.modules.get(".".join(parts[:cut]))
            if target is None:
                continue
            rest = parts[cut:]
            if not rest:
                return Symbol("module", target.name, "")
            return self._resolve_in(target, rest[0], ".".join(rest[1:]), hops + 1)
        return Symbol("external", "", dotted_name)

    def _resolve_in(self, module: Module, head: str, rest: str, hops: int) -> Symbol | None:
        if hops > _MAX_HOPS:
            return None
        if head in module.classes:
            if not rest:
                return Symbol("class", module.name, head)
            return self._member(module, head, rest)
        if head in module.functions and head != "<module>":
            return Symbol("function", module.name, head) if not rest else None
        if head in module.variables:
            return Symbol("variable", module.name, head) if not rest else Symbol("variable", module.name, f"{head}.{rest}")
        imported = module.imports.get(head)
        if imported is not None:
            if imported.name is None and imported.local == imported.module.split(".")[0]:
                # `import a.b` binds `a`
                target = head
            elif imported.name is None:
                # `import a.b as c`: c is a.b
                target = imported.module
            else:
                target = module.absolute(imported)
            full = f"{target}.{rest}" if rest else target
            return self.resolve_absolute(full, hops + 1)
        if module.is_package and head:
            # A submodule of a package is reachable as an attribute once imported anywhere.
            child = self.modules.get(f"{module.name}.{head}")
            if child is not None:
                return self._resolve_in(child, *rest.partition(".")[::2], hops + 1) if rest else Symbol("module", child.name, "")
        for star in module.facts.star_imports:
            source = self.modules.get(module.absolute(star))
            if source is not None and source is not module:
                found = self._resolve_in(source, head, rest, hops + 1)
                if found is not None:
                    return found
        return None

    def _member(self, module: Module, class_qualname: str, rest: str) -> Symbol:
        member, _, deeper = rest.partition(".")
        qualname = f"{class_qualname}.{member}"
        if qualname in module.classes:
            return self._member(module, qualname, deeper) if deeper else Symbol("class", module.name, qualname)
        if qualname in module.functions and not deeper:
            return Symbol("function", module.name, qualname)
        return Symbol("variable", module.name, qualname)

    # -- lookups -----------------------------------------------------------
    def function(self, symbol: Symbol) -> tuple[Module, Function] | None:
        module = self.modules.get(symbol.module)
        if module is None or symbol.kind != "function":
            return None
        function = module.functions.get(symbol.qualname)
        return (module, function) if function is not None else None

    def class_(self, symbol: Symbol) -> tuple[Module, Class] | None:
        module = self.modules.get(symbol.module)
        if module is None or symbol.kind != "class":
            return None
        found = module.classes.get(symbol.qualname)
        return (module, found) if found is not None else None

    def variable_value(self, symbol: Symbol) -> Value | None:
        module = self.modules.get(symbol.module)
        if module is None or symbol.kind != "variable":
            return None
        return module.variables.get(symbol.qualname)

    def qualified(self, symbol: Symbol | None) -> str | None:
        """A dotted name for comparison with configured names: external names as
        they are, project definitions as `module.qualname`."""
        if symbol is None:
            return None
        if symbol.external:
            return symbol.qualname
        return f"{symbol.module}.{symbol.qualname}" if symbol.qualname else symbol.module

    def optional(self, module: Module, annotation: Annotation | None) -> bool:
        """Whether an annotation admits None: spelled out (`Optional[T]`, `T | None`, ...),
        or through a module-level alias (`MaybeId = Optional[UUID]`, `MaybeId: TypeAlias =
        "UUID | None"`), imported or not. Every question about a declared type asks here."""
        if annotation is None:
            return False
        if annotation.optional:
            return True
        if annotation.container or len(annotation.core) != 1:
            return False
        alias = self.alias(self.resolve(module, annotation.core[0]))
        return alias is not None and alias.optional

    def alias(self, symbol: Symbol | None) -> Annotation | None:
        """The type a module-level alias stands for (`MaybeId = Optional[UUID]`), if the
        symbol is one."""
        if symbol is None or symbol.kind != "variable":
            return None
        module = self.modules.get(symbol.module)
        return module.facts.aliases.get(symbol.qualname) if module is not None else None

    def base_names(self, module: Module, cls: Class, _seen: set[str] | None = None) -> set[str]:
        """Every ancestor of a class as qualified names, following project classes
        across modules; external bases end the walk."""
        seen = _seen if _seen is not None else set()
        found: set[str] = set()
        for base in cls.bases:
            ref = base_ref(base)
            symbol = self.resolve(module, ref)
            name = self.qualified(symbol) or (ref or "")
            if not name or name in seen:
                continue
            seen.add(name)
            found.add(name)
            located = self.class_(symbol) if symbol is not None else None
            if located is not None:
                found |= self.base_names(located[0], located[1], seen)
        return found


def _imported_modules(module: Module) -> Iterator[tuple[str, str]]:
    """Every dotted name (and the packages above it) an import anywhere in `module` names:
    `import a.b`, `from a import b` (`a.b` may be a module), `from . import b`."""
    for imported in (*module.facts.imports, *module.facts.star_imports):
        parts = module.absolute(imported).split(".")
        for end in range(1, len(parts) + 1):
            yield ".".join(parts[:end]), module.name


_KEY_PARTS: dict = {}
_KEY_PARTS_KEPT = 8


def one_object(part: tuple) -> tuple:
    """The object already standing for a value equal to `part`, for a part that many memo
    keys hold (the options a rule judged with, the context of RL002's kept sites): one
    object is stored once and compares equal at once, where equal copies are compared
    element by element (10,000 kept entries) and each stored apart (100,000 copies of the
    database options on a quarter of the scale tree). The last few distinct values are kept,
    so a long-lived language server does not collect every context it ever judged in."""
    found = _KEY_PARTS.get(part)
    if found is None:
        if len(_KEY_PARTS) >= _KEY_PARTS_KEPT:
            del _KEY_PARTS[next(iter(_KEY_PARTS))]
        found = _KEY_PARTS[part] = part
    return found


def last_name(dotted: str | None) -> str:
    """`pkg.mod.Name` -> `Name`; "" for None."""
    return dotted.rsplit(".", 1)[-1] if dotted else ""


def base_ref(base: Value) -> str | None:
    """The dotted name a class base refers to: `Base`, `pkg.Base`, and `Base[T]` ->
    `Base` (a generic class inherits from its origin). Every rule walking bases asks here."""
    return base.ref or _generic_origin(base.text)


def _generic_origin(text: str) -> str | None:
    """`pkg.Base[T, U]` -> `pkg.Base`; None unless the text is a dotted name subscripted."""
    head, bracket, _ = text.partition("[")
    head = head.strip()
    if bracket and head and all(part.isidentifier() for part in head.split(".")):
        return head
    return None
