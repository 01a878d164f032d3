"""Control flow: the blocks that only some executions enter (if / else, try / except /
else / finally, loops, with, match cases), what a test tells about its subjects, and
the exits (return, raise, continue, break)."""

from __future__ import annotations

import libcst as cst

from ..facts import Block, Class, Exit, Value
from ..project import last_name
from .values import dotted


class Flow:
    """Blocks and exits (a mixin of Extractor)."""

    def _exit(self, kind: str, node, value: Value | None) -> None:
        scope = self._scope
        fact = Exit(kind, scope.next_order(), tuple(scope.blocks), (0, 0, 0, 0), value)
        scope.function.exits.append(fact)
        self._track(node, fact)

    def _if(self, node: cst.If, prefix: str, class_fact: Class | None) -> None:
        scope = self._scope
        test = self._expr(node.test)
        group = self._new_group()
        present, missing = _presence(node.test)
        checking = _is_type_checking(node.test)
        condition = _condition(node.test)
        joined, conditions = _joined_conditions(node.test)
        body = self._push(Block(self._new_block(), "if", group, 0, (0, 0, 0, 0), test=test, condition=condition,
                                joined=joined, conditions=conditions), node)
        self._subjects.append((body, "present", present))
        self._subjects.append((body, "missing", missing))
        was = scope.type_checking
        scope.type_checking = was or checking
        self._suite(node.body, prefix, class_fact)
        scope.type_checking = was
        self._pop(body)
        if node.orelse is not None:
            opposite = (condition[0], _OPPOSITE[condition[1]]) if condition is not None else None
            joined, conditions = _negated(joined, conditions)
            other = self._push(Block(self._new_block(), "else", group, 1, (0, 0, 0, 0), test=test, condition=opposite,
                                     joined=joined, conditions=conditions), node.orelse)
            self._subjects.append((other, "present", missing))
            self._subjects.append((other, "missing", present))
            if type(node.orelse) is cst.If:
                self._if(node.orelse, prefix, class_fact)
            else:
                self._suite(node.orelse.body, prefix, class_fact)
            self._pop(other)

    def _try(self, node, prefix: str, class_fact: Class | None) -> None:
        group = self._new_group()
        body = self._push(Block(self._new_block(), "try", group, 0, (0, 0, 0, 0)), node)
        self._suite(node.body, prefix, class_fact)
        self._pop(body)
        for arm, handler in enumerate(node.handlers, start=1):
            catches = _exception_names(handler.type) if handler.type is not None else ("",)
            block = self._push(Block(self._new_block(), "except", group, arm, (0, 0, 0, 0), catches=catches), handler)
            if handler.name is not None:
                self._bind_target(handler.name.name, None, None)
            self._suite(handler.body, prefix, class_fact)
            self._pop(block)
        if node.orelse is not None:
            self._in_block("try_else", node.orelse.body, prefix, class_fact, node.orelse, group=group)
        if node.finalbody is not None:
            self._in_block("finally", node.finalbody.body, prefix, class_fact, node.finalbody)

    def _with(self, node: cst.With, prefix: str, class_fact: Class | None) -> None:
        items = []
        for item in node.items:
            value = self._expr(item.item)
            items.append(value)
            if item.asname is not None:
                self._bind_target(item.asname.name, value, None)
        self._in_block("with", node.body, prefix, class_fact, node, items=tuple(items))

    def _loop(self, node, prefix: str, class_fact: Class | None) -> None:
        if type(node) is cst.For:
            # `for x in xs`: x holds an element of xs (the type layer reads its class from xs's)
            self._bind_target(node.target, Value("element", "", elements=(self._expr(node.iter),)), None)
        else:
            self._scan_node(node.test)
        self._in_block("loop", node.body, prefix, class_fact, node)
        if node.orelse is not None:
            self._in_block("loop_else", node.orelse.body, prefix, class_fact, node.orelse)

    def _match(self, node: cst.Match, prefix: str, class_fact: Class | None) -> None:
        self._scan_node(node.subject)
        group = self._new_group()
        for arm, case in enumerate(node.cases):
            block = self._push(Block(self._new_block(), "case", group, arm, (0, 0, 0, 0)), case)
            self._scan(case.pattern)
            if case.guard is not None:
                self._scan_node(case.guard)
            self._suite(case.body, prefix, class_fact)
            self._pop(block)

    def _in_block(self, kind, suite, prefix, class_fact, node, items=(), group=None) -> None:
        block = Block(self._new_block(), kind, group if group is not None else self._new_group(), 0, (0, 0, 0, 0),
                      items=items)
        self._push(block, node)
        self._suite(suite, prefix, class_fact)
        self._pop(block)

    def _new_block(self) -> int:
        self._block_ids += 1
        return self._block_ids

    def _new_group(self) -> int:
        self._group_ids += 1
        return self._group_ids

    def _push(self, block: Block, node) -> Block:
        self._scope.function.blocks.append(block)
        self._scope.blocks.append(block.id)
        self._track(node, block)
        return block

    def _pop(self, block: Block) -> None:
        self._scope.blocks.pop()


_OPPOSITE = {"truthy": "falsy", "falsy": "truthy", "none": "not-none", "not-none": "none"}


def _condition(test) -> tuple[str, str] | None:
    """(name, "truthy" | "falsy" | "none" | "not-none") for a test on one name alone."""
    kind = type(test)
    if kind is cst.Name and test.value not in ("True", "False", "None"):
        return test.value, "truthy"
    if kind is cst.UnaryOperation and type(test.operator) is cst.Not:
        inner = _condition(test.expression)
        return (inner[0], _OPPOSITE[inner[1]]) if inner is not None else None
    if kind is cst.Comparison and len(test.comparisons) == 1 and type(test.left) is cst.Name:
        target = test.comparisons[0]
        if type(target.comparator) is cst.Name and target.comparator.value == "None":
            operator = type(target.operator)
            if operator is cst.Is:
                return test.left.value, "none"
            if operator is cst.IsNot:
                return test.left.value, "not-none"
    return None


def _joined_conditions(test) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """`a and b is not None` -> ("all", ((a, truthy), (b, not-none))); `a or not b` ->
    ("any", ...). An `and` keeps the operands it understands ("some" when that is not
    all of them); an `or` needs all of them."""
    if type(test) is not cst.BooleanOperation:
        return None, ()
    how = "all" if type(test.operator) is cst.And else "any"
    operands = _operands(test, type(test.operator))
    conditions = tuple(c for c in map(_condition, operands) if c is not None)
    complete = len(conditions) == len(operands)
    if not conditions or (how == "any" and not complete):
        return None, ()
    return (how if complete else "some"), conditions


def _operands(test, operator) -> list:
    """The operands of a chain of one boolean operator: `a or b or c` -> [a, b, c]."""
    if type(test) is cst.BooleanOperation and type(test.operator) is operator:
        return _operands(test.left, operator) + _operands(test.right, operator)
    return [test]


def _negated(joined: str | None, conditions) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The else arm: not (a and b) = (not a) or (not b), which needs every operand known;
    not (a or b) = (not a) and (not b)."""
    if joined is None or joined == "some":
        return None, ()
    return ("any" if joined == "all" else "all"), tuple((name, _OPPOSITE[how]) for name, how in conditions)


def _presence(test) -> tuple[list, list]:
    """Subjects known present / missing when `test` is true."""
    kind = type(test)
    if kind is cst.UnaryOperation and type(test.operator) is cst.Not:
        present, missing = _presence(test.expression)
        return missing, present
    if kind is cst.Comparison and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if type(target.comparator) is cst.Name and target.comparator.value == "None":
            operator = type(target.operator)
            if operator in (cst.Is, cst.Equal):
                return [], [test.left]
            if operator in (cst.IsNot, cst.NotEqual):
                return [test.left], []
        return [], []
    if kind is cst.BooleanOperation and type(test.operator) is cst.And:
        lp, _ = _presence(test.left)
        rp, _ = _presence(test.right)
        return lp + rp, []
    if kind in (cst.Name, cst.Attribute, cst.Call, cst.Await):
        return [test], []
    return [], []


def _is_type_checking(test) -> bool:
    return last_name(dotted(test)) == "TYPE_CHECKING"


def _exception_names(node) -> tuple[str, ...]:
    if type(node) is cst.Tuple:
        return tuple(dotted(e.value) or "?" for e in node.elements)
    return (dotted(node) or "?",)
