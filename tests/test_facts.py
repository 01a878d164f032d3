"""Facts held in slots read like dataclasses, and survive the cache unchanged."""

from __future__ import annotations

import pickle
import sys

import pytest

from review_lint import codec
from review_lint.facts import EMPTY_LIST, FACT_CLASSES, Binding, Block, Call, Function, ModuleFacts, Record, Value


def test_fields_read_by_name_with_their_defaults():
    value = Value("name", "user", ref="user")
    assert (value.kind, value.text, value.ref, value.call, value.elements, value.span) == (
        "name", "user", "user", None, (), (0, 0, 0, 0))
    call = Call("db.get", "get", value, (value,), (("id", value),), False, False, (3, 5, 3, 20))
    assert call.kwarg("id") is value and call.kwarg("other") is None
    assert call.order == 0 and call.assigned_to is None and call.text == ""


def test_fields_can_be_set_while_facts_are_built():
    block = Block(1, "with", 1, 0, (1, 1, 2, 1))
    block.items = (Value("call", "begin_nested()"),)
    assert block.items[0].text == "begin_nested()"


def test_a_pickled_fact_comes_back_equal_with_shared_parts_still_shared():
    name = Value("name", "session", ref="session")
    call = Call("session.get", "get", name, (name,), (), False, False, (1, 1, 1, 10), order=2, assigned_to="row")
    back = pickle.loads(pickle.dumps(call, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(back) is type(call) and isinstance(back, Call) and back == call
    assert back.receiver is back.args[0]  # one object, as in the extractor's output
    assert not hasattr(back, "__dict__")  # what keeps the pickle small and fast to load


def test_facts_of_different_kinds_never_compare_equal():
    assert Binding("x", 1, (), None, None, (1, 1, 1, 2)) != ["x", 1, (), None, None, (1, 1, 1, 2)]
    assert Value("name", "x") != Value("name", "y")


def test_no_fact_carries_a_dict_of_its_own():
    """Judging a large project holds millions of facts: each is slots only (a `__dict__`
    would double a Value's size)."""
    for kind in FACT_CLASSES:
        assert "__slots__" in vars(kind) and not hasattr(kind.__new__(kind), "__dict__"), kind.__name__
    assert list(Value("name", "x", ref="x"))[:3] == ["name", "x", "x"]  # fields in order, as the codec reads them


def test_a_record_without_slots_is_refused():
    with pytest.raises(TypeError, match="__slots__"):
        class Loose(Record):  # noqa: F841 - defining it is the test
            name: str


@pytest.mark.parametrize("span", [(0, 0, 0, 0), (1, 1, 1, 2), (300, 5, 302, 17), (4_000_000, 4_095, 4_004_095, 16_383),
                                  (5_000_000, 1, 5_000_001, 3), (10, 70_000, 10, 70_010), (9, 1, 8, 1)],
                         ids=["none", "small", "long file", "largest packed", "line too large", "column too large",
                              "ends before it starts"])
def test_a_span_reads_back_as_written_in_memory_and_through_the_cache(span):
    """Spans are held packed where they fit (a fifth of the facts' memory on large projects);
    every span, packed or not, reads back as the same four numbers."""
    call = Call("db.get", "get", span=span)
    value = Value("call", "db.get()", call=call, span=span)
    block = Block(1, "if", 1, 0, span, test=value)
    assert (call.span, value.span, block.span) == (span, span, span)
    module = ModuleFacts(path="m.py", functions=[Function("f", "f", None, (1, 1, 2, 1), calls=[call], blocks=[block])])
    back = codec.load_facts(codec.dump_facts(module)).functions[0]
    assert back.calls[0].span == back.blocks[0].span == back.blocks[0].test.span == span
    assert back.blocks[0] == block and back.calls[0] == call


def test_a_value_is_made_in_the_smallest_shape_that_holds_its_fields():
    """Half the Values of a large project are names and literals: they hold 4 of the 9
    fields, and the others read as their defaults."""
    leaf = Value("name", "user", ref="user")
    call = Value("call", "f()", call=Call("f", None))
    operation = Value("op", "a + b", elements=(leaf, leaf), op="+")
    mapping = Value("dict", "{'a': user}", entries=(("a", leaf),))
    assert [type(v).__name__ for v in (leaf, call, operation, mapping)] == [
        "Value_leaf", "Value_call", "Value_operation", "Value_full"]
    assert all(isinstance(v, Value) for v in (leaf, call, operation, mapping))
    assert sys.getsizeof(leaf) < sys.getsizeof(call) < sys.getsizeof(operation) < sys.getsizeof(mapping)
    assert (leaf.call, leaf.elements, leaf.entries, leaf.op, call.elements) == (None, (), (), None, ())
    assert repr(leaf).startswith("Value(kind='name'")
    leaf.span = (3, 1, 3, 5)  # the position fill sets spans and texts on every shape
    leaf.text = "user"
    assert leaf.span == (3, 1, 3, 5)
    with pytest.raises(AttributeError):
        leaf.call = call.call  # a field a shape does not hold is never set silently


@pytest.mark.parametrize("value", [
    Value("name", "x", ref="x"), Value("call", "f()", call=Call("f", None), span=(1, 1, 1, 4)),
    Value("op", "a.b", elements=(Value("name", "a", ref="a"),), op=".b"),
    Value("dict", "{**d}", opaque_entries=True, elements=(Value("name", "d", ref="d"),))],
    ids=["leaf", "call", "operation", "full"])
def test_a_value_keeps_its_shape_and_equality_through_the_cache_and_pickle(value):
    module = ModuleFacts(path="m.py", functions=[Function("f", "f", None, (1, 1, 2, 1), decorators=(value, value))])
    back = codec.load_facts(codec.dump_facts(module)).functions[0].decorators
    assert back[0] is back[1]  # one object written twice reads back as one
    assert type(back[0]) is type(value) and back[0] == value and list(back[0]) == list(value)
    again = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(again) is type(value) and again == value
    assert value != Value("name", "other", ref="other")


def test_a_shape_without_a_required_field_is_refused():
    with pytest.raises(TypeError, match="shapes"):
        class Broken(Record):  # noqa: F841 - defining it is the test
            __slots__ = ()
            needs = ()
            shapes = {"small": ("name",)}
            name: str
            kind: str
            extra: int = 0



def test_empty_lists_read_from_the_cache_are_one_shared_list_that_refuses_changes():
    """Most functions have no asserts, exits or stores: their empty lists were 162,000 of
    261,000 on a quarter of the scale tree."""
    module = ModuleFacts(path="m.py", functions=[Function("f", "f", None, (1, 1, 2, 1)), Function("g", "g", None, (3, 1, 4, 1))])
    back = codec.load_facts(codec.dump_facts(module))
    first, second = back.functions
    assert first.asserts is second.calls is back.classes is EMPTY_LIST
    assert back == module and first.calls == [] and not first.calls and list(first.exits) == []
    with pytest.raises(TypeError, match="empty list"):
        first.calls.append(Call("f", None))
    assert second.calls == []
    assert back.functions is not EMPTY_LIST  # a list with items is a list of its own


def test_a_call_without_keywords_is_held_in_a_smaller_shape_and_reads_back_the_same():
    receiver = Value("name", "db", ref="db")
    calls = [Call("f", None, args=(receiver,), span=(2, 5, 2, 9), order=1),
             Call("db.get", "get", receiver=receiver, span=(3, 5, 3, 13), order=2),
             Call("f", None, kwargs=(("id", receiver),), star_args=True, span=(4, 5, 4, 20), order=3)]
    assert [type(c).__name__ for c in calls] == ["Call_function", "Call_method", "Call_full"]
    calls[0].assigned_to = "row"  # set after the call is made (`row = f(db)`)
    module = ModuleFacts(path="m.py", functions=[Function("f", "f", None, (1, 1, 5, 1), calls=calls)])
    back = codec.load_facts(codec.dump_facts(module)).functions[0].calls
    assert [type(c) for c in back] == [type(c) for c in calls] and back == calls
    assert (back[0].receiver, back[0].kwargs, back[1].kwarg("id"), back[2].kwarg("id")) == (None, (), None, receiver)


def test_blocks_are_held_in_the_shape_their_kind_needs_and_read_back_the_same():
    test = Value("name", "user", ref="user")
    blocks = [Block(1, "try", 1, 0, (2, 5, 4, 9)),
              Block(2, "with", 2, 0, (5, 5, 6, 9), items=(test,)),
              Block(3, "if", 3, 0, (7, 5, 8, 9), test=test, condition=("user", "none")),
              Block(4, "if", 4, 0, (9, 5, 10, 9), test=test, joined="any", conditions=(("a", "none"),))]
    assert [type(b).__name__ for b in blocks] == ["Block_plain", "Block_plain", "Block_branch", "Block_full"]
    blocks[2].missing, blocks[2].present = ("user",), ()  # set after an if/else block is made (fill.py)
    assert (blocks[0].missing, blocks[0].test, blocks[1].items) == ((), None, (test,))
    assert sys.getsizeof(blocks[0]) < sys.getsizeof(blocks[2]) < sys.getsizeof(blocks[3])
    module = ModuleFacts(path="m.py", functions=[Function("f", "f", None, (1, 1, 11, 1), blocks=blocks)])
    back = codec.load_facts(codec.dump_facts(module)).functions[0].blocks
    assert [type(b) for b in back] == [type(b) for b in blocks] and back == blocks
    assert pickle.loads(pickle.dumps(blocks)) == blocks
