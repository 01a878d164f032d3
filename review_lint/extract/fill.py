"""The position fill: spans and source texts for the nodes that facts keep.

The walk records (node, fact) pairs with `_track`; after the walk, one position
pass (positions.offsets) finds the offsets of those nodes only, and this fills
each fact's span and text in place: what each fact class declares in `needs`
(facts.py), which the tables below are read from once, at import.
"""

from __future__ import annotations

from bisect import bisect_right

import libcst as cst

from ..facts import FACT_CLASSES, Span, check_needs
from ..positions import LineIndex, offsets
from ..texts import MAX_TEXT, collapsed
from .values import dotted

__all__ = ["MAX_TEXT", "Fill"]


class Fill:
    """Positions and texts of the kept nodes (a mixin of Extractor)."""

    def _track(self, node: cst.CSTNode, obj: object) -> None:
        self._positioned.append((node, obj))

    def _line_starts(self) -> list[int]:
        """Where each line of the source starts (a re-extracted function's source stands
        for lines further down its file: extract/splice.py)."""
        return LineIndex(self.source).starts

    def _fill_positions(self) -> None:
        found = offsets(self.module, [node for node, _ in self._positioned])
        starts = self._line_starts()
        source = self.source
        spans: dict[int, Span] = {}
        texts: dict[int, str] = {}  # a call is kept as a Call and as a Value: one string serves both
        # Runs for every kept node: LineIndex.span inlined.
        for node, obj in self._positioned:
            key = id(node)
            where = found.get(key)
            if where is None:
                continue
            kind = type(obj)
            if kind in _WITH_SPAN:
                span = spans.get(key)
                if span is None:
                    start, end = where
                    line = bisect_right(starts, start)
                    end_line = bisect_right(starts, end, line - 1)
                    span = spans[key] = (line, start - starts[line - 1] + 1, end_line, end - starts[end_line - 1] + 1)
                obj.span = span
            if kind in _WITH_TEXT and not obj.text:
                text = texts.get(key)
                if text is None:
                    text = texts[key] = collapsed(source, *where)
                obj.text = text
        for value in self._call_values:
            call = value.call
            if call._span:  # packed as it is held (facts.pack_span); 0 is NO_SPAN
                value._span = call._span
            value.text = call.text
        for block, attr, nodes in self._subjects:
            texts_of = []
            for node in nodes:
                where = found.get(id(node))
                texts_of.append(collapsed(source, *where) if where else dotted(node) or "")
            setattr(block, attr, tuple(texts_of))


class _TextHolder:
    """The source text of an assert's test or message, filled by the position pass."""

    __slots__ = ("text",)
    needs = ("text",)

    def __init__(self) -> None:
        self.text = ""


# The kept objects that take a span, and those that take their node's text, from their declarations.
_KEPT = (*FACT_CLASSES, _TextHolder)
check_needs(_TextHolder, _TextHolder.__slots__)
_WITH_SPAN = frozenset(kind for kind in _KEPT if "span" in kind.needs)
_WITH_TEXT = frozenset(kind for kind in _KEPT if "text" in kind.needs)
