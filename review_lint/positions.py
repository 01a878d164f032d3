"""Source positions for the few nodes that facts keep.

LibCST's PositionProvider records a range for every node of the tree, behind a
metadata wrapper that deep-copies the module: 3-5x the cost of the parse.
Facts need positions for a handful of nodes per file, so this runs the same
code generation once, counts lines and columns, and records only those nodes.
"""

from __future__ import annotations

import re
import libcst as cst
from libcst._nodes.internal import CodegenState

from .facts import Span
from .libcst_speedups import speedups

_NEWLINE = re.compile(r"\r\n?|\n")


class _TrackingState(CodegenState):
    # CodegenState is a slotted dataclass; plain attributes need no slots here.
    def __init__(self, module: cst.Module, wanted: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.line = 1
        self.column = 0
        self.wanted = wanted
        self.found: dict[int, Span] = {}

    def add_token(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)

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


class _Recorder:
    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _TrackingState, node, start_node, end_node) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc) -> bool:
        state = self.state
        line, column, end_line, end_column = self.start[0], self.start[1] + 1, state.line, state.column + 1
        if self.start_node is not None and id(self.start_node) in state.found:
            line, column = state.found[id(self.start_node)][:2]
        if self.end_node is not None and id(self.end_node) in state.found:
            end_line, end_column = state.found[id(self.end_node)][2:]
        state.found[id(self.node)] = (line, column, end_line, end_column)
        return False


def positions(module: cst.Module, nodes: list[cst.CSTNode]) -> dict[int, Span]:
    """Map id(node) to its syntactic span (1-based columns) for the given nodes."""
    if not nodes:
        return {}
    state = _TrackingState(module, {id(node) for node in nodes})
    with speedups():
        module._codegen(state)
    return state.found
