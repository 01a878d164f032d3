"""Phase 1 at scale must never change a verdict: cache, prefilter and workers
are optimisations, so findings are identical with and without each of them."""

from __future__ import annotations

import faulthandler
import mmap
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from review_lint import collect as collect_module
from review_lint import engine as engine_module
from review_lint.collect import Collector
from review_lint.engine import Engine, Options
from review_lint.facts import ModuleFacts

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CASES = sorted(p for p in FIXTURES.glob("RL*/*") if p.is_dir())


def findings(root: Path, collector: Collector, select: list[str] | None = None) -> list[tuple]:
    engine = Engine(Options(paths=[str(root)], root=str(root), select=select or []), cwd=root)
    result = engine.run(source=collector)
    return [(d.path, d.line, d.column, d.rule, d.message) for d in result.diagnostics]


def variants(cache_dir: Path):
    yield "serial, no cache, prefilter", Collector(jobs=1)
    yield "serial, no prefilter", Collector(jobs=1, prefilter=False)
    yield "two workers", Collector(jobs=2)
    yield "cold cache", Collector(jobs=1, cache_dir=cache_dir)
    yield "warm cache", Collector(jobs=2, cache_dir=cache_dir)


@pytest.fixture
def bundled_rules_only(monkeypatch):
    monkeypatch.delenv("REVIEW_LINT_RULES_PATH", raising=False)


def _asserting_files(tmp_path: Path, count: int, tail: str = "") -> tuple[Path, list[str]]:
    """A project of `count` files m0.py, m1.py... each defining a function that asserts
    (and ending with `tail`), and their names."""
    root = tmp_path / "proj"
    root.mkdir()
    files = [f"m{index}.py" for index in range(count)]
    for index, name in enumerate(files):
        (root / name).write_text(f"def f{index}(x):\n    assert x\n" + tail)
    return root, files


def test_fixtures_give_identical_findings_in_every_mode(tmp_path, monkeypatch, bundled_rules_only):
    monkeypatch.setattr(collect_module, "CHUNK_FILES", 1)  # make small fixtures actually use the pool
    for case in CASES:
        outcomes = {name: findings(case, c) for name, c in variants(tmp_path / case.parent.name / case.name)}
        reference = outcomes["serial, no prefilter"]
        for name, outcome in outcomes.items():
            assert outcome == reference, f"{case}: {name} differs"


def test_warm_cache_reparses_only_changed_files(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for index in range(5):
        (root / f"m{index}.py").write_text(f"def f{index}(x):\n    assert x\n")
    cache = tmp_path / "cache"
    first = Collector(cache_dir=cache)
    assert len(findings(root, first)) == 5 and first.stats.parsed == 5
    (root / "m3.py").write_text("def f3(x):\n    return x\n")
    second = Collector(cache_dir=cache)
    assert len(findings(root, second)) == 4
    assert (second.stats.parsed, second.stats.cached) == (1, 4)
    assert (cache / ".gitignore").read_text().strip().endswith("*")


def test_decoded_facts_hold_no_encoded_bytes_and_keep_the_facts_key(tmp_path):
    """A warm run's facts are views of the cache file until decoded. Once decoded, none
    is held (at 10,000 files the file is 180 MB), and the facts key stays what it was."""
    root, files = _asserting_files(tmp_path, 5)
    cache = tmp_path / "cache"
    Collector(cache_dir=cache).gather(root, files).facts()
    key = Collector(cache_dir=cache).gather(root, files).fingerprint
    gathered = Collector(cache_dir=cache).gather(root, files)
    assert [type(item) for _, item in gathered.items] == [memoryview] * 5
    assert [[f.qualname for f in facts.functions] for facts in gathered.facts()] == [
        ["<module>", f"f{index}"] for index in range(5)]
    assert [type(item) for _, item in gathered.items] == [ModuleFacts] * 5 and gathered.blobs == {}
    assert key is not None and gathered.fingerprint == key


def _resident_kb(path: Path) -> int | None:
    """Resident memory of this process's mappings of `path` (None: not mapped)."""
    found, mapped = None, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if line[:1].isdigit() or line[:1] in "abcdef" and "-" in line.split()[0]:
            mapped = line.endswith(str(path))
        elif mapped and line.startswith("Rss:"):
            found = (found or 0) + int(line.split()[1])
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the cache file is mapped on Linux only")
def test_a_large_cache_file_is_mapped_and_its_pages_given_back_as_facts_are_decoded(tmp_path, monkeypatch):
    """At 10,000 files the cache file is 184 MB: read whole, it stayed beside the decoded
    facts until the last file was decoded."""
    root, files = _asserting_files(tmp_path, 80, "".join(f"    g{i}(x, y={i})\n" for i in range(300)))
    cache = tmp_path / "cache"
    expected = [[len(f.calls) for f in facts.functions] for facts in Collector(cache_dir=cache).gather(root, files).facts()]
    monkeypatch.setattr(collect_module, "MAP_AT_LEAST", 1)
    monkeypatch.setattr(collect_module, "RELEASE_EVERY_BYTES", 1)
    gathered = Collector(cache_dir=cache).gather(root, files)
    mapped = cache / "facts.msgpack"
    size_kb = mapped.stat().st_size >> 10
    # Mapped, and what the checksum read given back: only the index, read after it, is resident.
    assert size_kb > 1_000 and 0 <= _resident_kb(mapped) < size_kb // 10
    facts = gathered.facts()
    assert [[len(f.calls) for f in module.functions] for module in facts] == expected
    assert _resident_kb(mapped) is None  # unmapped once its last entry is decoded


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the cache file is mapped on Linux only")
def test_a_mapped_cache_file_replaced_or_damaged_by_another_run_never_changes_what_this_run_decodes(tmp_path, monkeypatch):
    """Another run replaces the file by renaming its own over it: a mapping of the old file
    still reads the old one, whole. A damaged mapped file is refused by its checksum."""
    monkeypatch.setattr(collect_module, "MAP_AT_LEAST", 1)
    root, files = _asserting_files(tmp_path, 4)
    cache = tmp_path / "cache"
    Collector(cache_dir=cache).gather(root, files)
    reading = Collector(cache_dir=cache).gather(root, files)
    assert {type(item.obj) for _, item in reading.items} == {mmap.mmap}  # views of the mapped file
    for index, name in enumerate(files):  # another run, other contents: the file is replaced
        (root / name).write_text(f"def g{index}(y):\n    return y\n")
    Collector(cache_dir=cache).gather(root, files)
    assert [f.functions[1].qualname for f in reading.facts()] == [f"f{index}" for index in range(4)]
    stored = cache / "facts.msgpack"
    stored.write_bytes(stored.read_bytes()[:-10])  # truncated
    warnings = []
    damaged = Collector(cache_dir=cache, warn=warnings.append)
    assert [f.functions[1].qualname for f in damaged.gather(root, files).facts()] == [f"g{index}" for index in range(4)]
    assert damaged.stats.parsed == 4 and len(warnings) == 1 and "checksum" in warnings[0]


def test_a_large_parse_leaves_the_workers_facts_encoded_until_they_are_asked_for(tmp_path, monkeypatch):
    """Decoded as they arrived, a large project's facts sat beside every file's encoded
    facts, which the cache keeps until it is written (184 MB more at 10,000 files)."""
    root, files = _asserting_files(tmp_path, 6)
    (root / "m5.py").write_bytes(b"def broken(:\n")
    expected = [[f.qualname for f in facts.functions] for facts in Collector(jobs=1).gather(root, files).facts()]
    monkeypatch.setattr(collect_module, "CHUNK_FILES", 1)
    monkeypatch.setattr(collect_module, "DEFER_DECODING_FROM", 2)
    cached = Collector(jobs=2, cache_dir=tmp_path / "cache").gather(root, files)
    assert [type(item) for _, item in cached.items] == [memoryview] * 6  # read back from the file written
    assert [[f.qualname for f in facts.functions] for facts in cached.facts()] == expected
    assert [problem.code for problem in cached.facts()[5].problems] == ["RL000"]
    uncached = Collector(jobs=2).gather(root, files)  # no cache to keep the bytes for: decoded at once
    assert [type(item) for _, item in uncached.items] == [ModuleFacts] * 6
    assert [[f.qualname for f in facts.functions] for facts in uncached.facts()] == expected
    warm = Collector(jobs=1, cache_dir=tmp_path / "cache")
    warm.gather(root, files)
    assert (warm.stats.parsed, warm.stats.cached) == (0, 6)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the cache file is mapped on Linux only")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_large_parse_decodes_from_the_mapped_cache_file_it_wrote(tmp_path, monkeypatch, jobs):
    """The facts a large parse encoded are taken back from the file it wrote, whose pages
    decoding gives back, and their copies in the heap let go (at 10,000 files, cold
    `--jobs 2` decoded 135 MB of copies, peaking 230 MB above the decoded facts)."""
    root, files = _asserting_files(tmp_path, 6)
    expected = [[f.qualname for f in facts.functions] for facts in Collector(jobs=1).gather(root, files).facts()]
    monkeypatch.setattr(collect_module, "CHUNK_FILES", 1)
    monkeypatch.setattr(collect_module, "DEFER_DECODING_FROM", 2)
    monkeypatch.setattr(collect_module, "MAP_AT_LEAST", 1)
    gathered = Collector(jobs=jobs, cache_dir=tmp_path / "cache").gather(root, files)
    assert all(isinstance(item, memoryview) and isinstance(item.obj, mmap.mmap) for _, item in gathered.items)
    assert [[f.qualname for f in facts.functions] for facts in gathered.facts()] == expected

    # Another run's file in its place, without these entries: the copies are kept.
    real_load, loads = collect_module._Cache.load, []

    def replaced_after_writing(folder, *args):
        loads.append(folder)
        return real_load(folder, *args) if len(loads) == 1 else collect_module._Cache(folder, {}, {})

    monkeypatch.setattr(collect_module._Cache, "load", replaced_after_writing)
    (root / "m0.py").write_text("def changed(x):\n    assert x\n")
    (root / "m1.py").write_text("def changed_too(x):\n    assert x\n")
    again = Collector(jobs=jobs, cache_dir=tmp_path / "cache").gather(root, files)
    assert len(loads) == 2 and [type(item) for _, item in again.items][:2] == [bytes, bytes]
    assert [f.functions[1].qualname for f in again.facts()][:3] == ["changed", "changed_too", "f2"]


def test_parsing_in_this_process_gives_free_memory_back_as_it_goes(tmp_path, monkeypatch):
    """LibCST frees each file's tree between the facts kept: without returning those pages
    while parsing, a cold `--jobs 1` run at 2,753 files peaked at 460 MB instead of 410."""
    root, files = _asserting_files(tmp_path, 6, "# padding\n" * 10)
    trims = []
    monkeypatch.setattr(collect_module, "TRIM_EVERY_BYTES", 2 * len((root / "m0.py").read_bytes()))
    monkeypatch.setattr(collect_module, "_give_back_free_memory", lambda: trims.append(1))
    facts = Collector(jobs=1).gather(root, files).facts()
    assert [f.functions[1].qualname for f in facts] == [f"f{index}" for index in range(6)]
    assert len(trims) == 1 + 3 + 1  # once the files are read, after every second file parsed, once all are decoded


@pytest.mark.parametrize("prewarmed", [False, True], ids=["worker forked when needed", "helper forked at start"])
def test_a_warm_run_parses_changed_files_in_a_worker_while_loading_the_rest(tmp_path, monkeypatch, prewarmed):
    root = tmp_path / "proj"
    root.mkdir()
    for index in range(40):
        (root / f"m{index:02}.py").write_text(f"def f{index}(x):\n    assert x\n")
    cache = tmp_path / "cache"
    findings(root, Collector(jobs=2, cache_dir=cache))
    (root / "m05.py").write_text("def f5(x):\n    return x\n\ndef g5(y):\n    assert y\n")
    (root / "m17.py").write_text("def f17(x):\n    assert x\n\ndef g17(y):\n    assert y\n")
    expected = findings(root, Collector(jobs=1))
    warm = Collector(jobs=2, cache_dir=cache)
    if prewarmed:
        warm.prewarm()  # what the command does: the helper imports LibCST while the files are read
        helper = warm._helper.process
    assert findings(root, warm) == expected
    assert (warm.stats.parsed, warm.stats.cached, warm.stats.worker_failures) == (2, 38, 0)
    if prewarmed:
        assert warm._helper is None and not helper.is_alive()  # used once, then stopped

    # The worker that parses them dies on m17 (were it parsed in this process, the
    # test would die too): each file is parsed again alone, only m17 goes unjudged.
    (root / "m05.py").write_text("def f5(x):\n    assert x\n")
    (root / "m17.py").write_text("def f17(x):\n    assert x\n\ndef h17(y):\n    assert y\n")
    real = engine_module.facts_and_source

    def crashing(root_path, relative, data=None):
        if relative == "m17.py":
            faulthandler.disable()  # pytest's crash dump would fill the terminal: the death is the test
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(root_path, relative, data)

    monkeypatch.setattr(collect_module, "facts_and_source", crashing)
    dying = Collector(jobs=2, cache_dir=cache)
    if prewarmed:
        dying.prewarm()
    result = Engine(Options(paths=[str(root)], root=str(root)), cwd=root).run(source=dying)
    assert [d.path for d in result.diagnostics if d.rule == "RL999"] == ["m17.py"]
    assert {d.path for d in result.diagnostics if d.rule == "RL900"} == {f"m{i:02}.py" for i in range(40) if i != 17}
    # The helper's one list is parsed again file by file; a pool retries the chunks
    # it left unfinished (m17's, and m05's too unless that worker was done first).
    assert dying.stats.worker_failures == 2 if prewarmed else dying.stats.worker_failures in (1, 2)


def test_prewarmed_workers_give_the_same_findings_and_are_stopped_when_unused(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for index in range(5):
        (root / f"m{index}.py").write_text(f"def f{index}(x):\n    assert x\n")
    expected = findings(root, Collector(jobs=1))
    cold = Collector(jobs=2)
    cold.prewarm()
    assert cold._pool is not None
    assert findings(root, cold) == expected and cold._pool is None  # the parse used them

    cache = tmp_path / "cache"
    assert findings(root, Collector(jobs=2, cache_dir=cache)) == expected
    warm = Collector(jobs=2, cache_dir=cache)
    warm.prewarm()
    assert warm._pool is None  # facts cached: a warm run may parse nothing, and needs one helper at most
    helper = warm._helper.process
    assert findings(root, warm) == expected and warm._helper is not None  # nothing changed: unused
    warm.close()
    assert warm._helper is None and not helper.is_alive()

    (cache / "facts.msgpack").unlink()  # the verdicts remain: nothing is parsed
    kept = Collector(jobs=2, cache_dir=cache)
    kept.prewarm()
    assert findings(root, kept) == expected and kept._pool is not None
    kept.close()
    assert kept._pool is None


def test_a_corrupt_cache_is_ignored(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("def f(x):\n    assert x\n")
    cache = tmp_path / "cache"
    findings(root, Collector(cache_dir=cache))
    for stored in cache.glob("*.msgpack"):
        stored.write_bytes(b"not a cache file")
    again = Collector(cache_dir=cache)
    assert len(findings(root, again)) == 1 and again.stats.parsed == 1


def test_a_worker_that_dies_loses_only_its_own_file(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    for index in range(40):
        (root / f"m{index:02}.py").write_text("def f(x):\n    assert x\n")
    real = engine_module.facts_and_source

    def crashing(root_path, relative, data=None):
        if relative == "m17.py":
            faulthandler.disable()  # pytest's crash dump would fill the terminal: the death is the test
            os.kill(os.getpid(), signal.SIGSEGV)  # what LibCST's native parser does on hostile input
        return real(root_path, relative, data)

    monkeypatch.setattr(collect_module, "facts_and_source", crashing)
    collector = Collector(jobs=2)
    engine = Engine(Options(paths=[str(root)], root=str(root)), cwd=root)
    result = engine.run(source=collector)
    crashed = [d for d in result.diagnostics if d.rule == "RL999"]
    assert [(d.path, d.message) for d in crashed] == [
        ("m17.py", "the worker analysing this file died (signal 11); the file was not judged")
    ]
    assert len([d for d in result.diagnostics if d.rule == "RL900"]) == 39
    assert result.internal_errors == 1


def test_cli_clean_removes_the_cache(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".review-lint.yaml").write_text("")
    (root / "m.py").write_text("def f():\n    return 1\n")
    run = lambda *args: subprocess.run([sys.executable, "-m", "review_lint.cli", *args], cwd=root,
                                       capture_output=True, text=True)
    assert run("check", ".").returncode == 0
    assert (root / ".review-lint-cache").is_dir()
    done = run("clean")
    assert done.returncode == 0 and "Removed" in done.stdout
    assert not (root / ".review-lint-cache").exists()
    assert run("check", ".", "--no-cache").returncode == 0
    assert not (root / ".review-lint-cache").exists()


@pytest.mark.network
def test_a_real_package_gives_identical_findings_in_every_mode(tmp_path, bundled_rules_only):
    """starlette-admin from PyPI: real code nobody here wrote, with cross-file findings (RL002)."""
    downloaded = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(tmp_path / "dl"),
         "starlette-admin==1.0.3"],
        capture_output=True, text=True,
    )
    if downloaded.returncode != 0:
        pytest.skip(f"PyPI not reachable: {downloaded.stderr.strip().splitlines()[-1:]}")
    [wheel] = (tmp_path / "dl").glob("*.whl")
    root = tmp_path / "src"
    zipfile.ZipFile(wheel).extractall(root)
    outcomes = {name: findings(root, c) for name, c in variants(tmp_path / "cache")}
    reference = outcomes["serial, no prefilter"]
    assert len([f for f in reference if f[3] == "RL002"]) == 11  # as triaged in docs/real-world.md
    assert all(outcome == reference for outcome in outcomes.values())


def test_unchanged_project_reuses_verdicts_and_settings_invalidate_them(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("def f(x):\n    assert x\n")
    cache = tmp_path / "cache"
    first = Collector(cache_dir=cache)
    before = findings(root, first)
    second = Collector(cache_dir=cache)
    assert findings(root, second) == before
    assert second.stats.parsed == second.stats.cached == 0, "verdicts reused: facts not even loaded"
    (root / ".review-lint.yaml").write_text("rules:\n  RL900:\n    message: changed\n")
    third = Collector(cache_dir=cache)
    after = findings(root, third)
    assert [f[4] for f in after] == ["changed: x"]
    assert third.stats.cached == 1, "facts reused, verdicts recomputed"


def _counting_judgements(monkeypatch) -> list[int]:
    calls: list[int] = []
    judge_all = Engine._judge_all

    def counted(self, *args):
        calls.append(1)
        return judge_all(self, *args)

    monkeypatch.setattr(Engine, "_judge_all", counted)
    return calls


def test_an_edit_that_leaves_the_facts_as_they_were_keeps_the_verdicts(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("def f(x):\n    assert x\n")
    (root / "n.py").write_text("def g(y):\n    assert y\n")
    cache = tmp_path / "cache"
    judged = _counting_judgements(monkeypatch)
    before = findings(root, Collector(cache_dir=cache))
    assert len(judged) == 1 and len(before) == 2

    (root / "m.py").write_text("def f(x):\n    assert x\n# a comment changes no fact\n")
    commented = Collector(cache_dir=cache)
    assert findings(root, commented) == before
    assert commented.stats.parsed == 1 and len(judged) == 1, "m.py parsed again, its facts equal: no judgement"

    (root / "m.py").write_text("\ndef f(x):\n    assert x\n")  # every line moves: the facts differ
    moved = findings(root, Collector(cache_dir=cache))
    assert len(judged) == 2 and ("m.py", 3) in [(f[0], f[1]) for f in moved]

    (root / "m.py").write_text("def f(x):\n    assert x\n")  # the edit undone: its verdicts are still kept
    assert findings(root, Collector(cache_dir=cache)) == before and len(judged) == 2


def three_handlers(root: Path) -> Path:
    """Three modules, each a route handler that asserts: findings of RL001 and RL900,
    two rules the engine judges in separate processes when it forks."""
    root.mkdir()
    for index in range(3):
        (root / f"m{index}.py").write_text(
            f"from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get('/')\ndef f{index}(x):\n    assert x\n"
        )
    return root


def test_rules_judged_in_a_forked_process_that_dies_are_judged_again_here(tmp_path, monkeypatch):
    root = three_handlers(tmp_path / "proj")
    expected = findings(root, Collector(jobs=1), select=["RL900", "RL001"])
    assert {f[3] for f in expected} == {"RL001", "RL900"}
    monkeypatch.setattr(engine_module, "_judge_in_child", lambda *args: os._exit(3))
    assert findings(root, Collector(jobs=2), select=["RL900", "RL001"]) == expected


def test_a_project_above_the_forked_judging_limit_is_judged_in_one_process(tmp_path, monkeypatch):
    """A forked judge copies most of the facts it reads: a project of more modules than
    the limit is judged in this process alone, with the same findings."""
    root = three_handlers(tmp_path / "proj")
    expected = findings(root, Collector(jobs=1), select=["RL900", "RL001"])
    judging = engine_module.Engine._judge
    noted = tmp_path / "pids"

    def noting(self, code, project, judgements=None):
        with noted.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return judging(self, code, project, judgements)

    monkeypatch.setattr(engine_module.Engine, "_judge", noting)
    for limit, processes in ((3, 2), (2, 1)):  # the project has 3 modules
        monkeypatch.setattr(engine_module, "FORKED_JUDGING_MAX_MODULES", limit)
        noted.write_text("")
        assert findings(root, Collector(jobs=2), select=["RL900", "RL001"]) == expected
        pids = noted.read_text().split()
        assert len(pids) == 2 and len(set(pids)) == processes and str(os.getpid()) in pids, limit


def test_the_forked_judge_never_repeats_output_pending_in_the_parent(tmp_path):
    # An embedder's stdout, block-buffered in a pipe, holds "pending" when the judge
    # forks: a forked child flushing its copy of that buffer would print it twice
    # (multiprocessing flushes the parent's streams before forking; this keeps it so).
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("def f(x):\n    assert x\n")
    script = (
        "import sys\n"
        "from review_lint.collect import Collector\n"
        "from review_lint.engine import Engine, Options\n"
        "sys.stdout.write('pending;')\n"
        f"engine = Engine(Options(paths=[{str(root)!r}], root={str(root)!r}, select=['RL900', 'RL001']))\n"
        "engine.run(source=Collector(jobs=2))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "pending;"


def test_prefiltered_files_still_report_syntax_errors(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "py2.py").write_text('print "hello"\n')  # nothing the prefilter looks for, and not Python 3
    (root / "latin.py").write_bytes(b"# -*- coding: klingon -*-\nx = 1\n")
    (root / "ok.py").write_text('"""Moved to settings."""\n')  # a docstring alone: prefiltered
    collector = Collector(jobs=1)
    reported = findings(root, collector)
    assert [(f[0], f[3]) for f in reported] == [("latin.py", "RL000"), ("py2.py", "RL000")]
    assert collector.stats.prefiltered == 1


def test_a_folder_ignored_by_its_git_checkout_is_walked(tmp_path):
    repo = tmp_path / "repo"
    (repo / "vendor" / "lib").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("vendor/\n")
    (repo / "vendor" / "lib" / ".review-lint.yaml").write_text("")
    (repo / "vendor" / "lib" / "m.py").write_text("def f(x):\n    assert x\n")
    root = repo / "vendor" / "lib"
    engine = Engine(Options(paths=[str(root)]), cwd=root)
    assert [d.path for d in engine.run().diagnostics] == ["m.py"]
