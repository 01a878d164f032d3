"""The walk: statements, scopes, functions, classes, imports and bindings.

One pass over the statements; expressions go to values.py, annotations to
annotations.py, blocks and exits to flow.py, and every kept node is recorded for
the position fill (fill.py).
"""

from __future__ import annotations

import re

import libcst as cst

from ..facts import Annotation, Assert, Binding, Class, Field, Function, Import, Param, Value
from .fill import _TextHolder
from .values import dotted, item_key_path


class _Scope:
    """The function (or module) whose body is being walked."""

    def __init__(self, function: Function) -> None:
        self.function = function
        self.blocks: list[int] = []
        self.type_checking = False
        self.counter = 0

    def next_order(self) -> int:
        self.counter += 1
        return self.counter


class Walk:
    """Statements and scopes (a mixin of Extractor)."""

    # -- statements --------------------------------------------------------
    def _body(self, statements, prefix: str, class_fact: Class | None) -> None:
        for statement in statements:
            self._statement(statement, prefix, class_fact)

    def _suite(self, suite, prefix: str, class_fact: Class | None) -> None:
        self._body(suite.body, prefix, class_fact)

    def _statement(self, node, prefix: str, class_fact: Class | None) -> None:
        kind = type(node)
        if kind is cst.SimpleStatementLine:
            for small in node.body:
                self._small(small, class_fact)
        elif kind is cst.FunctionDef:
            self._function(node, prefix, class_fact)
        elif kind is cst.ClassDef:
            self._class(node, prefix)
        elif kind is cst.If:
            self._if(node, prefix, class_fact)
        elif kind is cst.Try or kind is cst.TryStar:
            self._try(node, prefix, class_fact)
        elif kind is cst.With:
            self._with(node, prefix, class_fact)
        elif kind is cst.For or kind is cst.While:
            self._loop(node, prefix, class_fact)
        elif kind is cst.Match:
            self._match(node, prefix, class_fact)
        elif isinstance(node, cst.BaseSmallStatement):
            # The body of a one-line block (`if x: assert y`) holds small statements directly.
            self._small(node, class_fact)
        else:
            self._scan(node)

    def _small(self, node, class_fact: Class | None) -> None:
        scope = self._scope
        kind = type(node)
        if kind is cst.Expr:
            # A bare string (a docstring) holds no call and its value is dropped:
            # summarising it would only cost its text.
            if type(node.value) not in (cst.SimpleString, cst.ConcatenatedString):
                self._expr(node.value)
        elif kind is cst.Assign:
            value = self._expr(node.value)
            for target in node.targets:
                if class_fact is not None and type(target.target) is cst.Name:
                    self._field(class_fact, target.target.value, None, value, node)
                else:
                    self._bind_target(target.target, value, None)
                    if type(target.target) is cst.Name and scope.function.qualname == "<module>":
                        self._alias(target.target.value, node.value)
        elif kind is cst.AnnAssign:
            annotation = self._annotation(node.annotation.annotation)
            value = self._expr(node.value) if node.value is not None else None
            if class_fact is not None and type(node.target) is cst.Name:
                self._field(class_fact, node.target.value, annotation, value, node)
            else:
                self._bind_target(node.target, value, annotation)
                if value is not None and type(node.target) is cst.Name and scope.function.qualname == "<module>":
                    self._alias(node.target.value, node.value, annotation)
        elif kind is cst.AugAssign:
            self._scan_node(node.value)
            self._bind_target(node.target, Value("other", ""), None)
        elif kind is cst.Return:
            value = self._expr(node.value) if node.value is not None else None
            self._exit("return", node, value)
        elif kind is cst.Raise:
            if node.exc is not None:
                self._scan_node(node.exc)
            if node.cause is not None:
                self._scan_node(node.cause.item)
            self._exit("raise", node, None)
        elif kind is cst.Assert:
            self._scan_node(node.test)
            if node.msg is not None:
                self._scan_node(node.msg)
            fact = Assert(
                span=(0, 0, 0, 0),
                test="",
                msg=None,
                order=scope.next_order(),
                blocks=tuple(scope.blocks),
                in_type_checking=scope.type_checking,
            )
            scope.function.asserts.append(fact)
            self._track(node, fact)
            holder = _TextHolder()
            self._track(node.test, holder)
            fact_msg = None
            if node.msg is not None:
                fact_msg = _TextHolder()
                self._track(node.msg, fact_msg)
            self._assert_texts.append((fact, holder, fact_msg))
        elif kind is cst.Import:
            for alias in node.names:
                name = dotted(alias.name) or ""
                if alias.asname is not None:
                    local = dotted(alias.asname.name) or name
                    self._import(local, name, None, 0, node)
                else:
                    self._import(name.split(".")[0], name, None, 0, node)
        elif kind is cst.ImportFrom:
            module = dotted(node.module) if node.module is not None else ""
            level = len(node.relative)
            if isinstance(node.names, cst.ImportStar):
                self._import("*", module or "", None, level, node, star=True)
            else:
                for alias in node.names:
                    name = dotted(alias.name) or ""
                    local = dotted(alias.asname.name) if alias.asname is not None else name
                    self._import(local or name, module or "", name, level, node)
        elif kind is cst.Continue or kind is cst.Break:
            self._exit(kind.__name__.lower(), node, None)
        else:
            self._scan(node)

    def _import(self, local: str, module: str, name: str | None, level: int, node, star: bool = False) -> None:
        fact = Import(local, module, name, level, (0, 0, 0, 0), self._scope.type_checking)
        self._track(node, fact)
        (self.facts.star_imports if star else self.facts.imports).append(fact)

    def _field(self, class_fact: Class, name: str, annotation, value, node) -> None:
        fact = Field(name, annotation, value, (0, 0, 0, 0))
        self._track(node, fact)
        class_fact.fields.append(fact)

    def _bind_target(self, target, value: Value | None, annotation: Annotation | None) -> None:
        scope = self._scope
        kind = type(target)
        if kind is cst.Name:
            # `x = f()` names the call's result; `x, y = f()` ("unpacked") and `x = f().a`
            # ("member") do not.
            if (
                value is not None and value.call is not None and value.call.assigned_to is None
                and value.kind not in ("unpacked", "member")
            ):
                value.call.assigned_to = target.value
            fact = Binding(target.value, scope.next_order(), tuple(scope.blocks), value, annotation, (0, 0, 0, 0))
            scope.function.bindings.append(fact)
            self._track(target, fact)
        elif kind is cst.Tuple or kind is cst.List:
            elements = target.elements
            pairwise = (
                value is not None and value.kind == "seq" and len(value.elements) == len(elements)
                and not any(type(e) is cst.StarredElement for e in elements)
            )
            # `a, b = f()`: each name an "unpacked" element of the call's result.
            unpacked = (
                not pairwise and value is not None and value.call is not None and value.kind in ("call", "await")
                and not any(type(e) is cst.StarredElement for e in elements)
            )
            for index, element in enumerate(elements):
                # `a, b = x, y` binds each name to its own value; other unpacking is unknown.
                if pairwise:
                    item = value.elements[index]
                elif unpacked:
                    item = Value("unpacked", "", call=value.call, elements=(self._constant(str(index)),))
                else:
                    item = None
                self._bind_target(element.value, item, None)
        elif kind is cst.StarredElement:
            self._bind_target(target.value, None, None)
        else:
            if kind is cst.Attribute:
                name = dotted(target)
                if name is not None:
                    fact = Binding(name, scope.next_order(), tuple(scope.blocks), value, annotation, (0, 0, 0, 0))
                    scope.function.attribute_bindings.append(fact)
                    self._track(target, fact)
            elif kind is cst.Subscript and value is not None:
                name = item_key_path(target)
                if name is not None:
                    fact = Binding(name, scope.next_order(), tuple(scope.blocks), value, None, (0, 0, 0, 0))
                    scope.function.item_bindings.append(fact)
                    self._track(target, fact)
            self._scan(target)

    def _function(self, node: cst.FunctionDef, prefix: str, class_fact: Class | None) -> None:
        decorators = tuple(self._expr(d.decorator) for d in node.decorators)
        params = []
        p = node.params
        for kind, group in (("positional", p.posonly_params), ("positional", p.params), ("keyword", p.kwonly_params)):
            for param in group:
                params.append(self._param(param, kind))
        if isinstance(p.star_arg, cst.Param):
            params.append(self._param(p.star_arg, "star"))
        if p.star_kwarg is not None:
            params.append(self._param(p.star_kwarg, "starstar"))
        name = node.name.value
        qualname = prefix + name
        function = Function(
            qualname=qualname,
            name=name,
            class_qualname=class_fact.qualname if class_fact is not None else None,
            span=(0, 0, 0, 0),
            is_async=node.asynchronous is not None,
            decorators=decorators,
            params=tuple(params),
            returns=self._annotation(node.returns.annotation) if node.returns is not None else None,
            in_type_checking=self._scope.type_checking,
        )
        self._track(node, function)
        self.facts.functions.append(function)
        if class_fact is not None:
            class_fact.methods[name] = qualname
        outer = self._scope
        self._scope = _Scope(function)
        self._suite(node.body, qualname + ".", None)
        self._scope = outer

    def _param(self, param: cst.Param, kind: str) -> Param:
        annotation = self._annotation(param.annotation.annotation) if param.annotation is not None else None
        default = self._expr(param.default) if param.default is not None else None
        return Param(param.name.value, annotation, default, kind)

    def _class(self, node: cst.ClassDef, prefix: str) -> None:
        decorators = tuple(self._expr(d.decorator) for d in node.decorators)
        bases = tuple(self._expr(arg.value) for arg in node.bases if arg.keyword is None and not arg.star)
        keywords = tuple((arg.keyword.value, self._expr(arg.value)) for arg in node.keywords if arg.keyword is not None)
        qualname = prefix + node.name.value
        docstring = _docstring(node.body)
        fact = Class(qualname, node.name.value, (0, 0, 0, 0), bases, decorators, keywords=keywords,
                     specification=_specification_named(docstring),
                     none_documented=_fields_documenting_none(node.body, docstring))
        self._track(node, fact)
        self.facts.classes.append(fact)
        self._suite(node.body, qualname + ".", fact)


_SPECIFICATION = re.compile(r"\bRFC[ -]?\d{3,5}\b|\bOpenID\b|\bOIDC\b|\bOAuth\b|\bSCIM\b|\bOpenAPI\b", re.IGNORECASE)


def _string_statement(statement) -> str | None:
    """The text of a statement that is a bare string (a docstring), else None."""
    if type(statement) is not cst.SimpleStatementLine or type(statement.body[0]) is not cst.Expr:
        return None
    value = statement.body[0].value
    if type(value) is cst.ConcatenatedString:
        return " ".join(part.value for part in (value.left, value.right) if type(part) is cst.SimpleString)
    return value.value if type(value) is cst.SimpleString else None


def _docstring(body) -> str | None:
    if type(body) is not cst.IndentedBlock or not body.body:
        return None
    return _string_statement(body.body[0])


def _specification_named(docstring: str | None) -> str | None:
    """The external specification a class's docstring says it implements, if any."""
    match = _SPECIFICATION.search(docstring) if docstring else None
    return " ".join(match.group(0).split()) if match else None


# An entry of a field in a class docstring: Sphinx (`:ivar name:`), Google (`name (type):`,
# `name:`) or NumPy (`name : type`), at the start of a line.
_ENTRY = re.compile(r"^\s*(?::(?:ivar|var|cvar|param|attr)\s+(\w+)\s*:|(\w+)\s*(?:\([^)]*\))?\s*:(?!:))", re.MULTILINE)
# "None" as a state the field can be in; "Defaults to None" only documents the default.
_NONE_STATE = re.compile(r"\bNone\b")
_NONE_DEFAULT = re.compile(r"\bdefault(?:s| is)?(?: to)?\s*[:=]?\s*`*None\b", re.IGNORECASE)


def _says_none(text: str) -> bool:
    return bool(_NONE_STATE.search(_NONE_DEFAULT.sub("", text)))


def _fields_documenting_none(body, docstring: str | None) -> tuple[str, ...]:
    """Fields whose documentation says what None means: an entry of the class docstring,
    or the string statement right after the field (an attribute docstring)."""
    names: list[str] = []
    if docstring:
        entries = list(_ENTRY.finditer(docstring))
        for entry, following in zip(entries, entries[1:] + [None]):
            text = docstring[entry.end():following.start() if following else len(docstring)]
            if _says_none(text):
                names.append(entry.group(1) or entry.group(2))
    statements = body.body if type(body) is cst.IndentedBlock else ()
    for statement, after in zip(statements, statements[1:]):
        if type(statement) is cst.SimpleStatementLine and type(statement.body[0]) is cst.AnnAssign:
            target = statement.body[0].target
            text = _string_statement(after)
            if type(target) is cst.Name and text and _says_none(text):
                names.append(target.value)
    return tuple(dict.fromkeys(names))
