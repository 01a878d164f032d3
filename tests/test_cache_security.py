"""The cache folder is untrusted input: a repository may commit it, a CI cache may
come from another branch's run. Nothing in it may run code, and nothing in it
that review-lint did not write may change a finding."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import libcst as cst
import msgpack
import pytest

from review_lint import codec, collect, libcst_patches
from review_lint.collect import Collector
from review_lint.engine import Engine, Options
from review_lint.extract import extract

TESTS = Path(__file__).resolve().parent
HANDLER = "def handler(x):\n    assert x\n    return x\n"


class _Payload:
    """A pickle that, when loaded, runs a shell command (the reproduced attack)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / ".review-lint.yaml").write_text("")
    (root / "app" / "views.py").write_text(HANDLER)
    (root / "app" / "other.py").write_text("def helper(y):\n    assert y, 'y'\n")
    return root


def _check(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, REVIEW_LINT_RULES_PATH=str(TESTS / "engine_rules"))
    return subprocess.run([sys.executable, "-m", "review_lint.cli", "check", ".", "--format", "json", *args],
                          cwd=root, capture_output=True, text=True, env=env)


def _findings(done: subprocess.CompletedProcess) -> list[tuple]:
    return [(d["path"], d["line"], d["rule"]) for d in json.loads(done.stdout)["diagnostics"]]


CHECKSUM = "its checksum does not match (truncated or damaged)"
WHY = {"truncated": CHECKSUM, "one byte flipped": CHECKSUM, "empty": "not a review-lint cache file of this format",
       "zero-filled": "not a review-lint cache file of this format",
       "garbage": "not a review-lint cache file of this format"}


def _sealed(payload) -> bytes:
    return codec.seal(payload)


def test_a_planted_pickle_never_runs_and_the_findings_are_right(tmp_path):
    root = _project(tmp_path)
    expected = _findings(_check(root, "--no-cache"))
    assert expected == [("app/other.py", 2, "RL900"), ("app/views.py", 2, "RL900")]
    marker = tmp_path / "PWNED"
    evil = pickle.dumps({"schema": collect.code_fingerprint(), "entries": _Payload(marker)})
    assert not marker.exists()
    cache = root / ".review-lint-cache"
    cache.mkdir()
    # The old format's names, the new format's names, and both inside a sealed file.
    for name in ("facts.pickle", "judgement.pickle", "facts.msgpack", "verdicts.msgpack"):
        (cache / name).write_bytes(evil)
    done = _check(root)
    assert not marker.exists()
    assert _findings(done) == expected
    assert done.returncode == 1
    warnings = done.stderr.splitlines()
    assert warnings == [
        f"review-lint: warning: ignoring the cache file {cache / 'verdicts.msgpack'}: not a review-lint cache "
        "file of this format; it will be rebuilt",
        f"review-lint: warning: ignoring the cache file {cache / 'facts.msgpack'}: not a review-lint cache file "
        "of this format; it will be rebuilt",
    ]
    # Rebuilt: the next run reads its own cache without a word, and parses nothing.
    again = _check(root, "--verbose")
    assert _findings(again) == expected  # and --verbose's one line says nothing was parsed:
    version = libcst_patches.libcst_version()
    assert again.stderr.splitlines() == [
        f"review-lint: LibCST {version}: speed patches not loaded in this process (nothing parsed)"]
    assert not marker.exists()


def test_a_well_sealed_file_of_hostile_contents_is_discarded_entry_by_entry(tmp_path):
    """Checksum and schema right, contents not facts: pickles where facts belong,
    references to objects that do not exist, a Call where a Value belongs."""
    root = _project(tmp_path)
    expected = _findings(_check(root, "--no-cache"))
    marker = tmp_path / "PWNED"
    views, other = (root / "app" / "views.py").read_bytes(), (root / "app" / "other.py").read_bytes()
    entries = {
        collect._key("app/views.py", views): pickle.dumps(_Payload(marker)),
        collect._key("app/other.py", other): msgpack.packb(["app/other.py", [[99]], (), (), {}, ()]),
    }
    cache = root / ".review-lint-cache"
    cache.mkdir()
    (cache / "facts.msgpack").write_bytes(codec.seal_entries({"schema": collect.code_fingerprint(), "digests": {}},
                                                             entries))
    done = _check(root)
    assert not marker.exists()
    assert _findings(done) == expected


@pytest.mark.parametrize("name", ["facts.msgpack", "verdicts.msgpack"])
@pytest.mark.parametrize("damage", ["truncated", "empty", "zero-filled", "garbage", "one byte flipped"])
def test_a_damaged_cache_file_is_detected_and_rebuilt(tmp_path, damage, name):
    root = _project(tmp_path)
    expected = _findings(_check(root))
    stored = root / ".review-lint-cache" / name
    data = stored.read_bytes()
    if damage == "empty":
        data = b""
    elif damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "zero-filled":
        data = bytes(len(data))
    elif damage == "garbage":
        data = os.urandom(len(data))
    else:
        data = data[:-3] + bytes([data[-3] ^ 0x40]) + data[-2:]
    stored.write_bytes(data)
    (root / "app" / "views.py").write_text(HANDLER + "\n")  # the verdicts alone would not need the facts
    done = _check(root)
    assert _findings(done) == expected
    assert done.stderr.splitlines() == [
        f"review-lint: warning: ignoring the cache file {stored}: {WHY[damage]}; it will be rebuilt"]
    assert _check(root).stderr == ""  # rebuilt


def test_facts_come_back_equal_with_their_shared_parts_still_shared():
    """Rules compare some facts by identity (a call inside a receiver is the same
    object as the call in the function's list): decoding keeps that."""
    root = TESTS / "fixtures"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    assert len(files) > 50
    for relative in files:
        facts = collect.facts_for_file(root, relative)
        back = codec.load_facts(codec.dump_facts(facts))
        assert back == facts, relative
        for before, after in zip(facts.functions, back.functions):
            shared = [(c.receiver.call is inner) for c in before.calls if c.receiver and c.receiver.call
                      for inner in before.calls]
            again = [(c.receiver.call is inner) for c in after.calls if c.receiver and c.receiver.call
                     for inner in after.calls]
            assert shared == again, relative


def test_a_string_or_span_a_file_repeats_is_stored_once_and_decodes_as_one_object():
    source = "def f(session):\n    session.get(1)\n    session.get(2)\n"
    facts = extract("m.py", source, cst.parse_module(source))
    blob = codec.dump_facts(facts)
    assert blob.count(msgpack.packb("session.get")) == 1  # the second call's callee is written as a number
    back = codec.load_facts(blob)
    assert back == facts
    first, second = [c for c in back.functions[-1].calls if c.method == "get"]
    assert first.callee is second.callee


def test_the_blocks_calls_share_are_stored_once_and_a_bad_reference_to_them_is_refused():
    source = "def f(session, a):\n    if a:\n        session.get(1)\n        session.get(2)\n"
    facts = extract("m.py", source, cst.parse_module(source))
    blob = codec.dump_facts(facts)
    back = codec.load_facts(blob)
    assert back == facts
    first, second = [c for c in back.functions[-1].calls if c.method == "get"]
    assert first.blocks == second.blocks != () and first.blocks is second.blocks
    # The second call's blocks are written as the number of the first's: point it at a string.
    data = msgpack.unpackb(blob, use_list=True)
    calls = data[1][-1][8]
    reference = calls[-1][9]
    assert type(reference) is int and calls[0][9] == list(first.blocks)
    calls[-1][9] = 1  # the file's path, the first string written
    with pytest.raises(codec.CodecError, match="where a tuple belongs"):
        codec.load_facts(msgpack.packb(data, use_bin_type=True))


def test_a_bytes_literal_where_a_string_usually_is_round_trips():
    # A dict literal's keys are kept evaluated: `b"~"` is bytes in a field of strings.
    source = 'ESCAPES = {b"~": 1, "~": 2}\n'
    facts = extract("m.py", source, cst.parse_module(source))
    assert any(key == b"~" for f in facts.functions for b in f.bindings if b.value is not None
               for key, _ in b.value.entries), "the fixture no longer holds a bytes key"
    assert codec.load_facts(codec.dump_facts(facts)) == facts


@pytest.mark.parametrize("blob", [
    b"", b"\xc1", msgpack.packb([1, 2, 3]), msgpack.packb({"a": 1}),
    msgpack.packb(["m.py", [], [], [], {}, [], "extra"]),
    msgpack.packb(["m.py", [[5, "f", "f", None, [1, 1, 1, 1]]], (), (), {}, ()]),  # a number where a name is
    msgpack.packb(["m.py", (), (), (("a", "b", None, 0, (1, 1, 1, 1)), 0), {}, ()]),  # an Import refers to itself
    msgpack.packb(["m.py", (), (), (("a", 0, None, 0, (1, 1, 1, 1)),), {}, ()]),  # a string field names the file's facts
    msgpack.packb(["m.py", (), (), (("a", "b", None, 0, 1),), {}, ()]),  # a span field names a string
    msgpack.packb(["m.py", (), (), (("a", "b", None, 0, 99),), {}, ()]),  # a number past what was written
], ids=["empty", "reserved byte", "a list", "a map", "too long", "wrong field", "self-reference as wrong type",
        "string refers to an object", "span refers to a string", "reference past the end"])
def test_bytes_that_are_not_facts_raise_the_codec_error_only(blob):
    try:
        facts = codec.load_facts(blob)
    except codec.CodecError:
        return
    # Whatever decodes is made of the fact classes only.
    assert type(facts).__name__ == "ModuleFacts"


def test_the_engine_with_a_planted_cache_reports_what_it_reports_without(tmp_path):
    root = _project(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    marker = tmp_path / "PWNED"
    (cache / "facts.msgpack").write_bytes(codec.MAGIC + pickle.dumps(_Payload(marker)))
    warned: list[str] = []
    engine = Engine(Options(paths=[str(root)], root=str(root)), cwd=root)
    result = engine.run(source=Collector(cache_dir=cache, warn=warned.append))
    plain = Engine(Options(paths=[str(root)], root=str(root)), cwd=root).run()
    assert [(d.path, d.line) for d in result.diagnostics] == [(d.path, d.line) for d in plain.diagnostics]
    assert len(warned) == 1 and "checksum does not match" in warned[0], warned
    assert not marker.exists()


def test_lone_surrogates_and_huge_numbers_are_stored_or_refused_without_losing_the_file(tmp_path):
    (tmp_path / "m.py").write_text('KEY = "\\ud800"\n\ndef f(session):\n    return session.get(Row, "\\udce9")\n')
    facts = collect.facts_for_file(tmp_path, "m.py")
    assert codec.load_facts(codec.dump_facts(facts)) == facts
    facts.functions[0].name = 10**30  # what MessagePack cannot hold: the file becomes an RL999, not a crash
    back = codec.load_facts(codec.dump_facts(facts))
    assert [p.code for p in back.problems] == ["RL999"] and back.path == "m.py"
