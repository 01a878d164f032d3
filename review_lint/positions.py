"""Source positions for the few nodes that facts keep.

LibCST's PositionProvider records a range for every node of the tree, behind a
metadata wrapper that deep-copies the module: 3-5x the cost of the parse.
Facts need positions for a handful of nodes per file, so this runs the same
code generation once, counts lines and columns, and records only those nodes.
"""

from __future__ import annotations

import re
from bisect import bisect_right

import libcst as cst
from libcst import MaybeSentinel
from libcst._nodes.internal import CodegenState

from .facts import Span
from .libcst_speedups import speedups

_NEWLINE = re.compile(r"\r\n?|\n")


class _TrackingState(CodegenState):
    # CodegenState is a slotted dataclass; plain attributes need no slots here.
    # Code generation reproduces the source exactly, so counting characters is
    # enough: offsets become lines and columns at the end, for the recorded nodes only.
    def __init__(self, module: cst.Module, wanted: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        self.wanted = wanted
        self.found: dict[int, tuple[int, int]] = {}

    def add_token(self, value: str) -> None:
        self.offset += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def pop_trailing_newline(self) -> None:
        pass

    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ):
        # Called for most nodes of the tree: a shared no-op context manager costs a
        # fraction of contextlib's generator-based one (about 1 s on Django).
        if id(node) not in self.wanted:
            return _NOTHING
        # A compound statement's span ends where its last child's does, so LibCST
        # names that child: it is generated inside this node, so wanting it now
        # is early enough.
        if start_node is None and end_node is None:
            return _Plain(self, id(node))
        if start_node is not None:
            self.wanted.add(id(start_node))
        if end_node is not None:
            self.wanted.add(id(end_node))
        return _Recorder(self, node, start_node, end_node)


class _Nothing:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return False


_NOTHING = _Nothing()


class _Plain:
    """Records one node's offsets (most kept nodes: no helper node decides their span)."""

    __slots__ = ("state", "key", "start")

    def __init__(self, state: _TrackingState, key: int) -> None:
        self.state, self.key = state, key

    def __enter__(self) -> None:
        self.start = self.state.offset

    def __exit__(self, *exc) -> bool:
        self.state.found[self.key] = (self.start, self.state.offset)
        return False


class _Recorder:
    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _TrackingState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = self.state.offset

    def __exit__(self, *exc) -> bool:
        found = self.state.found
        start, end = self.start, self.state.offset
        if self.start_node is not None and id(self.start_node) in found:
            start = found[id(self.start_node)][0]
        if self.end_node is not None and id(self.end_node) in found:
            end = found[id(self.end_node)][1]
        found[id(self.node)] = (start, end)
        return False


class LineIndex:
    """Turns character offsets in one source into (line, column) pairs, 1-based."""

    def __init__(self, source: str) -> None:
        self.starts = [0, *(match.end() for match in _NEWLINE.finditer(source))]

    def span(self, start: int, end: int) -> Span:
        starts = self.starts
        line = bisect_right(starts, start)
        end_line = bisect_right(starts, end, line - 1)
        return (line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1)


def offsets(module: cst.Module, nodes: list[cst.CSTNode]) -> dict[int, tuple[int, int]]:
    """Map id(node) to the character offsets where its syntactic span starts and ends,
    for the given nodes (and the helper nodes their spans are taken from)."""
    if not nodes:
        return {}
    state = _TrackingState(module, {id(node) for node in nodes})
    with speedups(), _leaf_shortcuts():
        module._codegen(state)
    return state.found


# -- shortcuts for the commonest nodes ----------------------------------------
# Whitespace, names, attributes, dots, commas and arguments are two thirds of a
# tree's nodes. Unless one is wanted (or parenthesized), all the pass needs from it
# is its length, so these replace LibCST's code generation for them during the
# pass (a quarter less time on Django).
# Each is installed only while the LibCST method it replaces is the one it was
# written from (same owner, same names used).

_SW = cst.SimpleWhitespace


def _token(self, state: _TrackingState) -> None:
    state.offset += len(self.value)


def _newline(self, state: _TrackingState) -> None:
    value = self.value
    state.offset += len(state.default_newline if value is None else value)


def _line_end(self, state: _TrackingState) -> None:
    if type(self.whitespace) is not _SW:
        return self._codegen_impl(state)
    _add_line_tail(self, state)


def _empty_line(self, state: _TrackingState) -> None:
    if type(self.whitespace) is not _SW:
        return self._codegen_impl(state)
    if self.indent:
        state.add_indent_tokens()
    _add_line_tail(self, state)


def _add_line_tail(line, state: _TrackingState) -> None:
    """Whitespace, comment and newline of a line (TrailingWhitespace or EmptyLine)."""
    comment, newline = line.comment, line.newline.value
    state.offset += (len(line.whitespace.value) + (0 if comment is None else len(comment.value))
                     + len(state.default_newline if newline is None else newline))


def _leaf(self, state: _TrackingState) -> None:
    if self.lpar or id(self) in state.wanted:
        return self._codegen_impl(state)
    state.offset += len(self.value)


def _attribute(self, state: _TrackingState) -> None:
    if self.lpar or id(self) in state.wanted:
        return self._codegen_impl(state)
    self.value._codegen(state)
    self.dot._codegen(state)
    self.attr._codegen(state)


def _arg(self, state: _TrackingState, default_comma: bool = False) -> None:
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

    def codegen(self, state: _TrackingState) -> None:
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
_ONE_TOKENS = {cst.Comma: ",", cst.Dot: ".", cst.Colon: ":", cst.AssignEqual: "="}
_SHORTCUTS = [
    (cst.SimpleWhitespace, _VALUE, _token),
    (cst.Comment, _VALUE, _token),
    (cst.Newline, ("Newline", ("value", "add_token", "default_newline")), _newline),
    (cst.TrailingWhitespace, ("TrailingWhitespace", ("whitespace", "_codegen", "comment", "newline")), _line_end),
    (cst.EmptyLine, ("EmptyLine", ("indent", "add_indent_tokens", "whitespace", "_codegen", "comment", "newline")),
     _empty_line),
    (cst.Name, ("Name", _PAREN_LEAF), _leaf),
    (cst.Integer, ("Integer", _PAREN_LEAF), _leaf),
    (cst.SimpleString, ("SimpleString", _PAREN_LEAF), _leaf),
    (cst.Attribute, ("Attribute", ("_parenthesize", "value", "_codegen", "dot", "attr")), _attribute),
    (cst.Arg, ("Arg", ("record_syntactic_position", "add_token", "star", "whitespace_after_star", "_codegen", "keyword",
                       "equal", "MaybeSentinel", "DEFAULT", "isinstance", "AssignEqual", "value", "comma", "Comma",
                       "whitespace_after_arg")), _arg),
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


_INSTALLED = [
    (cls, shortcut) for cls, (owner, names), shortcut in _SHORTCUTS
    if _as_written_from(cls, owner, names)
    and (cls not in _ONE_TOKENS or _constant_token(cls, _ONE_TOKENS[cls]))
]


class _leaf_shortcuts:
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


def positions(module: cst.Module, nodes: list[cst.CSTNode], source: str | None = None) -> dict[int, Span]:
    """Map id(node) to its syntactic span (1-based columns) for the given nodes.

    `source` must be the text the module was parsed from (it is generated again when not given).
    """
    found = offsets(module, nodes)
    if not found:
        return {}
    index = LineIndex(source if source is not None else module.code)
    return {key: index.span(start, end) for key, (start, end) in found.items()}
