"""Phase 1: one hand-rolled walk over a LibCST module that produces ModuleFacts.

LibCST's visitor framework costs about as much as the parse itself (measured on
Django: 10 s of dispatch for a 12 s parse), so this walks statements directly and
descends into expressions through a per-class table of child fields. Source text
and positions are filled in afterwards, in one position pass, for the nodes that
facts keep (see positions.py).

The work is split by subject, as mixins of one Extractor so that the hot paths
keep plain method calls: walk.py (statements, scopes), values.py (values and
calls), annotations.py, flow.py (blocks, exits), fill.py (the position fill) and
suppressions.py (comments). It is still one walk per file.
"""

from __future__ import annotations

import libcst as cst

from ..facts import Assert, Block, Function, ModuleFacts, Value
from .annotations import Annotations
from .fill import MAX_TEXT, Fill, _TextHolder
from .flow import Flow
from .suppressions import suppressions
from .values import Values, _string_value, dotted
from .walk import Walk, _Scope

__all__ = ["Extractor", "MAX_TEXT", "dotted", "extract", "suppressions", "_string_value"]


class Extractor(Walk, Values, Annotations, Flow, Fill):
    """One file's walk; the mixins share this state."""

    def __init__(self, path: str, source: str, module: cst.Module) -> None:
        self.source = source
        self.module = module
        self.facts = ModuleFacts(path=path)
        self._positioned: list[tuple[cst.CSTNode, object]] = []
        self._subjects: list[tuple[Block, str, list[cst.CSTNode]]] = []
        self._block_ids = 0
        self._group_ids = 0
        self._assert_texts: list[tuple[Assert, _TextHolder, _TextHolder | None]] = []
        self._plain_values: dict[str, Value] = {}
        self._constants: dict[str, Value] = {}
        self._call_values: list[Value] = []

    # -- entry -------------------------------------------------------------
    def run(self) -> ModuleFacts:
        top = Function(qualname="<module>", name="<module>", class_qualname=None, span=(1, 1, 1, 1))
        self.facts.functions.append(top)
        self._scope = _Scope(top)
        self._body(self.module.body, prefix="", class_fact=None)
        self._fill_positions()
        for fact, test, msg in self._assert_texts:
            fact.test = test.text
            fact.msg = msg.text if msg is not None else None
        self.facts.suppressions = suppressions(self.source)
        return self.facts


def extract(path: str, source: str, module: cst.Module) -> ModuleFacts:
    return Extractor(path, source, module).run()
