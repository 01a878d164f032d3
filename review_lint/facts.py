"""Plain-data facts extracted from one file in phase 1.

Everything here is a small picklable slots object (a Record) or dataclass: facts
cross process boundaries and live in the cache, CST nodes never do. Rules judge from these alone.

Every fact class declares `needs`: what the position fill (review_lint/extract/fill.py)
gives it once the walk is done, from the node the walk kept it for. "span" is the
node's (line, column, end_line, end_column), "text" its source with whitespace
collapsed, cut at 240 characters; `()` for neither (a fact never kept for a node).
A class without the declaration, or declaring a need it has no field for, is
refused at import. Positions are computed only for kept nodes, which keeps the
position pass cheap: declare only what judgement reads.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from dataclasses import dataclass, field

# (line, column, end_line, end_column), all 1-based; the end column is exclusive.
Span = tuple[int, int, int, int]
NO_SPAN: Span = (0, 0, 0, 0)

NEEDS = ("span", "text")  # what a fact class can declare in `needs`


def check_needs(cls: type, fields: tuple[str, ...]) -> tuple[str, ...]:
    """The class's own `needs` declaration, refused when missing or unfillable."""
    needs = cls.__dict__.get("needs")
    if needs is None:
        raise TypeError(f"{cls.__name__} must declare needs = (...): which of {NEEDS} the position fill "
                        f"gives it, () for neither")
    if type(needs) is not tuple or not set(needs) <= set(NEEDS):
        raise TypeError(f"{cls.__name__}.needs must be a tuple of {NEEDS}, not {needs!r}")
    for need in needs:
        if need not in fields:
            raise TypeError(f"{cls.__name__} needs a {need} but has no field {need!r} to hold it")
    return needs


class _RecordType(type):
    """Makes a Record subclass's annotated fields its slots (a class body cannot hold
    both a slot and a default of one name: the defaults move to `_defaults`).

    A class that declares `shapes` holds no slots itself: each shape (a subclass made
    here, named `<Class>_<shape>`) holds the fields it lists, and reads the others as
    the class's defaults. Calling the class builds the smallest shape that holds every
    field given a value other than its default (_make_shapes)."""

    def __new__(mcls, name, bases, namespace, **kwargs):
        shapes = None
        if bases and namespace.get("__slots__") == ():
            fields = tuple(namespace.get("__annotations__", {}))
            deferred = namespace.get("deferred", ())
            if any(n.startswith("_") for n in fields):
                raise TypeError(f"{name}: a field's name must not begin with '_' (its slot's may)")
            if not set(deferred) <= set(fields) - set(_PROPERTIES):
                raise TypeError(f"{name}.deferred must name its fields (not {' or '.join(_PROPERTIES)})")
            namespace["_fields"] = fields
            namespace["_defaults"] = {n: namespace.pop(n) for n in fields if n in namespace}
            namespace["_slot_of"] = {n: "_" + n if n in _PROPERTIES or n in deferred else n for n in fields}
            # A span is held packed in `_span` and read through the `span` property (see pack_span).
            namespace["__slots__"] = tuple(namespace["_slot_of"].values())
            if "span" in fields:
                namespace["span"] = _SPAN_PROPERTY
            if "text" in fields:
                namespace["text"] = _TEXT_PROPERTY
            for field_name in deferred:
                namespace[field_name] = _deferred_property(name, field_name)
            shapes = namespace.get("shapes")
            if shapes is not None:
                namespace["__slots__"] = ()
                namespace.update((n, v) for n, v in namespace["_defaults"].items()
                                 if n not in _PROPERTIES and n not in deferred)
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        if "_family" not in namespace:
            cls._family = cls
        if shapes is not None:
            _make_shapes(cls, shapes)
        return cls


_PROPERTIES = ("span", "text")  # fields held in a slot of their own name with a "_" before it (so are `deferred`)


# A span packed into one int: line (22 bits), column (12), end line less line (12), end
# column (14); a span outside those ranges stays a tuple. On a quarter of the scale tree,
# 795,000 spans were 80-byte tuples holding 920,000 ints of their own (line numbers above
# 256): a fifth of all the facts' memory. A packed span is one 32-byte int, and NO_SPAN's
# is 0, the one int Python keeps. Equal spans pack equal, so facts compare by it.
_LINE, _COLUMN, _LINES, _END_COLUMN = 22, 12, 12, 14  # bits
_COLUMN_AT, _LINES_AT, _END_COLUMN_AT = _LINE, _LINE + _COLUMN, _LINE + _COLUMN + _LINES
PACKED_SPAN_BITS = _END_COLUMN_AT + _END_COLUMN
_LINE_MASK, _COLUMN_MASK, _LINES_MASK = (1 << _LINE) - 1, (1 << _COLUMN) - 1, (1 << _LINES) - 1


def pack_span(span: Span) -> int | Span:
    """The packed form of `span` (an int), or the span as a tuple when it does not fit."""
    line, column, end_line, end_column = span
    lines = end_line - line
    if (line.__class__ is column.__class__ is end_line.__class__ is end_column.__class__ is int
            and 0 <= line < 1 << _LINE and 0 <= column < 1 << _COLUMN and 0 <= lines < 1 << _LINES
            and 0 <= end_column < 1 << _END_COLUMN):
        return line | column << _COLUMN_AT | lines << _LINES_AT | end_column << _END_COLUMN_AT
    return tuple(span)


def unpack_span(packed: int | Span) -> Span:
    if packed.__class__ is not int:
        return packed
    if not packed:
        return NO_SPAN
    line = packed & _LINE_MASK
    return line, packed >> _COLUMN_AT & _COLUMN_MASK, line + (packed >> _LINES_AT & _LINES_MASK), packed >> _END_COLUMN_AT


def _set_span(fact, span: Span) -> None:
    fact._span = pack_span(span)


_SPAN_PROPERTY = property(lambda fact: unpack_span(fact._span), _set_span,
                          doc="(line, column, end_line, end_column), held packed (pack_span)")


class LazyText:
    """What a fact's `_text` holds in place of a text still in its source file (see
    review_lint/texts.py): asked once, on the first read of `fact.text`."""

    __slots__ = ()

    def text_of(self, packed_span: int | Span) -> str:
        raise NotImplementedError


def _get_text(fact) -> str:
    text = fact._text
    if text.__class__ is str:
        return text
    text = peek_text(fact)
    _keep_texts_for_deferred(fact)
    fact._text = text  # read from the file once, then kept
    return text


def _keep_texts_for_deferred(fact) -> None:
    """Decodes a Value's elements still held as bytes, which take their texts from the
    Value's `_text` (codec._texts_of), before that is replaced."""
    if fact._family is Value and fact._elements.__class__ is bytes:
        fact.elements  # noqa: B018 - the property decodes and keeps them


def peek_text(fact) -> str:
    """`fact.text` without keeping it in the fact when it is read from the file: for a
    scan that compares the texts of many facts and keeps none (flow.testable reads a
    quarter of a million call texts on the scale tree; kept, they were 22 MB)."""
    text = fact._text
    if text.__class__ is str or not isinstance(text, LazyText):
        return text
    return text.text_of(fact._span)


def _set_text(fact, text: str) -> None:
    _keep_texts_for_deferred(fact)
    fact._text = text


_TEXT_PROPERTY = property(_get_text, _set_text, doc="the node's source, whitespace collapsed; held in `_text`, "
                                                     "or left in the file until read (texts.py)")


class Deferred:
    """What a `deferred` field of a decoded fact holds while its facts are still encoded:
    their bytes (written in a numbering of their own: they share no fact object with the
    rest of the file but their function's Calls) and where the file's texts are. Decoded
    on the field's first read, then kept (see Record). A field whose texts are found
    otherwise holds the bytes alone (codec._Generator.deferred_field)."""

    __slots__ = ("blob", "texts")

    def __init__(self, blob: bytes, texts: LazyText | None) -> None:
        self.blob = blob
        self.texts = texts


# "Family.field" -> the codec's decoder of that deferred field (review_lint/codec.py sets them).
DEFERRED_DECODERS: dict[str, object] = {}


def _deferred_property(family: str, field_name: str) -> property:
    """A deferred field's property: its slot's value, decoded first if still encoded."""
    key = f"{family}.{field_name}"
    namespace: dict[str, object] = {"_Deferred": Deferred, "_decode": _decode_deferred}
    exec(f"def get(fact):\n"  # noqa: S102 - two accessors of one slot, as Record's constructor
         f"    value = fact._{field_name}\n"
         f"    if value.__class__ is _Deferred or value.__class__ is bytes:\n"
         f"        value = fact._{field_name} = _decode({key!r}, value, fact)\n"
         f"    return value\n"
         f"def set(fact, value):\n"
         f"    fact._{field_name} = value\n", namespace)
    return property(namespace["get"], namespace["set"], doc=f"{field_name}: held encoded until read (Deferred)")


def _decode_deferred(key: str, value: Deferred, fact):
    if key not in DEFERRED_DECODERS:  # a fact unpickled where nothing imported the codec yet
        from . import codec  # noqa: F401 - registers the decoders
    return DEFERRED_DECODERS[key](value, fact)


class Record(metaclass=_RecordType):
    """A fact whose fields are slots, declared like a dataclass's: `name: type` with an
    optional default. A subclass must repeat `__slots__ = ()` (its fields replace it),
    or its objects get a `__dict__`, and declare `needs` (see the module's docstring).

    Judgement holds millions of these (Values and Calls are a third of the facts' memory):
    a slots object is 104 bytes where a dataclass with a `__dict__` is over 200 and a
    list of the same fields 136. Fields are read and set as attributes; iterating one
    gives its fields in order. A default may be `field(default_factory=...)`, made per
    fact. Fields a class names in `deferred` may hold their facts still encoded after the
    cache is decoded (Deferred): their property decodes them on the first read.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()  # as declared (`span`, not the `_span` slot holding it)
    _defaults: dict[str, object] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "__slots__" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} must declare __slots__ = ()")
        fields = cls._fields
        own = ", ".join(f"self.{n}" for n in fields) + ","
        namespace: dict[str, object] = {}
        source = f"def __iter__(self):\n    return iter(({own}))\n"
        if cls.__dict__.get("shapes") is None:  # a family's base is never built: its shapes are
            # A packed span compares as itself; a text still in its file, or a deferred
            # field's facts, are read to compare.
            compared = [_field_of(n) if n != "_span" else n for n in cls.__slots__]
            held = ", ".join(f"self.{n}" for n in compared) + ","
            other = ", ".join(f"other.{n}" for n in compared) + ","
            source += (f"def __init__(self, {', '.join(_parameters(cls, namespace))}):\n"
                       + "".join(f"    self.{n} = {_made_default(cls, n, namespace)}\n" for n in fields)
                       + "def __eq__(self, other):\n"
                       + f"    return self.__class__ is other.__class__ and ({held}) == ({other})\n")
        exec(source, namespace)  # noqa: S102 - the field list above, as dataclasses does
        for name in ("__iter__", "__init__", "__eq__"):
            if name in namespace:
                setattr(cls, name, namespace[name])
        check_needs(cls, cls._fields)

    def __repr__(self) -> str:
        return f"{self._family.__name__}({', '.join(f'{n}={v!r}' for n, v in zip(self._fields, self))})"

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]


def _parameters(cls: type, namespace: dict[str, object]) -> list[str]:
    """The constructor's parameters, in field order, the defaults put in `namespace` (a
    `field(default_factory=...)` default is the factory's value, made per fact: see
    _made_default)."""
    params = []
    for name in cls._fields:
        if name in cls._defaults:
            default = cls._defaults[name]
            namespace[f"_default_{name}"] = _UNSET if isinstance(default, dataclasses.Field) else default
            params.append(f"{name}=_default_{name}")
        elif params and "=" in params[-1]:
            raise TypeError(f"{cls.__name__}.{name}: a field without a default after one with a default")
        else:
            params.append(name)
    return params


_UNSET = object()  # a constructor's argument not given, where the default is made per fact


def _made_default(cls: type, name: str, namespace: dict[str, object]) -> str:
    """The constructor's expression for field `name`: the argument, or a new default."""
    default = cls._defaults.get(name)
    if not isinstance(default, dataclasses.Field):
        return name
    namespace[f"_factory_{name}"] = default.default_factory
    namespace["_UNSET"] = _UNSET
    return f"{name} if {name} is not _UNSET else _factory_{name}()"


def replace(fact, **changes):
    """A copy of a Record fact with `changes` (dataclasses.replace for Records)."""
    return fact._family(**{n: changes[n] if n in changes else getattr(fact, n) for n in fact._fields})


def _make_shapes(family: type, shapes: dict[str, tuple[str, ...]]) -> None:
    """The shapes of `family` (see _RecordType), smallest first, then one holding every
    field; calling `family` makes the smallest that holds every field given a value
    other than its default. Fields set after a fact is made (a span, a text) must be in
    every shape."""
    fields, defaults = family._fields, family._defaults
    shapes = {**shapes, "full": fields}
    always = [n for n in fields if all(n in held for held in shapes.values())]
    for shape, held in shapes.items():
        if not set(held) <= set(fields) or any(n not in held for n in fields if n not in defaults):
            raise TypeError(f"{family.__name__}.shapes[{shape!r}] must hold only its fields "
                            "and all those without a default")
    if any(n in fields and n not in always for n in _PROPERTIES):
        raise TypeError(f"{family.__name__}: every shape must hold its {' and '.join(_PROPERTIES)}")
    optional = [n for n in fields if n not in always]
    deferred = family.__dict__.get("deferred", ())
    module = sys.modules[family.__module__]
    made = []
    for shape, held in shapes.items():
        name = f"{family.__name__}_{shape}"
        cls = type(family)(name, (family,), {
            "__slots__": tuple(family._slot_of[n] for n in fields if n in held), "__module__": family.__module__,
            "__qualname__": name, "needs": family.needs, "_family": family,
            "__new__": lambda cls, *args, **kwargs: object.__new__(cls),
            # a deferred field this shape does not hold reads as its default, as does its slot's name
            **{name: defaults[n] for n in deferred if n not in held for name in (n, "_" + n)},
        })
        cls.__init__ = object.__init__  # the family's __new__ has set the fields: no call of ours
        setattr(module, name, cls)  # where pickle finds it
        made.append((cls, {n for n in held if n in optional}))
    # Each shape's maker sets the slots it has; `_build` picks the maker by the mask of the
    # optional fields given.
    namespace: dict[str, object] = {"_new": object.__new__, "_pack_span": pack_span}
    args = ", ".join(fields)
    lines = []
    for index, (cls, _) in enumerate(made):
        namespace[f"_shape{index}"] = cls
        lines.append(f"def _make{index}({args}):")
        lines.append(f"    o = _new(_shape{index})")
        lines += [f"    o.{slot} = {_field_of(slot)}" for slot in cls.__slots__]
        lines.append("    return o")
    namespace.update((f"_d_{n}", defaults[n]) for n in optional)
    masks = mask_expression([(n, defaults[n]) for n in optional], lambda n: n, lambda n: f"_d_{n}")
    lines += [f"def _build({args}):", f"    return _makers[{masks}]({args})"]
    packed = ", ".join("_pack_span(span)" if n == "span" else n for n in fields)
    lines += [f"def __new__(cls, {', '.join(_parameters(family, namespace))}):", f"    return _build({packed})"]
    exec("\n".join(lines), namespace)  # noqa: S102 - from the field list, as Record's constructor
    # mask of the optional fields given (bit order as in `optional`) -> the smallest shape holding them
    smallest = [next(index for index, (_, held) in enumerate(made)
                     if all(n in held for bit, n in enumerate(optional) if mask >> bit & 1))
                for mask in range(1 << len(optional))]
    namespace["_makers"] = [namespace[f"_make{index}"] for index in smallest]
    # What the codec's decoder needs to make a shape itself, without a call per fact.
    family._shape_by_mask = tuple(made[index][0] for index in smallest)
    family._optional = tuple((n, defaults[n]) for n in optional)
    family.__new__ = namespace["__new__"]
    family._shapes = tuple(cls for cls, _ in made)


def mask_expression(optional, value_of, default_of) -> str:
    """Source of the mask of a family's optional fields given a value other than their
    default: bit i for the i-th of `optional` ((name, default) pairs), `value_of(name)`
    and `default_of(name)` spelling the value and the default where it runs."""
    tests = [f"({value_of(n)} is not None)" if default is None else f"({value_of(n)} != {default_of(n)})"
             for n, default in optional]
    return " | ".join(test if not bit else f"{test} << {bit}" for bit, test in enumerate(tests)) or "0"


def _field_of(slot: str) -> str:
    """The field a slot holds (fields never begin with "_"; see _RecordType)."""
    return slot[1:] if slot[0] == "_" else slot


class Value(Record):
    """An expression summarised for judgement.

    kind is one of: "none" (the literal None), "maybe_none" (a form that can
    evaluate to None: `x if c else None`, `a or None`, `d.get(k)`,
    `getattr(o, n, None)`, `next(it, None)`), "const" (other literals),
    "name", "attr", "call", "dict", "seq", "await", "member" (an attribute of a
    call's result, `f().a.b`: `call` is `f()`, `op` the attribute path ".a.b"),
    "unpacked" (a name bound by `a, b = f()`: `call` is `f()`, `elements[0].text`
    the index), "op" (an operator applied to `elements`, named by `op`: "==",
    "in", "not in", "<,<=" for a chained comparison, "+", "|", "not", "-", "[]"
    for a subscript `elements[0][elements[1:]]`, "f" for an f-string of the
    expressions in `elements`, ".a.b" for attributes of a value that is no
    name, `rows[0].a.b`), "element" (a loop variable, `for x in xs`: an element
    of `elements[0]`, the iterable), "other" (anything else; with `elements`,
    one of them: `a if c else b`, `a or b`).
    """

    __slots__ = ()
    needs = ("span", "text")  # names share one object per file and keep NO_SPAN (Extractor._plain)
    # On a quarter of the scale tree, 257,000 of 546,000 Values are leaves (names,
    # attributes, literals), 123,000 hold a call and 153,000 elements: each shape
    # holds 4-6 of the 9 fields (64-80 bytes against 104).
    shapes = {"leaf": ("kind", "text", "ref", "span"),
              "call": ("kind", "text", "ref", "call", "span"),
              "operation": ("kind", "text", "ref", "elements", "span", "op")}
    # Judging reads the elements of 8% of the Values holding some (quarter tree): elements
    # without a call in them (a Call is shared with its function's calls) stay encoded
    # until read where their bytes cost less than their objects (codec: deferred_field).
    deferred = ("elements",)
    kind: str
    text: str
    ref: str | None = None  # dotted name: the name/attribute itself, or a call's callee
    call: Call | None = None
    entries: tuple[tuple[str, Value], ...] = ()  # dict literal: string keys only
    opaque_entries: bool = False  # dict literal with `**spread` or non-string keys
    elements: tuple[Value, ...] = ()  # list / tuple / set literal; an "op"'s operands; a dict's other keys
    span: Span = NO_SPAN
    op: str | None = None  # "op": the operator; "member": the attribute path (see above)


def member_path(value: Value) -> list[str]:
    """The attribute names after the call of a "member" value: `f(x).a.b` -> ["a", "b"]."""
    return value.op.split(".")[1:] if value.op else []


def string_literal(value: Value | None) -> str | None:
    """The string a string literal (not cut short) stands for, else None."""
    if value is None or value.kind != "const" or value.text.endswith("…"):
        return None
    return string_of(value.text)


def string_of(token: str) -> str | None:
    """The string a string token (`'a'`, `"b"`, `r'c'`) stands for; None for any other
    token and for one Python would not compile (an unknown `\\N{...}` escape)."""
    try:
        found = ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return found if type(found) is str else None


def item_path(value: Value) -> str | None:
    """The spelling of a container `Function.item_bindings` name, for a Value: `cat['prefs']`
    (`extract.values.item_path` spells a store's container the same way); None for others."""
    if value.kind in ("name", "attr"):
        return value.ref
    if value.kind != "op" or not value.elements:
        return None
    base = item_path(value.elements[0])
    if base is None:
        return None
    if value.op and value.op.startswith(".") and len(value.elements) == 1:
        return base + value.op
    key = string_literal(value.elements[1]) if value.op == "[]" and len(value.elements) == 2 else None
    return f"{base}[{key!r}]" if key is not None else None


class Call(Record):
    __slots__ = ()
    needs = ("span", "text")
    # Keywords and star arguments are rare (6% of 204,000 calls on a quarter of the scale
    # tree), a receiver in half: 96-104 bytes against 128. `assigned_to` is set after.
    shapes = {"function": ("callee", "method", "args", "span", "order", "blocks", "assigned_to", "text"),
              "method": ("callee", "method", "receiver", "args", "span", "order", "blocks", "assigned_to", "text")}
    callee: str | None  # dotted text when the callee is a plain name/attribute chain
    method: str | None  # last attribute name when the callee is `<receiver>.method`
    receiver: Value | None = None  # the `<receiver>` of a method call
    args: tuple[Value, ...] = ()
    kwargs: tuple[tuple[str, Value], ...] = ()
    star_args: bool = False
    star_kwargs: bool = False
    span: Span = NO_SPAN
    order: int = 0  # evaluation order within the enclosing function
    blocks: tuple[int, ...] = ()  # enclosing Block ids, outermost first
    assigned_to: str | None = None  # `x = <call>` / `x = await <call>` / `(x := <call>)`
    text: str = ""

    def kwarg(self, name: str) -> Value | None:
        for key, value in self.kwargs:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class Annotation:
    needs = ("text",)
    text: str
    optional: bool  # Optional[T], Union[T, None], T | None, Annotated[...] thereof, strings too
    core: tuple[str, ...]  # dotted type names once Optional/Annotated/list/Mapped... are unwrapped
    container: bool = False  # the core types are wrapped in a list/sequence/set/dict
    # Calls in `Annotated[T, ...]` metadata, as (callee, the name handed to it first or as
    # `dependency=`): `Annotated[User, Depends(current_user)]` -> ("Depends", "current_user").
    markers: tuple[tuple[str, str | None], ...] = ()
    # `tuple[A, B | None]`: each element's annotation (`tuple[A, ...]`: A, then one whose
    # text is "..."); empty for any other annotation.
    items: tuple[Annotation, ...] = ()
    # The qualifiers unwrapped on the way to the core, by last name: `Mapped[int | None]` ->
    # ("Mapped",), `ClassVar[dict]` -> ("ClassVar",), `Annotated[NotRequired[str], ...]` ->
    # ("Annotated", "NotRequired").
    wrappers: tuple[str, ...] = ()


class Param(Record):
    __slots__ = ()
    needs = ()  # its name, annotation and default carry their own
    name: str
    annotation: Annotation | None
    default: Value | None
    kind: str  # "positional", "keyword", "star", "starstar"


class Block(Record):
    """A region of a function body that only some executions enter.

    `group` identifies the statement (if / try / match) whose arms exclude each
    other; two blocks of one group with different `arm` never both run.
    """

    __slots__ = ()
    needs = ("span",)
    # Of 58,000 blocks on a quarter of the scale tree, half are no if/else: they hold 7 of
    # the 13 fields (88 bytes against 136); an if/else without joined conditions holds 9.
    # `missing` and `present` are set after an if/else block is made (extract/fill.py).
    shapes = {"plain": ("id", "kind", "group", "arm", "span", "catches", "items"),
              "branch": ("id", "kind", "group", "arm", "span", "test", "missing", "present", "condition")}
    # Read for 30 of 42,000 blocks (an `isinstance` test narrowing a type): a test without
    # a call stays encoded until read.
    deferred = ("test",)
    id: int
    kind: str  # "if", "else", "try", "except", "try_else", "finally", "case", "with", "loop"
    group: int
    arm: int
    span: Span
    test: Value | None = None  # "if"/"else": the test; "with": the context manager
    missing: tuple[str, ...] = ()  # subjects known None/falsy/absent inside this block
    present: tuple[str, ...] = ()  # subjects known present inside this block
    catches: tuple[str, ...] = ()  # "except": dotted exception names ("" for a bare except)
    items: tuple[Value, ...] = ()  # "with": the context managers
    # "if"/"else" whose test is one name alone: (name, what entering says of it), the
    # what one of "truthy" (`if x`), "falsy" (`if not x`), "none" (`if x is None`) and
    # "not-none" (`if x is not None`); an "else" arm holds the opposite.
    condition: tuple[str, str] | None = None
    # A test joining such conditions with `and` / `or` (`if a or b is not None`): how
    # they join ("all": entered when every one holds, "any": when one does, "some": an
    # `and` with other operands too, left out, so one false condition keeps the block
    # out and nothing more is known) and the conditions.
    joined: str | None = None
    conditions: tuple[tuple[str, str], ...] = ()


class Binding(Record):
    __slots__ = ()
    needs = ("span",)
    name: str
    order: int
    blocks: tuple[int, ...]
    value: Value | None
    annotation: Annotation | None
    span: Span


class Assert(Record):
    __slots__ = ()
    needs = ("span",)  # its test and message texts come through holders (fill.py)
    span: Span  # held packed (24,500 asserts on a quarter of the scale tree: a tuple and its ints each, before)
    test: str
    msg: str | None
    order: int
    blocks: tuple[int, ...]
    in_type_checking: bool


class Exit(Record):
    __slots__ = ()
    needs = ("span",)
    kind: str  # "raise", "return", "continue", "break"
    order: int
    blocks: tuple[int, ...]
    span: Span
    value: Value | None = None


class Function(Record):
    __slots__ = ()
    needs = ("span",)  # "<module>" is made with its span
    # A judgement reads the asserts of 3 in 3,949 functions holding some (quarter tree),
    # the exits of 22%, the item bindings of 3%: they stay encoded until read (their Calls
    # are the function's, by number). Not the bindings and blocks, read for 73% and 82%:
    # decoded again while judging, each apart, they cost more than they saved.
    deferred = ("asserts", "exits", "item_bindings")
    qualname: str  # "func", "Class.method", "outer.inner"; "<module>" for module-level code
    name: str
    class_qualname: str | None  # set for methods
    span: Span
    is_async: bool = False
    decorators: tuple[Value, ...] = ()
    params: tuple[Param, ...] = ()
    returns: Annotation | None = None
    calls: list[Call] = field(default_factory=list)
    asserts: list[Assert] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)
    # `self.x = v` / `obj.attr: T = v`: assignments to attributes, named by their dotted target.
    attribute_bindings: list[Binding] = field(default_factory=list)
    # `c[k] = v`: stores into a container spelled by `item_path`, named by it and the key:
    # `cat['prefs'][name] = v` is "cat['prefs'][]", `ctx['form'] = v` is "ctx['form']".
    # Containers of other shapes are not kept.
    item_bindings: list[Binding] = field(default_factory=list)
    in_type_checking: bool = False

    def param(self, name: str) -> Param | None:
        for param in self.params:
            if param.name == name:
                return param
        return None


class Field(Record):
    __slots__ = ()
    needs = ("span",)
    name: str
    annotation: Annotation | None
    value: Value | None
    span: Span


@dataclass(slots=True)
class Class:
    needs = ("span",)
    qualname: str
    name: str
    span: Span
    bases: tuple[Value, ...] = ()
    decorators: tuple[Value, ...] = ()
    fields: list[Field] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # method name -> function qualname
    keywords: tuple[tuple[str, Value], ...] = ()  # class C(Base, total=False)
    specification: str | None = None  # the external specification its docstring names: "RFC 7591", "OpenID"
    # Fields whose documentation (the class docstring's entry for them, or the string
    # after the field) says what None means: "the column, or None when there is none".
    none_documented: tuple[str, ...] = ()


class Import(Record):
    """`import a.b as c` -> local "c", module "a.b"; `from .x import y as z` ->
    local "z", module "x", name "y", level 1. `import a.b` binds local "a"."""

    __slots__ = ()
    needs = ("span",)
    local: str
    module: str
    name: str | None
    level: int
    span: Span
    in_type_checking: bool = False


@dataclass(slots=True)
class Problem:
    """A file that could not be judged (RL000 / RL999)."""

    needs = ()
    code: str
    message: str
    line: int = 1
    column: int = 1


class _ReadOnlyList(list):
    """EMPTY_LIST's class: a list that refuses every change."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("facts read from the cache share one empty list: build a new list instead")

    append = extend = insert = remove = pop = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse


# Every empty list of facts read from the cache: on a quarter of the scale tree, 162,000
# of the functions' 261,000 lists of calls, asserts, bindings... were empty (56 bytes each).
EMPTY_LIST: list = _ReadOnlyList()


WHOLE_FILE = 0  # the line of ModuleFacts.suppressions that stands for the whole file


@dataclass(slots=True)
class ModuleFacts:
    needs = ()
    path: str  # POSIX path relative to the project root
    functions: list[Function] = field(default_factory=list)
    classes: list[Class] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    star_imports: list[Import] = field(default_factory=list)
    # Module-level type aliases (`MaybeId = Optional[UUID]`, `Body = Annotated[Model, ...]`,
    # `Frame = A | B`, a string of one), read as annotations: the last assignment of each name.
    aliases: dict[str, Annotation] = field(default_factory=dict)
    # Line -> the codes its comment suppresses (None: every code); line WHOLE_FILE is
    # `# review-lint: skip-file`, which suppresses every finding in the file.
    suppressions: dict[int, frozenset[str] | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def module_level(self) -> Function | None:
        for function in self.functions:
            if function.qualname == "<module>":
                return function
        return None



# Every class of fact this module makes (a family's shapes, not its base), its declaration
# checked (Records check theirs as they are defined).
FACT_CLASSES: tuple[type, ...] = tuple(
    kind for kind in list(globals().values())
    if isinstance(kind, type) and kind.__module__ == __name__ and kind is not Record
    and (issubclass(kind, Record) or dataclasses.is_dataclass(kind)) and "shapes" not in vars(kind)
)
for _kind in FACT_CLASSES:
    if not issubclass(_kind, Record):
        check_needs(_kind, tuple(f.name for f in dataclasses.fields(_kind)))
del _kind
