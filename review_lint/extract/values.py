"""Values and calls: what an expression is, for judgement, and every call inside it.

`_expr` summarises an expression into a Value; `_scan` descends into the parts of
an expression that are not summarised, through a per-class table of child fields,
for the calls and bindings inside them.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from ..facts import Call, Value

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
            # `f(x).a.b` / `(await f()).a`: "member", carrying the call (the attribute path
            # is the text after the call's closing parenthesis: facts.member_path). The
            # call itself is a call of the function, recorded like any other.
            base = node.value
            while type(base) is cst.Attribute:
                base = base.value
            if type(base) is cst.Call or (type(base) is cst.Await and type(base.expression) is cst.Call):
                inner = self._expr(base)  # only names lie between the call and the last attribute
                return self._tracked(node, Value("member", "", call=inner.call) if inner.call else Value("other", ""))
            self._scan_node(node.value)
            return self._tracked(node, Value("other", ""))
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
                    self._scan(element.value)
                else:
                    elements.append(self._expr(element.value))
            return self._tracked(node, Value("seq", "", elements=tuple(elements)))
        if kind is cst.IfExp:
            self._scan(node.test)
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
        self._scan(node)
        return self._tracked(node, Value("other", ""))

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

    def _tracked(self, node, value: Value) -> Value:
        self._track(node, value)
        return value

    def _dict(self, node: cst.Dict) -> Value:
        entries = []
        opaque = False
        for element in node.elements:
            if type(element) is cst.DictElement:
                key = element.key
                value = self._expr(element.value)
                if type(key) is cst.SimpleString:
                    entries.append((_string_value(key), value))
                else:
                    self._scan(key)
                    opaque = True
            else:
                self._scan(element.value)
                opaque = True
        return self._tracked(node, Value("dict", "", entries=tuple(entries), opaque_entries=opaque))

    def _call(self, node: cst.Call) -> Value:
        scope = self._scope
        func = node.func
        callee = dotted(func)
        method = receiver = None
        if type(func) is cst.Attribute:
            method = func.attr.value
            receiver = self._expr(func.value)
        elif callee is None:
            self._scan(func)
        args: list[Value] = []
        kwargs: list[tuple[str, Value]] = []
        star_args = star_kwargs = False
        for arg in node.args:
            if arg.star == "*":
                star_args = True
                self._scan(arg.value)
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
        """Descend into an expression for the calls and bindings inside it."""
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
        kind = type(node)
        if kind is cst.Call:
            self._call(node)
        elif kind is cst.NamedExpr:
            self._expr(node)
        elif kind is cst.Name or kind is cst.SimpleString or kind is cst.Integer:
            return
        else:
            self._scan(node)


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
