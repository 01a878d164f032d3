"""Facts held in slots read like dataclasses, and survive the cache unchanged."""

from __future__ import annotations

import pickle

import pytest

from review_lint import codec
from review_lint.facts import FACT_CLASSES, Binding, Block, Call, Function, ModuleFacts, Record, Value


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
    assert type(back) is Call and back == call
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
