"""Annotations: Optional / Union / `|` None, the core type names once wrappers
(Annotated, Mapped, ClassVar...) and containers are unwrapped, string annotations too."""

from __future__ import annotations

import libcst as cst

from ..facts import Annotation
from ..project import last_name
from .values import _string_value, dotted

_OPTIONAL_WRAPPERS = {"Optional"}
_UNION = {"Union"}
# `type[A]` is the class itself: its methods are looked up on A all the same.
_UNWRAP_FIRST = {"Annotated", "Mapped", "ClassVar", "Final", "Required", "NotRequired", "ReadOnly", "InitVar", "type", "Type"}
_CONTAINERS = {
    "list", "List", "Sequence", "MutableSequence", "Iterable", "Collection", "set", "Set", "frozenset",
    "FrozenSet", "tuple", "Tuple", "dict", "Dict", "Mapping", "MutableMapping",
}


class Annotations:
    """Annotation facts (a mixin of Extractor)."""

    def _annotation(self, node) -> Annotation:
        markers: list[tuple[str, str | None]] = []
        wrappers: list[str] = []
        optional, core, container = _unwrap(node, 0, markers, wrappers)
        fact = Annotation("", optional, tuple(core), container, tuple(markers), self._items(node), tuple(wrappers))
        self._track(node, fact)
        return fact

    def _items(self, node) -> tuple[Annotation, ...]:
        """The element annotations of `tuple[A, B]` / `Tuple[A, ...]`."""
        if type(node) is not cst.Subscript or last_name(dotted(node.value)) not in ("tuple", "Tuple"):
            return ()
        return tuple(self._annotation(e.slice.value) for e in node.slice if type(e.slice) is cst.Index)

    def _alias(self, name: str, node, declared: Annotation | None = None) -> None:
        """A module-level assignment whose value is a type expression (`X[...]`, `A | B`,
        or a string holding one under a `TypeAlias` annotation): an alias."""
        kind = type(node)
        if kind is cst.Subscript or (kind is cst.BinaryOperation and type(node.operator) is cst.BitOr) or (
            kind is cst.SimpleString and declared is not None and declared.core
            and last_name(declared.core[0]) == "TypeAlias"
        ):
            self.facts.aliases[name] = self._annotation(node)
        else:
            self.facts.aliases.pop(name, None)  # rebound to something else


def _marker(node) -> tuple[str, str | None] | None:
    """`Depends(fn)` / `Depends(dependency=fn)` in Annotated metadata -> ("Depends", "fn")."""
    if type(node) is not cst.Call:
        return None
    callee = dotted(node.func)
    if callee is None:
        return None
    handed = None
    for argument in node.args:
        if argument.keyword is None or argument.keyword.value == "dependency":
            handed = dotted(argument.value)
            break
    return callee, handed


def _unwrap(node, depth: int, markers: list, wrappers: list) -> tuple[bool, list[str], bool]:
    """(optional, core dotted names, container) of an annotation expression; the calls
    in its `Annotated[...]` metadata go into `markers`, the qualifiers unwrapped into `wrappers`."""
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
        return _unwrap(parsed, depth + 1, markers, wrappers)
    if kind is cst.BinaryOperation and type(node.operator) is cst.BitOr:
        lo, lc, lk = _unwrap(node.left, depth + 1, markers, wrappers)
        ro, rc, rk = _unwrap(node.right, depth + 1, markers, wrappers)
        return lo or ro, lc + rc, lk or rk
    if kind is cst.Subscript:
        base = last_name(dotted(node.value))
        elements = [e.slice.value for e in node.slice if type(e.slice) is cst.Index]
        if not elements:
            return False, [], False
        if base in _OPTIONAL_WRAPPERS:
            _, core, container = _unwrap(elements[0], depth + 1, markers, wrappers)
            return True, core, container
        if base in _UNION:
            optional, core, container = False, [], False
            for element in elements:
                o, c, k = _unwrap(element, depth + 1, markers, wrappers)
                optional, container = optional or o, container or k
                core += c
            return optional, core, container
        if base in _UNWRAP_FIRST:
            wrappers.append(base)
            if base == "Annotated":
                markers.extend(m for m in map(_marker, elements[1:]) if m is not None)
            return _unwrap(elements[0], depth + 1, markers, wrappers)
        if base in _CONTAINERS:
            core: list[str] = []
            for element in elements[-1:] if base in ("dict", "Dict", "Mapping", "MutableMapping") else elements:
                _, c, _ = _unwrap(element, depth + 1, markers, wrappers)
                core += c
            return False, core, True
        name = dotted(node.value)
        if base == "Literal":  # Literal["on", None] admits None
            return any(type(e) is cst.Name and e.value == "None" for e in elements), [name] if name else [], False
        return False, [name] if name else [], False
    return False, [], False
