"""Values and calls: what an expression is, for judgement, and every call inside it.

`_expr` summarises an expression into a Value; `_scan` descends into the parts of
an expression that are not summarised, through a per-class table of child fields,
for the calls and bindings inside them.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from ..facts import Call, Value, string_of

# Child fields that never hold an expression worth descending into.
_SKIP_FIELDS = {"lpar", "rpar", "comma", "semicolon", "operator", "dot", "colon", "equal", "star", "leading_lines"}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _node_types() -> frozenset[type]:
    found, todo = set(), [cst.CSTNode]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return frozenset(found)


_NODE_TYPES = _node_types()


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(cls) if not f.name.startswith("whitespace") and f.name not in _SKIP_FIELDS
        )
        _FIELDS[cls] = names
    return names


def dotted(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if type(node) is cst.Name:
        return node.value
    parts: list[str] = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def item_path(node: cst.CSTNode) -> str | None:
    """A container's spelling for `Function.item_bindings`: names, attributes and string
    keys, parentheses dropped: `(cat["prefs"])` -> "cat['prefs']". None for other shapes.
    `facts.item_path` spells a Value the same way."""
    if type(node) is cst.Name:
        return node.value
    if type(node) is cst.Attribute:
        base = item_path(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    if type(node) is cst.Subscript and len(node.slice) == 1 and type(node.slice[0].slice) is cst.Index:
        key = node.slice[0].slice.value
        # read as facts.item_path reads it (LibCST's evaluated_value raises on `"\N{NO SUCH NAME}"`)
        text = string_of(key.value) if type(key) is cst.SimpleString else None
        base = item_path(node.value) if text is not None else None
        return f"{base}[{text!r}]" if base is not None else None
    return None


def item_key_path(target: cst.Subscript) -> str | None:
    """A store target's name in `Function.item_bindings`: the container's `item_path` and
    the key, a string's repr or nothing: `cat["prefs"][name]` -> "cat['prefs'][]",
    `context["form"]` -> "context['form']"."""
    container = item_path(target.value)
    if container is None or len(target.slice) != 1 or type(target.slice[0].slice) is not cst.Index:
        return None
    return item_path(target) or container + "[]"


class Values:
    """The expression half of the walk (a mixin of Extractor)."""

    def _expr(self, node) -> Value:
        """Summarise an expression, recording every call inside it."""
        kind = type(node)
        if kind is cst.Name:
            return self._plain(node.value, "name")
        if kind is cst.Attribute:
            name = dotted(node)
            if name is not None:
                return self._plain(name, "attr")
            return self._attributes(node)
        if kind is cst.Call:
            return self._call(node)
        if kind is cst.Await:
            inner = self._expr(node.expression)
            value = Value("await", "", ref=inner.ref, call=inner.call)
            return self._tracked(node, value)
        if kind is cst.Dict:
            return self._dict(node)
        if kind in (cst.List, cst.Tuple, cst.Set):
            elements = []
            for element in node.elements:
                if type(element) is cst.StarredElement:
                    self._scan_node(element.value)
                else:
                    elements.append(self._expr(element.value))
            return self._tracked(node, Value("seq", "", elements=tuple(elements)))
        if kind is cst.IfExp:
            self._scan_node(node.test)
            body, orelse = self._expr(node.body), self._expr(node.orelse)
            return self._tracked(node, _either(body, orelse))
        if kind is cst.BooleanOperation:
            left, right = self._expr(node.left), self._expr(node.right)
            # `a or b` is None only through `b`; `a and b` through either.
            return self._tracked(node, _either(left, right) if type(node.operator) is cst.And else _either(right))
        if kind in (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.ConcatenatedString, cst.Ellipsis):
            return self._tracked(node, Value("const", ""))
        if kind is cst.NamedExpr:
            value = self._expr(node.value)
            self._bind_target(node.target, value, None)
            return value
        if kind is cst.Comparison:
            operands = [self._operand(node.left)]
            operators = []
            for target in node.comparisons:
                operators.append(_OPERATORS[type(target.operator)])
                operands.append(self._operand(target.comparator))
            return self._operation(node, ",".join(operators), operands)
        if kind is cst.BinaryOperation:
            return self._operation(node, _OPERATORS[type(node.operator)],
                                   [self._operand(node.left), self._operand(node.right)])
        if kind is cst.UnaryOperation:
            return self._operation(node, _OPERATORS[type(node.operator)], [self._operand(node.expression)])
        if kind is cst.Subscript:
            return self._subscript(node)
        if kind is cst.FormattedString:
            return self._formatted(node)
        self._scan(node)
        return self._tracked(node, Value("other", ""))

    def _operand(self, node) -> Value:
        """An operator's operand: literals keep their token as text, untracked (an
        operator's span and text are its own; `x == 1` need not position the `1`)."""
        kind = type(node)
        if (kind is cst.Integer or kind is cst.SimpleString) and not node.lpar and len(node.value) < MAX_OPERAND:
            return self._constant(node.value)
        return self._expr(node)

    def _operation(self, node, operator: str, operands: list[Value]) -> Value:
        return self._tracked(node, Value("op", "", elements=tuple(operands), op=operator))

    def _attributes(self, node: cst.Attribute) -> Value:
        """`f(x).a.b` / `(await f()).a`: "member", carrying the call and the path (the
        call itself is a call of the function, recorded like any other); `rows[0].a`:
        an ".a" operation on the value it is taken of."""
        names = []
        base = node
        while type(base) is cst.Attribute:
            names.append(base.attr.value)
            base = base.value
        path = "." + ".".join(reversed(names))
        if type(base) is cst.Call or (type(base) is cst.Await and type(base.expression) is cst.Call):
            inner = self._expr(base)
            if inner.call is not None:
                return self._tracked(node, Value("member", "", call=inner.call, op=path))
            return self._tracked(node, Value("other", ""))
        return self._operation(node, path, [self._operand(base)])

    def _subscript(self, node: cst.Subscript) -> Value:
        operands = [self._operand(node.value)]
        for element in node.slice:
            index = element.slice
            if type(index) is cst.Index and index.star is None:
                operands.append(self._operand(index.value))
            else:  # a slice `a[1:n]`: its bounds are scanned, the slice itself is opaque
                self._scan(index)
                operands.append(Value("other", ""))
        return self._operation(node, "[]", operands)

    def _formatted(self, node: cst.FormattedString) -> Value:
        operands = []
        for part in node.parts:
            if type(part) is cst.FormattedStringExpression:
                operands.append(self._expr(part.expression))
                if part.format_spec:
                    for inner in part.format_spec:
                        self._scan_node(inner)
        return self._operation(node, "f", operands)

    def _plain(self, name: str, kind: str) -> Value:
        """The Value of a name or dotted name: one object per distinct name in a file.
        Nothing changes these after extraction, and a pickle then holds each once
        (two fifths of a file's values are names)."""
        value = self._plain_values.get(name)
        if value is None:
            if name == "None":
                value = Value("none", "None")
            elif name in ("True", "False"):
                value = Value("const", name)
            else:
                value = Value(kind, name, ref=name)
            self._plain_values[name] = value
        return value

    def _constant(self, token: str) -> Value:
        """An untracked literal (an operand, an unpacked index): like a name, one object
        per distinct token in a file (a tenth of a file's values are these)."""
        value = self._constants.get(token)
        if value is None:
            value = self._constants[token] = Value("const", token)
        return value

    def _tracked(self, node, value: Value) -> Value:
        self._track(node, value)
        return value

    def _dict(self, node: cst.Dict) -> Value:
        entries = []
        keys = []  # the keys that are no string literal: `{IntegrityError: handler}`
        opaque = False
        for element in node.elements:
            if type(element) is cst.DictElement:
                key = element.key
                value = self._expr(element.value)
                if type(key) is cst.SimpleString:
                    entries.append((_string_value(key), value))
                else:
                    keys.append(self._expr(key))
                    opaque = True
            else:
                self._scan_node(element.value)
                opaque = True
        return self._tracked(node, Value("dict", "", entries=tuple(entries), opaque_entries=opaque,
                                         elements=tuple(keys)))

    def _call(self, node: cst.Call) -> Value:
        scope = self._scope
        func = node.func
        callee = dotted(func)
        method = receiver = None
        if type(func) is cst.Attribute:
            method = func.attr.value
            receiver = self._expr(func.value)
        elif callee is None:
            self._scan_node(func)
        args: list[Value] = []
        kwargs: list[tuple[str, Value]] = []
        star_args = star_kwargs = False
        for arg in node.args:
            if arg.star == "*":
                star_args = True
                self._scan_node(arg.value)
            elif arg.star == "**":
                spread = self._expr(arg.value)
                if spread.kind == "dict" and not spread.opaque_entries:
                    kwargs.extend(spread.entries)
                else:
                    star_kwargs = True
            elif arg.keyword is not None:
                kwargs.append((arg.keyword.value, self._expr(arg.value)))
            else:
                args.append(self._expr(arg.value))
        call = Call(
            callee=callee,
            method=method,
            receiver=receiver,
            args=tuple(args),
            kwargs=tuple(kwargs),
            star_args=star_args,
            star_kwargs=star_kwargs,
            span=(0, 0, 0, 0),
            order=scope.next_order(),
            blocks=tuple(scope.blocks),
        )
        scope.function.calls.append(call)
        self._track(node, call)
        value = Value("call", "", ref=callee, call=call)
        self._call_values.append(value)  # takes its call's span and text, once they are known
        return value

    def _scan(self, node) -> None:
        """Descend into an expression's parts for the calls and bindings inside them (the
        expression itself is not one: a whole expression goes to `_scan_node`)."""
        for name in _child_fields(type(node)):
            child = getattr(node, name)
            kind = type(child)
            if kind in _NODE_TYPES:  # isinstance with CSTNode, an ABC, cost twice as much
                self._scan_node(child)
            elif kind is tuple or kind is list:
                for item in child:
                    if type(item) in _NODE_TYPES:
                        self._scan_node(item)

    def _scan_node(self, node) -> None:
        """An expression whose value is not kept: a call is recorded, anything else scanned."""
        kind = type(node)
        if kind is cst.Call:
            self._call(node)
        elif kind is cst.NamedExpr:
            self._expr(node)
        elif kind is cst.Name or kind is cst.SimpleString or kind is cst.Integer:
            return
        else:
            self._scan(node)


MAX_OPERAND = 80  # a longer literal operand is positioned and cut like any other value
_OPERATORS: dict[type, str] = {
    cst.Equal: "==", cst.NotEqual: "!=", cst.LessThan: "<", cst.GreaterThan: ">", cst.LessThanEqual: "<=",
    cst.GreaterThanEqual: ">=", cst.In: "in", cst.NotIn: "not in", cst.Is: "is", cst.IsNot: "is not",
    cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/", cst.FloorDivide: "//", cst.Modulo: "%",
    cst.Power: "**", cst.LeftShift: "<<", cst.RightShift: ">>", cst.BitOr: "|", cst.BitAnd: "&", cst.BitXor: "^",
    cst.MatrixMultiply: "@", cst.Not: "not", cst.Minus: "-", cst.Plus: "+", cst.BitInvert: "~",
}


def _either(*outcomes: Value) -> Value:
    """A value that is one of `outcomes`: "maybe_none" when one is None-ish, else
    "other" carrying them as elements, so judgement can ask about each."""
    if any(outcome.kind in ("none", "maybe_none") for outcome in outcomes):
        return Value("maybe_none", "")
    return Value("other", "", elements=outcomes)


def _string_value(node: cst.SimpleString):
    """The string's value; without a prefix, a backslash or a carriage return (Python
    reads a CRLF inside a string as LF) it is what lies between the quotes (LibCST's
    evaluated_value compiles every string with ast.literal_eval)."""
    value = node.value
    if "\\" not in value and "\r" not in value and value[0] in "\"'":
        quote = 3 if value[:3] in ('"""', "'''") else 1
        return value[quote:-quote]
    return node.evaluated_value
