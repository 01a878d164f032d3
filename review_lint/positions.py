"""Source positions for the few nodes that facts keep.

LibCST's PositionProvider records a range for every node of the tree, behind a
metadata wrapper that deep-copies the module: 3-5x the cost of the parse.
Facts need positions for a handful of nodes per file, so this runs the same
code generation once, counts lines and columns, and records only those nodes.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import libcst as cst
from libcst._nodes.internal import CodegenState

from .facts import Span

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

    @contextmanager
    def record_syntactic_position(
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> Iterator[None]:
        if id(node) not in self.wanted:
            yield
            return
        start = (self.line, self.column)
        yield
        if start_node is not None and id(start_node) in self.found:
            found = self.found[id(start_node)]
            start = (found[0], found[1] - 1)
        self.found[id(node)] = (start[0], start[1] + 1, self.line, self.column + 1)


def positions(module: cst.Module, nodes: list[cst.CSTNode]) -> dict[int, Span]:
    """Map id(node) to its syntactic span (1-based columns) for the given nodes."""
    if not nodes:
        return {}
    state = _TrackingState(module, {id(node) for node in nodes})
    module._codegen(state)
    return state.found
