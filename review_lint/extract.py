"""Phase 1: one hand-rolled walk over a LibCST module that produces ModuleFacts.

LibCST's visitor framework costs about as much as the parse itself (measured on
Django: 10 s of dispatch for a 12 s parse), so this walks statements directly and
descends into expressions through a per-class table of child fields. Source text
and positions are filled in afterwards, in one position pass, for the nodes that
facts keep (see positions.py).
"""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from bisect import bisect_right

import libcst as cst

from .facts import (
    Span,
    Annotation,
    Assert,
    Binding,
    Block,
    Call,
    Class,
    Exit,
    Field,
    Function,
    Import,
    NO_SPAN,
    WHOLE_FILE,
    ModuleFacts,
    Param,
    Record,
    Value,
)
from .positions import LineIndex, offsets
from .project import last_name

MAX_TEXT = 240
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SUPPRESS = re.compile(
    r"#\s*(?:review-lint:\s*ignore(?P<rl>\[[^\]]*\])?|noqa(?P<nq>:\s*[A-Za-z0-9_, -]+)?)", re.IGNORECASE
)
# A comment on its own line, anywhere in the file (Fixit's name; Ruff's `# ruff: noqa`).
_SKIP_FILE = re.compile(r"#[ \t]*review-lint:[ \t]*skip-file(?![\w\[-])", re.IGNORECASE)

# Child fields that never hold an expression worth descending into.
_SKIP_FIELDS = {"lpar", "rpar", "comma", "semicolon", "operator", "dot", "colon", "equal", "star", "leading_lines"}
_FIELDS: dict[type, tuple[str, ...]] = {}

_OPTIONAL_WRAPPERS = {"Optional"}
_UNION = {"Union"}
_UNWRAP_FIRST = {"Annotated", "Mapped", "ClassVar", "Final", "Required", "NotRequired", "ReadOnly", "InitVar"}
_CONTAINERS = {
    "list", "List", "Sequence", "MutableSequence", "Iterable", "Collection", "set", "Set", "frozenset",
    "FrozenSet", "tuple", "Tuple", "dict", "Dict", "Mapping", "MutableMapping",
}


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


class Extractor:
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

    def _track(self, node: cst.CSTNode, obj: object) -> None:
        self._positioned.append((node, obj))

    def _fill_positions(self) -> None:
        found = offsets(self.module, [node for node, _ in self._positioned])
        starts = LineIndex(self.source).starts
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
                at = _SPAN_AT.get(kind)
                if at is None:
                    obj.span = span
                else:
                    obj[at] = span  # a Record's field by index: no Python-level setter
            if kind in _WITH_TEXT and not obj.text:
                text = texts.get(key)
                if text is None:
                    text = texts[key] = _text(source, *where)
                at = _TEXT_AT.get(kind)
                if at is None:
                    obj.text = text
                else:
                    obj[at] = text
        span_at, text_at, call_span_at, call_text_at = Value._at["span"], Value._at["text"], Call._at["span"], Call._at["text"]
        for value in self._call_values:
            call = value.call
            if call[call_span_at] != NO_SPAN:
                value[span_at] = call[call_span_at]
            value[text_at] = call[call_text_at]
        for block, attr, nodes in self._subjects:
            texts_of = []
            for node in nodes:
                where = found.get(id(node))
                texts_of.append(_text(source, *where) if where else dotted(node) or "")
            setattr(block, attr, tuple(texts_of))

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
            items = []
            for item in node.items:
                value = self._expr(item.item)
                items.append(value)
                if item.asname is not None:
                    self._bind_target(item.asname.name, value, None)
            self._in_block("with", node.body, prefix, class_fact, node, items=tuple(items))
        elif kind is cst.For:
            self._scan(node.iter)
            self._bind_target(node.target, None, None)
            self._in_block("loop", node.body, prefix, class_fact, node)
            if node.orelse is not None:
                self._in_block("loop_else", node.orelse.body, prefix, class_fact, node.orelse)
        elif kind is cst.While:
            self._scan(node.test)
            self._in_block("loop", node.body, prefix, class_fact, node)
            if node.orelse is not None:
                self._in_block("loop_else", node.orelse.body, prefix, class_fact, node.orelse)
        elif kind is cst.Match:
            self._scan(node.subject)
            group = self._new_group()
            for arm, case in enumerate(node.cases):
                block = self._push(Block(self._new_block(), "case", group, arm, (0, 0, 0, 0)), case)
                self._scan(case.pattern)
                if case.guard is not None:
                    self._scan(case.guard)
                self._suite(case.body, prefix, class_fact)
                self._pop(block)
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
        elif kind is cst.AnnAssign:
            annotation = self._annotation(node.annotation.annotation)
            value = self._expr(node.value) if node.value is not None else None
            if class_fact is not None and type(node.target) is cst.Name:
                self._field(class_fact, node.target.value, annotation, value, node)
            else:
                self._bind_target(node.target, value, annotation)
        elif kind is cst.AugAssign:
            self._scan(node.value)
            self._bind_target(node.target, Value("other", ""), None)
        elif kind is cst.Return:
            value = self._expr(node.value) if node.value is not None else None
            self._exit("return", node, value)
        elif kind is cst.Raise:
            if node.exc is not None:
                self._scan(node.exc)
            self._exit("raise", node, None)
        elif kind is cst.Assert:
            self._scan(node.test)
            if node.msg is not None:
                self._scan(node.msg)
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

    def _exit(self, kind: str, node, value: Value | None) -> None:
        scope = self._scope
        fact = Exit(kind, scope.next_order(), tuple(scope.blocks), (0, 0, 0, 0), value)
        scope.function.exits.append(fact)
        self._track(node, fact)

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
                    item = Value("unpacked", "", call=value.call, elements=(Value("const", str(index)),))
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
        fact = Class(qualname, node.name.value, (0, 0, 0, 0), bases, decorators, keywords=keywords,
                     specification=_specification_named(node))
        self._track(node, fact)
        self.facts.classes.append(fact)
        self._suite(node.body, qualname + ".", fact)

    def _if(self, node: cst.If, prefix: str, class_fact: Class | None) -> None:
        scope = self._scope
        test = self._expr(node.test)
        group = self._new_group()
        present, missing = _presence(node.test)
        checking = _is_type_checking(node.test)
        body = self._push(Block(self._new_block(), "if", group, 0, (0, 0, 0, 0), test=test), node)
        self._subjects.append((body, "present", present))
        self._subjects.append((body, "missing", missing))
        was = scope.type_checking
        scope.type_checking = was or checking
        self._suite(node.body, prefix, class_fact)
        scope.type_checking = was
        self._pop(body)
        if node.orelse is not None:
            other = self._push(Block(self._new_block(), "else", group, 1, (0, 0, 0, 0), test=test), node.orelse)
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

    def _in_block(self, kind, suite, prefix, class_fact, node, items=(), group=None) -> None:
        block = Block(self._new_block(), kind, group if group is not None else self._new_group(), 0, (0, 0, 0, 0))
        block.items = items
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

    # -- expressions -------------------------------------------------------
    def _expr(self, node) -> Value:
        """Summarise an expression, recording every call inside it."""
        kind = type(node)
        if kind is cst.Name:
            return self._plain(node.value, "name")
        if kind is cst.Attribute:
            name = dotted(node)
            if name is not None:
                return self._plain(name, "attr")
            # `f().a.b` / `(await f()).a`: "member", carrying the call (the attribute
            # path is the text after the call's closing parenthesis: `member_path`).
            base = node.value
            while type(base) is cst.Attribute:
                base = base.value
            if type(base) is cst.Call or (type(base) is cst.Await and type(base.expression) is cst.Call):
                inner = self._expr(base)
                # The calls recorded stay as they were before "member" existed: the
                # scan of `f().a` saw only the calls inside `f()`, never `f()` itself
                # (`f().a.b` and `(await f()).a` did record it). Recording it would give
                # the call graph new edges, an RL001 change of its own.
                calls = self._scope.function.calls
                if node.value is base and inner.call is not None and calls and calls[-1] is inner.call:
                    calls.pop()
                return self._tracked(node, Value("member", "", call=inner.call) if inner.call else Value("other", ""))
            self._scan(node.value)
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

    # -- annotations -------------------------------------------------------
    def _annotation(self, node) -> Annotation:
        optional, core, container = _unwrap(node, 0)
        fact = Annotation("", optional, tuple(core), container)
        self._track(node, fact)
        return fact


class _TextHolder:
    """The source text of an assert's test or message, filled by the position pass."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        self.text = ""


def _either(*outcomes: Value) -> Value:
    """A value that is one of `outcomes`: "maybe_none" when one is None-ish, else
    "other" carrying them as elements, so judgement can ask about each."""
    if any(outcome.kind in ("none", "maybe_none") for outcome in outcomes):
        return Value("maybe_none", "")
    return Value("other", "", elements=outcomes)


# The kept objects that take a span, and those that take their node's text.
_WITH_SPAN = frozenset({Assert, Binding, Block, Call, Class, Exit, Field, Function, Import, Value})
_WITH_TEXT = frozenset({Annotation, Call, Value, _TextHolder})
_SPAN_AT = {kind: kind._at["span"] for kind in _WITH_SPAN if issubclass(kind, Record)}
_TEXT_AT = {kind: kind._at["text"] for kind in _WITH_TEXT if issubclass(kind, Record)}


def _string_value(node: cst.SimpleString):
    """The string's value; without a prefix, a backslash or a carriage return (Python
    reads a CRLF inside a string as LF) it is what lies between the quotes (LibCST's
    evaluated_value compiles every string with ast.literal_eval)."""
    value = node.value
    if "\\" not in value and "\r" not in value and value[0] in "\"'":
        quote = 3 if value[:3] in ('"""', "'''") else 1
        return value[quote:-quote]
    return node.evaluated_value


def _text(source: str, start: int, end: int) -> str:
    """The node's source with whitespace runs (newlines too) as single spaces, cut at MAX_TEXT."""
    if end - start > _TEXT_WINDOW:
        # A long node (a class body's dict, a call over many lines): collapsing the
        # whitespace of a prefix gives a prefix of the whole text, so when the
        # prefix alone is too long it decides the cut text.
        text = " ".join(source[start:start + _TEXT_WINDOW].split())
        if len(text) > MAX_TEXT:
            return text[: MAX_TEXT - 1] + "…"
    text = " ".join(source[start:end].split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


_TEXT_WINDOW = 4 * MAX_TEXT


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


_SPECIFICATION = re.compile(r"\bRFC[ -]?\d{3,5}\b|\bOpenID\b|\bOIDC\b|\bOAuth\b|\bSCIM\b|\bOpenAPI\b", re.IGNORECASE)


def _specification_named(node: cst.ClassDef) -> str | None:
    """The external specification a class's docstring says it implements, if any."""
    body = node.body
    if type(body) is not cst.IndentedBlock or not body.body:
        return None
    first = body.body[0]
    if type(first) is not cst.SimpleStatementLine or type(first.body[0]) is not cst.Expr:
        return None
    value = first.body[0].value
    if type(value) is cst.ConcatenatedString:
        text = " ".join(part.value for part in (value.left, value.right) if type(part) is cst.SimpleString)
    elif type(value) is cst.SimpleString:
        text = value.value
    else:
        return None
    match = _SPECIFICATION.search(text)
    return " ".join(match.group(0).split()) if match else None


def suppressions(source: str) -> dict[int, frozenset[str] | None]:
    """Line -> suppressed codes (None: every code) from inline comments; WHOLE_FILE
    when a `# review-lint: skip-file` comment stands on a line of its own."""
    if "noqa" not in source and "review-lint" not in source and "NOQA" not in source:
        return {}
    found: dict[int, frozenset[str] | None] = {}
    if _skips_file(source):
        found[WHOLE_FILE] = None
    for number, line in enumerate(_NEWLINE.split(source), start=1):
        if "#" not in line:
            continue
        match = _SUPPRESS.search(line)
        if match is None:
            continue
        codes = match.group("rl") or match.group("nq")
        if codes is None:
            found[number] = None
        else:
            parsed = frozenset(c.strip().upper() for c in re.split(r"[,\s]+", codes.strip("[]: ")) if c.strip())
            found[number] = parsed or None
    return found


def _skips_file(source: str) -> bool:
    """Whether a skip-file comment stands on a line of its own (not in a string, not after code)."""
    if _SKIP_FILE.search(source) is None:
        return False
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if (token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip()
                    and _SKIP_FILE.match(token.string)):
                return True
    except (tokenize.TokenError, SyntaxError):
        pass
    return False


def extract(path: str, source: str, module: cst.Module) -> ModuleFacts:
    return Extractor(path, source, module).run()
