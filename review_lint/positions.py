"""Source positions for the few nodes that facts keep.

LibCST's PositionProvider records a range for every node of the tree, behind a
metadata wrapper that deep-copies the module: 3-5x the cost of the parse.
Facts need positions for a handful of nodes per file, so this runs the same
code generation once, counts lines and columns, and records only those nodes.
"""

from __future__ import annotations

from bisect import bisect_right

import libcst as cst

from .facts import Span
from .libcst_patches import CodegenState, generate
from .texts import line_starts


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
        self.starts = line_starts(source)

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
    generate(module, state)  # with the position shortcuts inside libcst_patches.applied()
    return state.found


def positions(module: cst.Module, nodes: list[cst.CSTNode], source: str | None = None) -> dict[int, Span]:
    """Map id(node) to its syntactic span (1-based columns) for the given nodes.

    `source` must be the text the module was parsed from (it is generated again when not given).
    """
    found = offsets(module, nodes)
    if not found:
        return {}
    index = LineIndex(source if source is not None else module.code)
    return {key: index.span(start, end) for key, (start, end) in found.items()}
