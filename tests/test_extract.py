"""Shortcuts the extractor takes must give what LibCST itself would."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import libcst as cst
import pytest

from review_lint.extract import Extractor, _string_value, extract, fill
from review_lint.extract.fill import _TextHolder
from review_lint.facts import (
    FACT_CLASSES, NO_SPAN, Annotation, Assert, Binding, Block, Call, Class, Exit, Field, Function, Import, Param, Record,
    Value, check_needs,
)
from review_lint.source import parse

STRINGS = [
    '"plain"', "'plain'", '""', "''", '"""doc "quoted" inside"""', "'''it's'''", '""""""', '"\'\'\'"',
    '"tab\\there"', "r'raw\\d'", 'b"bytes"', "u'unicode'", 'f"{x}"', "'''multi\nline'''", '"\\u00e9"',
    "'caf\u00e9'", '"#not a comment"', '"""crlf\r\ninside"""', "'''cr\ronly'''",
]


@pytest.mark.parametrize("literal", STRINGS)
def test_string_values_match_libcst(literal):
    node = cst.parse_expression(literal)
    if isinstance(node, cst.SimpleString):
        assert _string_value(node) == node.evaluated_value


# -- what each fact class declares for the position fill ----------------------

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# A snippet with the shapes fixtures may lack: match, async with/for, loop else, walrus, augmented assignment.
SHAPES = '''
async def f(session, x: "Optional[int]" = None, *a: int, **k) -> list[str] | None:
    match x:
        case {"a": 1} if g(x):
            y = h()
        case [a, *rest]:
            assert a, "m"
    async with session.begin() as tx, lock():
        async for row in q(tx):
            if (n := row.n) is None:
                continue
            break
        else:
            z: int = 1
    while w(x) is not None:
        x -= k()
    else:
        raise E()
    try:
        import os.path as p
    except (ValueError, E) as error:
        from .m import n as o
    self.a, (b, c) = 1, (2, 3)
    return [x for x in range(3)]

class C(Base, metaclass=M):
    """RFC 7591 client."""
    f: Optional[int] = None
'''


class _Spy(Extractor):
    """The extractor, noting every object it keeps for the position fill."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.kept: dict[int, object] = {}

    def _track(self, node, obj) -> None:
        self.kept[id(obj)] = obj
        super()._track(node, obj)


def _extracted():
    """(facts, kept objects) of every fixture file and of SHAPES."""
    files = [(p.relative_to(FIXTURES).as_posix(), p.read_bytes()) for p in sorted(FIXTURES.rglob("*.py"))]
    assert len(files) > 50
    for relative, data in [*files, ("shapes.py", SHAPES.encode())]:
        source, module, failed = parse(relative, data)
        if failed is None:
            spy = _Spy(relative, source, module)
            yield spy.run(), spy.kept


def _objects(value, seen: set[int]):
    """Every fact object reachable from `value`, once each."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, Record) or dataclasses.is_dataclass(value):
        if id(value) in seen:
            return
        seen.add(id(value))
        yield value
        value = list(value) if isinstance(value, Record) else [getattr(value, f.name) for f in dataclasses.fields(value)]
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _objects(item, seen)


def _is_unkept_value(fact, kept) -> bool:
    """A Value no node is kept for: a plain name's value, shared by every use of the
    name in the file (None, True and False too), and the stand-in for an augmented
    assignment's value; they keep NO_SPAN (rules then point at the use)."""
    if not isinstance(fact, Value) or id(fact) in kept:
        return False
    plain = fact.kind in ("name", "attr") and fact.ref == fact.text and fact.text.replace(".", "").isidentifier()
    return plain or (fact.kind, fact.text) in (("none", "None"), ("const", "True"), ("const", "False"), ("other", ""))


@pytest.fixture(scope="module")
def extracted():
    return list(_extracted())


def test_every_fact_class_the_extractor_produces_declares_its_needs(extracted):
    made, kept_kinds = set(), set()
    for facts, kept in extracted:
        made |= {type(fact) for fact in _objects(facts, set())}  # a family's shapes (Value_leaf, ...)
        kept_kinds |= {type(obj) for obj in kept.values()}
    assert {Value, Call, Annotation, Param, Block, Binding, Assert, Exit, Function, Field, Class, Import} <= {
        kind._family if issubclass(kind, Record) else kind for kind in made}
    assert set(Value._shapes) | set(Call._shapes) <= made  # every shape is made by real code
    for kind in made | kept_kinds:
        assert "needs" in kind.__dict__, kind  # its own, not inherited
        assert kind in FACT_CLASSES or kind is _TextHolder, kind
    for kind in kept_kinds:
        # Keeping a node costs the position pass: only for a fact that takes something from it.
        assert kind.needs, f"{kind.__name__} is kept for the position fill but declares needs = ()"


def test_a_fact_that_declares_a_span_gets_one(extracted):
    checked = 0
    for facts, kept in extracted:
        objects = list(_objects(facts, set()))
        # `a, b = f()`: each name's stand-in ("unpacked", with its index) comes from no node of its own.
        stand_ins = {id(part) for v in objects if isinstance(v, Value) and v.kind == "unpacked" for part in (v, *v.elements)}
        # `for x in xs`: x's stand-in ("element", holding the iterable) comes from no node of its own.
        stand_ins |= {id(v) for v in objects if isinstance(v, Value) and v.kind == "element"}
        # An operation's literal operands keep their token as text and no span of their own.
        stand_ins |= {id(part) for v in objects if isinstance(v, Value) and v.kind == "op"
                      for part in v.elements if part.kind == "const" and part.text}
        for fact in objects:
            if "span" in type(fact).needs:
                checked += 1
                if fact.span == NO_SPAN and id(fact) not in stand_ins:
                    assert _is_unkept_value(fact, kept), (facts.path, fact)
            if "text" in type(fact).needs and not fact.text and id(fact) not in stand_ins:
                # An empty `()` has no text inside its parentheses; the augmented assignment's stand-in none.
                assert isinstance(fact, Value) and fact.kind in ("seq", "other") and not fact.elements, (facts.path, fact)
        for obj in kept.values():
            if "span" in type(obj).needs:
                assert obj.span != NO_SPAN, (facts.path, obj)
    assert checked > 3_000


def test_a_fact_class_without_a_declaration_is_refused_at_import():
    with pytest.raises(TypeError, match="must declare needs"):
        class Undeclared(Record):  # noqa: F841 - defining it is the test
            __slots__ = ()
            span: tuple
    with pytest.raises(TypeError, match="no field 'text'"):
        class Unfillable(Record):  # noqa: F841
            __slots__ = ()
            needs = ("span", "text")
            span: tuple
    with pytest.raises(TypeError, match="tuple of"):
        class Misspelt(Record):  # noqa: F841
            __slots__ = ()
            needs = ("position",)
            span: tuple

    @dataclasses.dataclass
    class Plain:
        span: tuple
    with pytest.raises(TypeError, match="must declare needs"):
        check_needs(Plain, ("span",))


def test_the_fill_reads_its_tables_from_the_declarations():
    assert fill._WITH_SPAN == {kind for kind in (*FACT_CLASSES, _TextHolder) if "span" in kind.needs}
    assert fill._WITH_TEXT == {kind for kind in (*FACT_CLASSES, _TextHolder) if "text" in kind.needs}
    assert {*Value._shapes, *Call._shapes, *Block._shapes, Binding, Assert, Exit, Function, Field, Class, Import} <= fill._WITH_SPAN
    assert {*Value._shapes, *Call._shapes, Annotation, _TextHolder} <= fill._WITH_TEXT


def test_stores_into_containers_are_named_by_the_container_and_the_key():
    text = (
        "def register(cat, name, ctx, rows):\n"
        "    (cat['prefs'])[name] = res = Pref(name)\n"
        "    ctx[\"form\"] = Form()\n"
        "    ctx['\\N{NO SUCH NAME}'] = Form()\n"  # LibCST cannot evaluate it: a key of unknown value
        "    rows[0] = Row()\n"
        "    make()[name] = 1\n"
    )
    source, module, failed = parse("stores.py", text.encode())
    assert failed is None
    function = next(f for f in extract("stores.py", source, module).functions if f.name == "register")
    assert [(b.name, b.value.ref) for b in function.item_bindings] == [
        ("cat['prefs'][]", "Pref"), ("ctx['form']", "Form"), ("ctx[]", "Form"), ("rows[]", "Row")]
