"""Every use review-lint makes of LibCST's private parts, and the four speed patches.

LibCST's private names are imported here and nowhere else, and every patch of
its classes is made here; other modules call `applied()`, `generate()` and the
status functions. Nothing is patched on import or outside an `applied()` block:
review-lint enters one by itself only in its worker processes and, for the
command, around its own process's parsing, so a program that imports
review-lint (or calls `Engine.run()`) keeps LibCST as it is unless it asks
with `with review_lint.libcst_patches.applied(): ...`.

The patches apply only on the LibCST releases they were tested on
(`TESTED_RANGE`, pinned as well in pyproject.toml), and each only where
LibCST's internals are the ones it was written from;
`REVIEW_LINT_NO_LIBCST_PATCHES=1` turns every one off (to bisect a suspected
difference: findings must not change). `review-lint check --verbose` prints
which are active.

1. validation: no re-validation while parsing. Every node runs `_validate()`
   from `__post_init__`, also when the parser built it (LibCST's own comment
   there: "It might make more sense to move validation work into the visitor,
   which would allow us to avoid validating the tree when parsing a file"). On
   Django it is 23% of the parse. It is skipped only for node classes whose
   checks the tokenizer and grammar already guarantee for parsed code
   (whitespace and comment characters, identifiers, balanced parentheses,
   string quotes, semicolons between small statements) or that check nothing;
   together they are about 90% of a tree's nodes. Classes whose checks reject
   code the grammar accepts (the order of call arguments and parameters, for
   one) keep them, so the parser refuses exactly what it refused before:
   `tests/test_libcst_patches.py` compares outcomes and trees with and without
   it on fixtures, generated and mutated programs.
2. codegen: fewer frames per node during code generation. `CSTNode._codegen`
   only calls two hooks, which the position pass does not use, around
   `_codegen_impl`; `_codegen` is bound to `_codegen_impl` on each node class,
   and the generator-based `_parenthesize` context manager is replaced by an
   equivalent that, for the many expressions without parentheses, is only the
   position record it wraps (together half the cost of the position pass).
3. node-init: fields set without `object.__setattr__`. A frozen dataclass's
   generated `__init__` sets each field with `object.__setattr__(self, name,
   value)`, which looks the slot up by name every time. Each node class gets
   an `__init__` with the same signature that calls each field's slot
   descriptor directly, then `__post_init__` unless the class's checks are
   skipped (11% of the parse on Django; trees compared equal).
4. positions: during a position pass (`generate`), whitespace, names,
   attributes, dots, commas and arguments that are not wanted only add their
   length instead of generating their code (see the shortcuts below).

Patches 1-3 patch classes for the `with` block and restore them after; 4 for
each pass inside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import types
from typing import Callable, Iterator

SWITCH = "REVIEW_LINT_NO_LIBCST_PATCHES"
# The LibCST releases these patches were checked on (this module's and the position
# tests pass under them); pyproject.toml pins the same range, tests/test_libcst_patches.py
# compares the two. (major, minor): from, inclusive; to, exclusive.
TESTED_RANGE = ((1, 5), (1, 10))
PATCHES = ("validation", "codegen", "node-init", "positions")

_depth = 0
_active: tuple[str, ...] = ()  # the patches in force in the current `applied()` block
_loaded = False
_version: str | None = None


def libcst_version() -> str | None:
    """The installed LibCST's version: LibCST's own once it is imported, else its
    package metadata (LibCST is not imported for it)."""
    global _version
    if _version is None:
        found = getattr(sys.modules.get("libcst"), "LIBCST_VERSION", "unknown")
        if found == "unknown":
            from importlib import metadata  # 60 ms to import: not on the parsing path

            try:
                found = metadata.version("libcst")
            except metadata.PackageNotFoundError:
                return None
        _version = found
    return _version


def in_tested_range(version: str | None) -> bool:
    found = re.match(r"(\d+)\.(\d+)", version or "")
    if found is None:
        return False
    release = (int(found.group(1)), int(found.group(2)))
    return TESTED_RANGE[0] <= release < TESTED_RANGE[1]


def off_reason() -> str | None:
    """Why no patch applies in this process (the switch, an untested LibCST), or None."""
    if os.environ.get(SWITCH, "") not in ("", "0"):
        return SWITCH
    if not in_tested_range(libcst_version()):
        return "LibCST outside the tested range"
    return None


def active_patches() -> tuple[str, ...]:
    """The patches in force now, in `PATCHES`' order: inside `applied()`, those whose
    LibCST internals are the ones they were written from ("positions": review-lint's
    position passes in the block take the shortcuts); outside it, none."""
    return _active


def status(parsed_elsewhere: bool = False) -> str:
    """One line for `--verbose`. Never imports LibCST: a warm run parses nothing.

    `parsed_elsewhere`: files were parsed, by worker processes, while this one parsed none."""
    version = f"LibCST {libcst_version() or '(version unknown)'}"
    reason = off_reason()
    if reason is not None:
        return f"{version}: speed patches off ({reason})"
    if not _loaded:
        where = "parsed in worker processes, which apply them" if parsed_elsewhere else "nothing parsed"
        return f"{version}: speed patches not loaded in this process ({where})"
    usable = _usable()
    if not usable:
        return f"{version}: speed patches off (LibCST's internals differ from the tested ones)"
    missing = [name for name in PATCHES if name not in usable]
    line = f"{version}: speed patches active ({', '.join(usable)})"
    return line + (f"; not applying: {', '.join(missing)} (LibCST's internals differ)" if missing else "")


def prepare() -> None:
    """Import LibCST and work out which patches its internals allow, ahead of the first
    parse (a worker process does it while its parent reads the files)."""
    if _may_patch():
        _load()


def _may_patch() -> bool:
    import libcst  # noqa: F401 - about to be used; off_reason() reads its version from it

    return off_reason() is None

# Validators that only restate what tokenizing and parsing already ensure.
_GRAMMAR_GUARANTEED = {
    "CSTNode",  # checks nothing
    "SimpleWhitespace", "Newline", "Comment", "Name", "Integer", "Float", "Imaginary", "SimpleString",
    "_BaseParenthesizedNode", "_BaseSimpleStatement", "IndentedBlock", "Arg", "Assign", "Param",
}


def _no_validation(self) -> None:
    return None


def _node_classes() -> list[type]:
    found, stack = {CSTNode: None}, [CSTNode]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found[sub] = None
                stack.append(sub)
    return list(found)


def _validator_owner(cls: type) -> str:
    return next(k.__name__ for k in cls.__mro__ if "_validate" in k.__dict__)


def _internals_as_measured() -> bool:
    # CSTNode.__post_init__ only validates; _codegen only wraps _codegen_impl in hooks.
    post_init = CSTNode.__dict__.get("__post_init__")
    codegen = CSTNode.__dict__.get("_codegen")
    return (
        post_init is not None and post_init.__code__.co_names == ("_validate",)
        and codegen is not None
        and set(codegen.__code__.co_names) == {"before_codegen", "_codegen_impl", "after_codegen"}
        and getattr(_BaseParenthesizedNode.__dict__.get("_parenthesize"), "__wrapped__", None) is not None
        and _BaseParenthesizedNode.__dict__["_parenthesize"].__wrapped__.__code__.co_names
        == ("lpar", "_codegen", "record_syntactic_position", "rpar")
    )


class _Parenthesized:
    """`_parenthesize` for a node that has parentheses, as a class instead of a generator."""

    __slots__ = ("node", "state", "inner")

    def __init__(self, node, state) -> None:
        self.node, self.state = node, state

    def __enter__(self) -> None:
        for lpar in self.node.lpar:
            lpar._codegen(self.state)
        self.inner = self.state.record_syntactic_position(self.node)
        self.inner.__enter__()

    def __exit__(self, kind, error, trace) -> bool:
        self.inner.__exit__(kind, error, trace)
        if kind is None:
            for rpar in self.node.rpar:
                rpar._codegen(self.state)
        return False


def _parenthesize(self, state):
    # Most expressions have no parentheses: then it is only the position record
    # (LibCST's generator-based context manager cost a sixth of the position pass).
    if not self.lpar:
        return state.record_syntactic_position(self)
    return _Parenthesized(self, state)


def _classes_to_patch() -> tuple[list[type], list[type]]:
    """(classes whose validation is skipped, classes whose _codegen is bound to _codegen_impl)."""
    if not _internals_as_measured():
        return [], []
    classes = _node_classes()
    trusted = {cls for cls in classes if _validator_owner(cls) in _GRAMMAR_GUARANTEED}
    # A class that keeps its checks must not inherit a skipped `__post_init__`.
    for cls in classes:
        if cls not in trusted:
            trusted.difference_update(cls.__mro__)
    generated = [cls for cls in classes if not getattr(cls._codegen_impl, "__isabstractmethod__", False)]
    return [cls for cls in classes if cls in trusted], generated


def _slot(cls: type, name: str):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            found = klass.__dict__[name]
            return found if isinstance(found, types.MemberDescriptorType) else None
    return None


def _as_generated(cls: type) -> bool:
    """Whether cls.__init__ is dataclasses' own frozen one, over slots we can set directly.

    (LibCST's `add_slots` leaves the slot-less original of each class behind as a
    subclass of CSTNode; those are never instantiated and have no slot descriptors.)
    """
    init = cls.__dict__.get("__init__")
    if init is None or not dataclasses.is_dataclass(cls) or not hasattr(init, "__code__"):
        return False
    if not set(init.__code__.co_names) <= {"__setattr__", "__post_init__"}:
        return False
    fields = dataclasses.fields(cls)
    return all(f.init and not f.kw_only and _slot(cls, f.name) for f in fields)


def _parameters(function: Callable) -> tuple:
    code = function.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return names, code.co_kwonlyargcount, function.__defaults__, function.__kwdefaults__


def _init_source(cls: type, tag: str, namespace: dict, validate: bool) -> str:
    """Source of an `__init__` for cls that sets each slot directly, as `_init_{tag}`."""
    params, body = [], []
    for index, field in enumerate(dataclasses.fields(cls)):
        name, value, key = field.name, field.name, f"{tag}_{index}"
        namespace[f"_set_{key}"] = _slot(cls, name).__set__
        if field.default is not dataclasses.MISSING:
            namespace[f"_default_{key}"] = field.default
            params.append(f"{name}=_default_{key}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_make_{key}"] = field.default_factory
            params.append(f"{name}=_FACTORY")
            value = f"_make_{key}() if {name} is _FACTORY else {name}"
        else:
            params.append(name)
        body.append(f"    _set_{key}(self, {value})")
    if validate:
        body.append("    self.__post_init__()")
    return f"def _init_{tag}(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"


def _fast_inits(trusted: list[type]) -> dict[type, Callable]:
    """Each node class's slot-setting `__init__`, kept only where its signature is LibCST's."""
    skipped = set(trusted)
    classes = [cls for cls in _node_classes() if _as_generated(cls)]
    namespace: dict[str, object] = {"_FACTORY": dataclasses._HAS_DEFAULT_FACTORY}
    sources = [_init_source(cls, str(tag), namespace, cls not in skipped) for tag, cls in enumerate(classes)]
    exec("\n".join(sources), namespace)  # noqa: S102 - from LibCST's own field lists, as dataclasses does
    inits = {}
    for tag, cls in enumerate(classes):
        init = namespace[f"_init_{tag}"]
        if _parameters(init) == _parameters(cls.__dict__["__init__"]):
            init.__name__, init.__qualname__ = "__init__", f"{cls.__qualname__}.__init__"
            inits[cls] = init
    return inits


@contextlib.contextmanager
def applied() -> Iterator[None]:
    """LibCST with the speed patches, for the `with` block: parsing and code
    generation without the costs above. Nothing happens under the switch or
    outside the tested range, and each patch only where LibCST's internals are
    the ones it was written from.

    review-lint enters it by itself only in its worker processes and, for the
    command, around the parsing of its own process; a program embedding
    review-lint asks for it around its runs. Patching a class invalidates
    Python's method caches, so a run enters this once around all its parsing
    rather than once per file; nesting is free. The patches are process-wide
    while they last: LibCST code on other threads skips the same checks, and
    code generation skips the hooks LibCST's own PositionProvider relies on, so
    keep the block around review-lint's runs rather than your own LibCST work.
    """
    global _depth, _active
    _depth += 1
    patched: list[tuple[type, str]] = []
    originals: list[tuple[type, Callable]] = []
    try:
        if _depth == 1 and _may_patch():
            _load()
            _active = _usable()
            for cls in _TRUSTED:
                if "__post_init__" not in cls.__dict__:
                    cls.__post_init__ = _no_validation
                    patched.append((cls, "__post_init__"))
            for cls in _GENERATED:
                if "_codegen" not in cls.__dict__:
                    cls._codegen = cls._codegen_impl
                    patched.append((cls, "_codegen"))
            if _GENERATED:
                _BaseParenthesizedNode._parenthesize = _parenthesize
                patched.append((_BaseParenthesizedNode, "_parenthesize"))
            for cls, init in _FAST_INITS.items():
                originals.append((cls, cls.__dict__["__init__"]))
                cls.__init__ = init
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            _active = ()
        for cls, name in patched:
            if cls is _BaseParenthesizedNode:
                cls._parenthesize = _LIBCST_PARENTHESIZE
            else:
                delattr(cls, name)
        for cls, init in originals:
            cls.__init__ = init


# -- shortcuts for the commonest nodes ----------------------------------------
# Whitespace, names, attributes, dots, commas and arguments are two thirds of a
# tree's nodes. Unless one is wanted (or parenthesized), all the pass needs from it
# is its length, so these replace LibCST's code generation for them during the
# pass (a quarter less time on Django).
# Each is installed only while the LibCST method it replaces is the one it was
# written from (same owner, same names used).

def _token(self, state: CodegenState) -> None:
    state.offset += len(self.value)


def _newline(self, state: CodegenState) -> None:
    value = self.value
    state.offset += len(state.default_newline if value is None else value)


def _line_end(self, state: CodegenState) -> None:
    if type(self.whitespace) is not _SW:
        return self._codegen_impl(state)
    _add_line_tail(self, state)


def _empty_line(self, state: CodegenState) -> None:
    if type(self.whitespace) is not _SW:
        return self._codegen_impl(state)
    if self.indent:
        state.add_indent_tokens()
    _add_line_tail(self, state)


def _add_line_tail(line, state: CodegenState) -> None:
    """Whitespace, comment and newline of a line (TrailingWhitespace or EmptyLine)."""
    comment, newline = line.comment, line.newline.value
    state.offset += (len(line.whitespace.value) + (0 if comment is None else len(comment.value))
                     + len(state.default_newline if newline is None else newline))


def _leaf(self, state: CodegenState) -> None:
    if self.lpar or id(self) in state.wanted:
        return self._codegen_impl(state)
    state.offset += len(self.value)


def _attribute(self, state: CodegenState) -> None:
    if self.lpar or id(self) in state.wanted:
        return self._codegen_impl(state)
    self.value._codegen(state)
    self.dot._codegen(state)
    self.attr._codegen(state)


def _arg(self, state: CodegenState, default_comma: bool = False) -> None:
    # LibCST's Arg._codegen_impl without the position record, for parsed arguments;
    # a built one whose `=` or comma LibCST would make up takes LibCST's own path.
    keyword, equal, comma = self.keyword, self.equal, self.comma
    if (id(self) in state.wanted or (equal is MaybeSentinel.DEFAULT and keyword is not None)
            or (comma is MaybeSentinel.DEFAULT and default_comma)):
        return self._codegen_impl(state, default_comma)
    state.offset += len(self.star)
    self.whitespace_after_star._codegen(state)
    if keyword is not None:
        keyword._codegen(state)
    if isinstance(equal, cst.AssignEqual):
        equal._codegen(state)
    self.value._codegen(state)
    if isinstance(comma, cst.Comma):
        comma._codegen(state)
    self.whitespace_after_arg._codegen(state)


def _one_token(token: str):
    length = len(token)

    def codegen(self, state: CodegenState) -> None:
        if id(self) in state.wanted:
            return self._codegen_impl(state)
        before, after = self.whitespace_before, self.whitespace_after
        if type(before) is _SW:
            state.offset += len(before.value)
        else:
            before._codegen(state)
        state.offset += length
        if type(after) is _SW:
            state.offset += len(after.value)
        else:
            after._codegen(state)

    return codegen


_VALUE = ("BaseValueToken", ("add_token", "value"))
_PAREN_LEAF = ("_parenthesize", "add_token", "value")
_ONE_TOKEN = ("_BaseOneTokenOp", ("whitespace_before", "_codegen", "record_syntactic_position", "add_token",
                                  "_get_token", "whitespace_after"))


def _shortcuts() -> list[tuple[type, tuple, Callable]]:
    return [
        (cst.SimpleWhitespace, _VALUE, _token),
        (cst.Comment, _VALUE, _token),
        (cst.Newline, ("Newline", ("value", "add_token", "default_newline")), _newline),
        (cst.TrailingWhitespace, ("TrailingWhitespace", ("whitespace", "_codegen", "comment", "newline")), _line_end),
        (cst.EmptyLine, ("EmptyLine", ("indent", "add_indent_tokens", "whitespace", "_codegen", "comment",
                                       "newline")), _empty_line),
        (cst.Name, ("Name", _PAREN_LEAF), _leaf),
        (cst.Integer, ("Integer", _PAREN_LEAF), _leaf),
        (cst.SimpleString, ("SimpleString", _PAREN_LEAF), _leaf),
        (cst.Attribute, ("Attribute", ("_parenthesize", "value", "_codegen", "dot", "attr")), _attribute),
        (cst.Arg, ("Arg", ("record_syntactic_position", "add_token", "star", "whitespace_after_star", "_codegen",
                           "keyword", "equal", "MaybeSentinel", "DEFAULT", "isinstance", "AssignEqual", "value",
                           "comma", "Comma", "whitespace_after_arg")), _arg),
        *((cls, _ONE_TOKEN, _one_token(token)) for cls, token in _ONE_TOKENS.items()),
    ]


def _as_written_from(cls: type, owner: str, names: tuple[str, ...]) -> bool:
    method = cls._codegen_impl
    return method.__qualname__ == f"{owner}._codegen_impl" and method.__code__.co_names == names


def _constant_token(cls: type, token: str) -> bool:
    try:
        return cls()._get_token() == token
    except Exception:  # noqa: BLE001 - a changed LibCST: no shortcut
        return False


class _Shortcuts:
    """Install the shortcuts above for one pass (whatever `_codegen` was there comes back)."""

    def __enter__(self) -> None:
        self.saved = [(cls, cls.__dict__.get("_codegen")) for cls, _ in _INSTALLED]
        for cls, shortcut in _INSTALLED:
            cls._codegen = shortcut

    def __exit__(self, *exc) -> bool:
        for cls, previous in self.saved:
            if previous is None:
                del cls._codegen
            else:
                cls._codegen = previous
        return False


def generate(module, state) -> None:
    """LibCST's code generation of `module` into `state` (positions.py's counting
    state: `offset` and `wanted`), with the shortcuts inside `applied()`."""
    if "positions" in _active:
        with _Shortcuts():
            module._codegen(state)
    else:
        module._codegen(state)


# -- LibCST, imported on first use ---------------------------------------------
# Importing this module imports no LibCST (`--verbose` asks it for its status on
# runs that parse nothing). The names below are this module's globals once
# `_load()` has run, which every patch above is only reached through.

def _load() -> None:
    global _loaded, cst, MaybeSentinel, CSTNode, _BaseParenthesizedNode, _SW, _ONE_TOKENS
    global _TRUSTED, _GENERATED, _FAST_INITS, _LIBCST_PARENTHESIZE, _SHORTCUTS, _INSTALLED
    if _loaded:
        return
    import libcst as cst
    from libcst import MaybeSentinel
    from libcst._nodes.base import CSTNode
    from libcst._nodes.expression import _BaseParenthesizedNode

    _SW = cst.SimpleWhitespace
    _ONE_TOKENS = {cst.Comma: ",", cst.Dot: ".", cst.Colon: ":", cst.AssignEqual: "="}
    _TRUSTED, _GENERATED = _classes_to_patch()
    _FAST_INITS = _fast_inits(_TRUSTED) if _GENERATED else {}
    _LIBCST_PARENTHESIZE = _BaseParenthesizedNode.__dict__.get("_parenthesize")
    _SHORTCUTS = _shortcuts()
    _INSTALLED = [
        (cls, shortcut) for cls, (owner, names), shortcut in _SHORTCUTS
        if _as_written_from(cls, owner, names)
        and (cls not in _ONE_TOKENS or _constant_token(cls, _ONE_TOKENS[cls]))
    ]
    _loaded = True


def _usable() -> tuple[str, ...]:
    """The patches LibCST's internals allow (after `_load()`)."""
    found = (_TRUSTED, _GENERATED, _FAST_INITS, _INSTALLED)
    return tuple(name for name, classes in zip(PATCHES, found) if classes)


_LOADED_LATER = {"cst", "MaybeSentinel", "CSTNode", "_BaseParenthesizedNode", "_TRUSTED", "_GENERATED", "_FAST_INITS",
                 "_LIBCST_PARENTHESIZE", "_SHORTCUTS", "_INSTALLED"}


def __getattr__(name: str):
    if name == "CodegenState":  # the base of positions.py's counting state
        from libcst._nodes.internal import CodegenState

        return CodegenState
    if name in _LOADED_LATER:
        _load()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
