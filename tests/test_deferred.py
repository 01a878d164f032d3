"""Deferred fields: facts that judgement seldom reads (a function's asserts, exits and item
bindings, a Value's elements, a Block's test) stay encoded after the cache is decoded, and
are decoded on their first read (facts.Deferred, codec._Generator.deferred_field)."""

from __future__ import annotations

import pickle

import msgpack

from review_lint import codec, collect
from review_lint.engine import facts_and_source
from review_lint.facts import Deferred
from review_lint.texts import SourceText

SOURCE = '''\
from app.db import session, User


def handler(request, user_id, limits):
    assert user_id, "an id is required"
    assert limits.max_age > 0 and limits.margin >= 0, "limits out of range"
    assert request.state is not None
    user = session.get(User, user_id)
    if user.age > limits.max_age + limits.margin * 2:
        raise ValueError("too old")
    window = [limits.start + 1, limits.end - 1, (limits.start, limits.end)]
    request.state["user"] = user
    request.state["window"] = (limits.start - 1, limits.end + 1)
    request.state["margin"] = limits.margin * 2
    if isinstance(user, Admin) and not user.active:
        return None
    return render(user, [limits.a, limits.b, limits.c])
'''


def _decoded(tmp_path, source: str = SOURCE):
    path = tmp_path / "m.py"
    path.write_text(source)
    data = path.read_bytes()
    facts, text = facts_and_source(tmp_path, "m.py", data)
    blob = codec.dump_facts(facts, text)
    return facts, codec.load_facts(blob, SourceText(str(path), "m.py", collect._key("m.py", data)))


def _handler(module):
    return next(f for f in module.functions if f.name == "handler")


def test_seldom_read_fields_stay_encoded_until_read_then_are_kept(tmp_path):
    facts, back = _decoded(tmp_path)
    function = _handler(back)
    assert function._asserts.__class__ is Deferred
    assert function._exits.__class__ is Deferred
    assert function._item_bindings.__class__ is Deferred
    asserts = function.asserts
    assert asserts == _handler(facts).asserts and [a.test for a in asserts][0] == "user_id"
    assert function.asserts is asserts  # decoded once, then held
    assert function.exits == _handler(facts).exits
    assert function.item_bindings == _handler(facts).item_bindings
    assert back == facts


def test_calls_in_a_deferred_field_are_the_functions_calls_themselves(tmp_path):
    _, back = _decoded(tmp_path)
    function = _handler(back)
    returned = function.exits[-1].value.call
    assert returned.callee == "render"
    assert any(call is returned for call in function.calls)  # rules compare Calls by identity


def test_elements_without_a_call_are_held_as_bytes_and_with_one_inline(tmp_path):
    facts, back = _decoded(tmp_path)
    window = next(b for b in _handler(back).bindings if b.name == "window").value
    assert window._elements.__class__ is bytes  # three operations, none calls
    assert [e.text for e in window.elements] == ["limits.start + 1", "limits.end - 1", "limits.start, limits.end"]
    assert window.elements[2].elements[1].ref == "limits.end"
    render = _handler(back).exits[-1].value.call
    assert [a.kind for a in render.args] == ["name", "seq"]
    test = next(b for b in _handler(back).blocks if b.kind == "if" and b.test.kind == "op").test
    assert test.text.startswith("user.age >")
    assert back == facts


def test_a_block_test_with_a_call_is_decoded_with_the_file(tmp_path):
    _, back = _decoded(tmp_path)
    function = _handler(back)
    with_call = [b for b in function.blocks if b.kind == "if" and b._test.__class__ not in (bytes, type(None))]
    calls = [call for block in with_call for call in _calls_in(block.test)]
    assert [call.callee for call in calls] == ["isinstance"]  # `isinstance(user, Admin) and not user.active`
    assert any(calls[0] is c for c in function.calls)


def _calls_in(value):
    stack, found = [value], []
    while stack:
        value = stack.pop()
        if value.call is not None:
            found.append(value.call)
        stack += value.elements
    return found


def test_elements_read_after_their_values_text_still_find_their_texts(tmp_path):
    _, back = _decoded(tmp_path)
    window = next(b for b in _handler(back).bindings if b.name == "window").value
    assert window._elements.__class__ is bytes
    assert window.text.startswith("[limits.start + 1")  # the Value's own text, kept from here on
    assert [e.text for e in window.elements][:2] == ["limits.start + 1", "limits.end - 1"]


def test_elements_of_names_the_file_already_holds_are_not_deferred(tmp_path):
    _, back = _decoded(tmp_path, "def f(a, b):\n    print(a, b)\n    pair = [a, b]\n    return pair\n")
    pair = next(f for f in back.functions if f.name == "f").bindings[0].value
    assert pair.kind == "seq" and pair._elements.__class__ is tuple  # two shared names: bytes would cost more
    assert [e.ref for e in pair.elements] == ["a", "b"]


def test_decoded_facts_written_again_read_back_equal(tmp_path):
    facts, back = _decoded(tmp_path)
    again = codec.load_facts(codec.dump_facts(back))
    assert again == facts
    assert _handler(again).exits[-1].value.call.callee == "render"


def test_a_decoded_fact_with_deferred_fields_pickles(tmp_path):
    facts, back = _decoded(tmp_path)
    copy = pickle.loads(pickle.dumps(back))
    assert _handler(copy)._asserts.__class__ is Deferred
    assert copy == facts


def test_damaged_deferred_bytes_read_as_the_fields_default(tmp_path, monkeypatch):
    monkeypatch.delenv("REVIEW_LINT_STRICT_DEFERRED")
    _, back = _decoded(tmp_path)
    function = _handler(back)
    function._asserts = Deferred(msgpack.packb([["not", "an", "assert"]]), function._asserts.texts)
    assert function.asserts == []
    window = next(b for b in function.bindings if b.name == "window").value
    window._elements = b"\xc1"  # never valid MessagePack
    assert window.elements == ()


def test_each_value_of_a_deep_expression_is_written_at_most_a_few_times(tmp_path, monkeypatch):
    # `g(x) + 'a0' * x + 'a1' * x + ...` nests 80 operations deep with a call at the bottom:
    # a field tried apart and written inline again must not try its nested fields again each.
    source = "def f(x):\n    s = g(x)" + "".join(f" + 'a{i}' * x" for i in range(80)) + "\n    return s\n"
    (tmp_path / "m.py").write_text(source)
    facts, text = facts_and_source(tmp_path, "m.py")
    encode, written = codec._CODE["enc_Value"], []

    def counted(value, m):
        written.append(value)
        return encode(value, m)

    monkeypatch.setitem(codec._CODE, "enc_Value", counted)
    codec.dump_facts(facts, text)
    distinct = {id(v) for v in written}
    assert len(distinct) > 240 and len(written) <= 3 * len(distinct)
