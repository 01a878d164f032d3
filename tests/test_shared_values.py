"""Values shared across files: a file's cache entry holds each string and int tuple once,
and the files decoded in one batch (one gather's `Gathered.facts`) share equal ones, so
that "session.get" or a call's blocks `(1,)` in a thousand files is one object, not a
thousand (codec.Shared)."""

from __future__ import annotations

from review_lint import codec
from review_lint.collect import Collector
from review_lint.engine import facts_for_file

MODULE = '''\
from app.db import session, User


def handler(request, user_id):
    if user_id:
        user = session.get(User, user_id)
        if user is None:
            raise LookupError(user_id)
        return user
'''


def _project(tmp_path, count: int = 3):
    for number in range(count):
        (tmp_path / f"m{number}.py").write_text(MODULE.replace("handler", f"handler_{number}"))
    return [f"m{number}.py" for number in range(count)]


def _calls(module):
    return [call for function in module.functions for call in function.calls if call.callee == "session.get"]


def _gathered_twice(tmp_path):
    files = _project(tmp_path)
    cache = tmp_path / ".cache"
    Collector(jobs=1, cache_dir=cache).gather(tmp_path, files).facts()  # cold: writes the cache
    return files, Collector(jobs=1, cache_dir=cache).gather(tmp_path, files).facts()


def test_files_decoded_together_share_equal_strings_and_tuples(tmp_path):
    files, decoded = _gathered_twice(tmp_path)
    first, *others = [_calls(module)[0] for module in decoded]
    assert first.blocks and first.callee == "session.get"
    for call in others:
        assert call.callee is first.callee
        assert call.blocks is first.blocks
    # Shared, and still the facts a fresh extraction gives.
    assert decoded == [facts_for_file(tmp_path, path) for path in files]


def test_nothing_is_shared_with_the_files_of_another_batch(tmp_path):
    files, decoded = _gathered_twice(tmp_path)
    again = Collector(jobs=1, cache_dir=tmp_path / ".cache").gather(tmp_path, files).facts()
    # The table lives while its batch decodes: a long-lived process does not grow one.
    assert _calls(again[0])[0].callee is not _calls(decoded[0])[0].callee
    assert _calls(again[0])[0].callee == _calls(decoded[0])[0].callee


def test_equal_tuples_of_other_types_are_never_made_one():
    # (1,) == (1.0,) == (True,): a damaged or planted entry must not change another file's ints.
    shared = codec.Shared()
    for planted in [(1.0,), (True,), (1.5, 2)]:
        table = codec._Table()
        table.shared = shared
        codec._dec_first_numbers(planted, table)
        codec._dec_tuple(planted, table)
    table = codec._Table()
    table.shared = shared
    for value in [(1,), (1, 2)]:
        assert [type(n) for n in codec._dec_first_numbers(value, table)] == [int] * len(value)
        assert codec._dec_tuple(value, table) is codec._dec_first_numbers(value, table)


def _handler_exits(module):
    return [exit for function in module.functions if function.qualname.startswith("handler") for exit in function.exits]


def test_deferred_fields_read_while_judging_share_equal_values_within_a_bound(tmp_path, monkeypatch):
    # A handler's exits stay encoded in the decoded facts until read (facts.Function.deferred):
    # each read decodes apart from its batch, and shares through one table of the process.
    files, first = _gathered_twice(tmp_path)
    second = Collector(jobs=1, cache_dir=tmp_path / ".cache").gather(tmp_path, files).facts()
    exits = _handler_exits(first[0]) + _handler_exits(second[0])
    assert [exit.kind for exit in exits] == ["raise", "return", "raise", "return"]
    assert exits[0].kind is exits[2].kind and exits[1].kind is exits[3].kind
    assert exits[0].blocks is exits[2].blocks
    # The table is emptied once it holds more than its bound: a long-lived process keeps no more.
    monkeypatch.setattr(codec, "_DEFERRED_SHARED_MOST", 2)
    third = Collector(jobs=1, cache_dir=tmp_path / ".cache").gather(tmp_path, files).facts()
    assert [exit.kind for exit in _handler_exits(third[1])] == ["raise", "return"]
    assert len(codec._DEFERRED_SHARED) <= 2 + len(_handler_exits(third[1])) * 4
