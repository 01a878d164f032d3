"""Texts left in their source file: the cache writes a Value's or Call's text as nil when
the file gives it back from the fact's span, and decoded facts read it from the file on
first use (review_lint/texts.py)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from review_lint import codec, collect
from review_lint.collect import Collector
from review_lint.engine import facts_and_source
from review_lint.facts import Call, LazyText, Value
from review_lint.texts import SourceText, line_starts, split_lines

SOURCE = '''\
from app.db import session, User


def handler(request, user_id):
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id!r}")
    name = user.name.strip()   .lower()
    total = sum(order.amount * 2 for order in user.orders if order.paid)
    session.refresh(
        user,  # a comment inside the call
    )
    session.execute("SELECT name FROM users WHERE id = :id" LONG_TAIL, {"id": user_id})
    return {"name": name, "total": total}
'''.replace("LONG_TAIL", '"  -- ' + "x" * 300 + '"')


def _texts(module) -> list[tuple[str, str]]:
    """(kind, text) of every Value and Call, read through the facts as a rule reads them."""
    found = []

    def value(v: Value | None) -> None:
        if v is None:
            return
        found.append((v.kind, v.text))
        for element in v.elements:
            value(element)
        for _, entry in v.entries:
            value(entry)

    for function in module.functions:
        for call in function.calls:
            found.append(("call", call.text))
            value(call.receiver)
            for argument in call.args:
                value(argument)
            for _, argument in call.kwargs:
                value(argument)
        for binding in function.bindings:
            value(binding.value)
    return found


def _file(tmp_path: Path, text: str = SOURCE) -> tuple[Path, str, bytes]:
    (tmp_path / "views.py").write_bytes(text.encode())
    return tmp_path, "views.py", text.encode()


def test_lines_are_cut_where_libcst_counts_lines():
    newline = re.compile(r"\r\n?|\n")
    pieces = ["a", " ", "\n", "\r", "\r\n", "\x0c", "\u2028", "é", "\x0b"]
    rng = random.Random(7)
    for _ in range(5_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        starts = [0, *(m.end() for m in newline.finditer(text))]
        assert line_starts(text) == starts, repr(text)
        assert split_lines(text) == [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])], repr(text)


def test_texts_the_file_gives_back_are_left_out_and_read_back_from_the_file(tmp_path):
    root, relative, data = _file(tmp_path)
    facts, source = facts_and_source(root, relative, data)
    kept = codec.dump_facts(facts)
    left_out = codec.dump_facts(facts, source)
    assert len(left_out) < len(kept) * 0.8
    back = codec.load_facts(left_out, SourceText(str(root / relative), relative, collect._key(relative, data)))
    assert _texts(back) == _texts(facts)
    assert back == facts
    calls = [text for kind, text in _texts(back) if kind == "call"]
    assert "session.refresh( user, # a comment inside the call )" in calls  # collapsed, as extracted
    assert any(len(text) == 240 and text.endswith("…") for _, text in _texts(back))  # cut, as extracted


def test_a_text_is_read_from_the_file_once_then_kept(tmp_path):
    root, relative, data = _file(tmp_path)
    facts, source = facts_and_source(root, relative, data)
    back = codec.load_facts(codec.dump_facts(facts, source),
                            SourceText(str(root / relative), relative, collect._key(relative, data)))
    call = back.functions[1].calls[0]
    assert isinstance(call._text, SourceText)
    assert call.text == "session.get(User, user_id)"
    (root / relative).unlink()  # read once: the file is no longer needed for this text
    assert call._text == call.text == "session.get(User, user_id)"


def test_a_file_changed_since_its_facts_were_cached_gives_empty_texts(tmp_path):
    root, relative, data = _file(tmp_path)
    facts, source = facts_and_source(root, relative, data)
    blob = codec.dump_facts(facts, source)
    (root / relative).write_text(SOURCE.replace("session.get", "session.find"))
    back = codec.load_facts(blob, SourceText(str(root / relative), relative, collect._key(relative, data)))
    assert back.functions[1].calls[0].text == ""  # never the text of other bytes


def test_an_editors_unsaved_text_is_read_instead_of_the_file(tmp_path):
    root, relative, _ = _file(tmp_path, "x = 1\n")
    unsaved = SOURCE.encode()
    facts, source = facts_and_source(root, relative, unsaved)
    back = codec.load_facts(codec.dump_facts(facts, source),
                            SourceText(str(root / relative), relative, collect._key(relative, unsaved), unsaved))
    assert _texts(back) == _texts(facts)


def test_a_text_the_span_does_not_give_back_is_written_whole():
    from review_lint.facts import ModuleFacts, Function

    function = Function(qualname="f", name="f", class_qualname=None, span=(1, 1, 2, 1))
    function.calls.append(Call("g", None, span=(1, 1, 1, 4), text="not what the source says"))
    module = ModuleFacts(path="m.py", functions=[function])
    back = codec.load_facts(codec.dump_facts(module, "g()\n"))
    assert back.functions[0].calls[0].text == "not what the source says"
    assert codec.load_facts(codec.dump_facts(module, "gx()\n"), LazyText()) == back


def test_texts_left_in_a_file_that_is_not_named_are_a_miss(tmp_path):
    root, relative, data = _file(tmp_path)
    facts, source = facts_and_source(root, relative, data)
    with pytest.raises(codec.CodecError, match="its texts are in its source file"):
        codec.load_facts(codec.dump_facts(facts, source))


def test_a_warm_run_reads_the_texts_a_cold_run_extracted(tmp_path):
    root, relative, _ = _file(tmp_path)
    cache = tmp_path / "cache"
    cold = Collector(cache_dir=cache).gather(root, [relative]).facts()
    warm_collector = Collector(cache_dir=cache)
    warm = warm_collector.gather(root, [relative]).facts()
    assert warm_collector.stats.cached == 1
    assert any(isinstance(call._text, SourceText) for call in warm[0].functions[1].calls)
    assert _texts(warm[0]) == _texts(cold[0]) == _texts(facts_and_source(root, relative)[0])


def test_a_run_without_a_cache_keeps_the_texts_it_extracted(tmp_path):
    """Nothing to write, so nothing is encoded: encoding and decoding again would cost a
    tenth of the parse."""
    root, relative, _ = _file(tmp_path)
    facts = Collector().gather(root, [relative]).facts()[0]
    assert all(type(call._text) is str for function in facts.functions for call in function.calls)
    assert _texts(facts) == _texts(facts_and_source(root, relative)[0])


@pytest.mark.parametrize("encoded", [
    b"# -*- coding: latin-1 -*-\r\ndef f(db):\r\n    return db.get('caf\xe9',\r\n                  id=1)\r\n",
    b"\xef\xbb\xbfdef f(db):\n    db.get('\xc3\xa9t\xc3\xa9')\n    \x0c\n    return db.all(\n        1)\n",
    b"def f(db):\n\tx = db.get(1)  ;  y = db.get(\\\n\t\t2)\n\treturn (x,\r y)",
], ids=["latin-1, CRLF", "BOM, form feed", "tabs, backslash, lone CR, no final newline"])
def test_texts_read_back_from_files_of_any_encoding_and_line_ends(tmp_path, encoded):
    (tmp_path / "m.py").write_bytes(encoded)
    facts, source = facts_and_source(tmp_path, "m.py")
    assert source is not None and not facts.problems
    blob = codec.dump_facts(facts, source)
    back = codec.load_facts(blob, SourceText(str(tmp_path / "m.py"), "m.py", collect._key("m.py", encoded)))
    assert any(isinstance(call._text, SourceText) for function in back.functions for call in function.calls)
    assert _texts(back) == _texts(facts) and [t for _, t in _texts(facts)].count("") < len(_texts(facts))
