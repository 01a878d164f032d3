"""Plain-data facts extracted from one file in phase 1.

Everything here is a small picklable dataclass: facts cross process boundaries
and live in the cache, CST nodes never do. Rules judge from these alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# (line, column, end_line, end_column), all 1-based; the end column is exclusive.
Span = tuple[int, int, int, int]
NO_SPAN: Span = (0, 0, 0, 0)


@dataclass(init=False)
class Value:
    """An expression summarised for judgement.

    kind is one of: "none" (the literal None), "maybe_none" (a form that can
    evaluate to None: `x if c else None`, `a or None`, `d.get(k)`,
    `getattr(o, n, None)`, `next(it, None)`), "const" (other literals),
    "name", "attr", "call", "dict", "seq", "await", "other".
    """

    kind: str
    text: str
    ref: str | None = None  # dotted name: the name/attribute itself, or a call's callee
    call: Call | None = None
    entries: tuple[tuple[str, Value], ...] = ()  # dict literal: string keys only
    opaque_entries: bool = False  # dict literal with `**spread` or non-string keys
    elements: tuple[Value, ...] = ()  # list / tuple / set literal
    span: Span = NO_SPAN

    # Hand-written so that fields left at their default stay class attributes:
    # pickles (cache, workers) then hold only what differs (a third of the bytes).
    def __init__(self, kind: str, text: str, ref: str | None = None, call: Call | None = None,
                 entries: tuple = (), opaque_entries: bool = False, elements: tuple = (), span: Span = NO_SPAN) -> None:
        self.kind = kind
        self.text = text
        if ref is not None:
            self.ref = ref
        if call is not None:
            self.call = call
        if entries:
            self.entries = entries
        if opaque_entries:
            self.opaque_entries = opaque_entries
        if elements:
            self.elements = elements
        if span != NO_SPAN:
            self.span = span


@dataclass(init=False)
class Call:
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

    def __init__(self, callee: str | None, method: str | None, receiver: Value | None, args: tuple, kwargs: tuple,
                 star_args: bool, star_kwargs: bool, span: Span, order: int = 0, blocks: tuple = (),
                 assigned_to: str | None = None, text: str = "") -> None:
        # As Value's: defaults stay on the class, out of every pickle.
        self.callee, self.method, self.args, self.span, self.order = callee, method, args, span, order
        if receiver is not None:
            self.receiver = receiver
        if kwargs:
            self.kwargs = kwargs
        if star_args:
            self.star_args = star_args
        if star_kwargs:
            self.star_kwargs = star_kwargs
        if blocks:
            self.blocks = blocks
        if assigned_to is not None:
            self.assigned_to = assigned_to
        if text:
            self.text = text

    def kwarg(self, name: str) -> Value | None:
        for key, value in self.kwargs:
            if key == name:
                return value
        return None


@dataclass
class Annotation:
    text: str
    optional: bool  # Optional[T], Union[T, None], T | None, Annotated[...] thereof, strings too
    core: tuple[str, ...]  # dotted type names once Optional/Annotated/list/Mapped... are unwrapped
    container: bool = False  # the core types are wrapped in a list/sequence/set/dict


@dataclass
class Param:
    name: str
    annotation: Annotation | None
    default: Value | None
    kind: str  # "positional", "keyword", "star", "starstar"


@dataclass
class Block:
    """A region of a function body that only some executions enter.

    `group` identifies the statement (if / try / match) whose arms exclude each
    other; two blocks of one group with different `arm` never both run.
    """

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


@dataclass
class Binding:
    name: str
    order: int
    blocks: tuple[int, ...]
    value: Value | None
    annotation: Annotation | None
    span: Span


@dataclass
class Assert:
    span: Span
    test: str
    msg: str | None
    order: int
    blocks: tuple[int, ...]
    in_type_checking: bool


@dataclass
class Exit:
    kind: str  # "raise", "return", "continue", "break"
    order: int
    blocks: tuple[int, ...]
    span: Span
    value: Value | None = None


@dataclass
class Function:
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
    in_type_checking: bool = False

    def param(self, name: str) -> Param | None:
        for param in self.params:
            if param.name == name:
                return param
        return None


@dataclass
class Field:
    name: str
    annotation: Annotation | None
    value: Value | None
    span: Span


@dataclass
class Class:
    qualname: str
    name: str
    span: Span
    bases: tuple[Value, ...] = ()
    decorators: tuple[Value, ...] = ()
    fields: list[Field] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)  # method name -> function qualname
    keywords: tuple[tuple[str, Value], ...] = ()  # class C(Base, total=False)


@dataclass
class Import:
    """`import a.b as c` -> local "c", module "a.b"; `from .x import y as z` ->
    local "z", module "x", name "y", level 1. `import a.b` binds local "a"."""

    local: str
    module: str
    name: str | None
    level: int
    span: Span
    in_type_checking: bool = False


@dataclass
class Problem:
    """A file that could not be judged (RL000 / RL999)."""

    code: str
    message: str
    line: int = 1
    column: int = 1


@dataclass
class ModuleFacts:
    path: str  # POSIX path relative to the project root
    functions: list[Function] = field(default_factory=list)
    classes: list[Class] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    star_imports: list[Import] = field(default_factory=list)
    suppressions: dict[int, frozenset[str] | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def module_level(self) -> Function | None:
        for function in self.functions:
            if function.qualname == "<module>":
                return function
        return None
