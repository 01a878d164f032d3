"""Two costs LibCST pays on every node that review-lint's own use does not need.

1. Validation while parsing. Every node runs `_validate()` from `__post_init__`,
   also when the parser built it (LibCST's own comment there: "It might make more
   sense to move validation work into the visitor, which would allow us to avoid
   validating the tree when parsing a file"). On Django it is 23% of the parse.
   `speedups()` skips it only for node classes whose checks the tokenizer
   and grammar already guarantee for parsed code (whitespace and comment
   characters, identifiers, balanced parentheses, string quotes, semicolons
   between small statements) or that check nothing; together they are about 90%
   of a tree's nodes. Classes whose checks reject code the grammar accepts (the
   order of call arguments and parameters, for one) keep them, so the parser
   refuses exactly what it refused before: `tests/test_libcst_speedups.py`
   compares outcomes and trees with and without it on fixtures, generated and
   mutated programs.
2. Frames per node during code generation. `CSTNode._codegen` only calls two
   hooks, which the position pass does not use, around `_codegen_impl`;
   `speedups()` binds `_codegen` to `_codegen_impl` on each node class, and
   replaces the generator-based `_parenthesize` context manager by an equivalent
   that, for the many expressions without parentheses, is only the position
   record it wraps (together half the cost of the position pass).

Both patch classes only inside a `with` block and restore them after, and both
do nothing when LibCST's internals are not the ones measured here. The patches
are process-wide while they last: a program embedding review-lint that builds
LibCST trees on another thread during a run would skip the same checks.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from libcst._nodes.base import CSTNode
from libcst._nodes.expression import _BaseParenthesizedNode

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


_TRUSTED, _GENERATED = _classes_to_patch()
_LIBCST_PARENTHESIZE = _BaseParenthesizedNode.__dict__.get("_parenthesize")
_depth = 0


@contextlib.contextmanager
def speedups() -> Iterator[None]:
    """Parse and generate code without the costs above, for the `with` block.

    Patching a class invalidates Python's method caches, so a run enters this
    once around all its parsing rather than once per file; nesting is free.
    """
    global _depth
    _depth += 1
    patched: list[tuple[type, str]] = []
    try:
        if _depth == 1:
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
        yield
    finally:
        _depth -= 1
        for cls, name in patched:
            if cls is _BaseParenthesizedNode:
                cls._parenthesize = _LIBCST_PARENTHESIZE
            else:
                delattr(cls, name)
