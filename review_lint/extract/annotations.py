"""Annotations: Optional / Union / `|` None, the core type names once wrappers
(Annotated, Mapped, ClassVar...) and containers are unwrapped, string annotations too."""

from __future__ import annotations

import libcst as cst

from ..facts import Annotation
from ..project import last_name
from .values import _string_value, dotted

_OPTIONAL_WRAPPERS = {"Optional"}
_UNION = {"Union"}
_UNWRAP_FIRST = {"Annotated", "Mapped", "ClassVar", "Final", "Required", "NotRequired", "ReadOnly", "InitVar"}
_CONTAINERS = {
    "list", "List", "Sequence", "MutableSequence", "Iterable", "Collection", "set", "Set", "frozenset",
    "FrozenSet", "tuple", "Tuple", "dict", "Dict", "Mapping", "MutableMapping",
}


class Annotations:
    """Annotation facts (a mixin of Extractor)."""

    def _annotation(self, node) -> Annotation:
        optional, core, container = _unwrap(node, 0)
        fact = Annotation("", optional, tuple(core), container)
        self._track(node, fact)
        return fact


def _unwrap(node, depth: int) -> tuple[bool, list[str], bool]:
    """(optional, core dotted names, container) of an annotation expression."""
    if depth > 20:
        return False, [], False
    kind = type(node)
    if kind is cst.Name and node.value == "None":
        return True, [], False
    if kind is cst.Name or kind is cst.Attribute:
        name = dotted(node)
        return False, [name] if name else [], False
    if kind is cst.SimpleString or kind is cst.ConcatenatedString:
        text = _string_value(node) if kind is cst.SimpleString else None
        if not isinstance(text, str):
            return False, [], False
        try:
            parsed = cst.parse_expression(text.strip())
        except Exception:
            return False, [], False
        return _unwrap(parsed, depth + 1)
    if kind is cst.BinaryOperation and type(node.operator) is cst.BitOr:
        lo, lc, lk = _unwrap(node.left, depth + 1)
        ro, rc, rk = _unwrap(node.right, depth + 1)
        return lo or ro, lc + rc, lk or rk
    if kind is cst.Subscript:
        base = last_name(dotted(node.value))
        elements = [e.slice.value for e in node.slice if type(e.slice) is cst.Index]
        if not elements:
            return False, [], False
        if base in _OPTIONAL_WRAPPERS:
            _, core, container = _unwrap(elements[0], depth + 1)
            return True, core, container
        if base in _UNION:
            optional, core, container = False, [], False
            for element in elements:
                o, c, k = _unwrap(element, depth + 1)
                optional, container = optional or o, container or k
                core += c
            return optional, core, container
        if base in _UNWRAP_FIRST:
            return _unwrap(elements[0], depth + 1)
        if base in _CONTAINERS:
            core: list[str] = []
            for element in elements[-1:] if base in ("dict", "Dict", "Mapping", "MutableMapping") else elements:
                _, c, _ = _unwrap(element, depth + 1)
                core += c
            return False, core, True
        name = dotted(node.value)
        if base == "Literal":  # Literal["on", None] admits None
            return any(type(e) is cst.Name and e.value == "None" for e in elements), [name] if name else [], False
        return False, [name] if name else [], False
    return False, [], False
