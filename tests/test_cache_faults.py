"""The cache under faults: many runs sharing it, runs killed while writing it, a
folder that cannot be written. In each case the findings are those of a run
without cache, and the cache left behind is one the next run uses or rebuilds;
each outcome below is exact. (Damaged files: tests/test_cache_security.py.)"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from review_lint import codec, collect
from review_lint.collect import Collector
from review_lint.engine import Engine, Options
from review_lint.facts import LazyText

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TEMPORARY = "*.review-lint-tmp"


@pytest.fixture(autouse=True)
def bundled_rules_only(monkeypatch):
    monkeypatch.delenv("REVIEW_LINT_RULES_PATH", raising=False)


def make_project(where: Path, extra: int = 0) -> Path:
    """The demo service (findings of every rule), plus `extra` handlers of its own."""
    shutil.copytree(EXAMPLES, where, ignore=shutil.ignore_patterns(".review-lint-cache", "__pycache__"))
    if extra:
        (where / "workerhub" / "extra.py").write_text(
            "from .main import app\n\n" + "".join(
                f"@app.get('/extra{i}')\nasync def extra{i}(x: int):\n    assert x > {i}\n    return x\n\n"
                for i in range(extra)))
    return where


def expected(root: Path) -> list[list]:
    """The findings of a run without cache, workers or prefilter."""
    result = Engine(Options(paths=[str(root)], root=str(root)), cwd=root).run()
    return [[d.path, d.line, d.column, d.rule, d.message] for d in result.diagnostics]


def command(root: Path, cache: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "review_lint.cli", "check", ".", "--format", "json", "--cache-dir", str(cache),
            "--jobs", "1", *args]


def findings(out: str) -> list[list]:
    return [[d["path"], d["line"], d["column"], d["rule"], d["message"]] for d in json.loads(out)["diagnostics"]]


def check(root: Path, cache: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(root, cache, *args), cwd=root, capture_output=True, text=True)


def assert_valid(cache: Path) -> None:
    """Both files sealed, of this code's schema, every entry facts; no temporary file left."""
    head, entries = codec.unseal_entries((cache / "facts.msgpack").read_bytes())
    assert head["schema"] == collect.code_fingerprint()
    for blob in entries.values():
        codec.load_facts(blob, LazyText())  # texts left in the files decode as a stand-in, never read here
    assert codec.unseal((cache / "verdicts.msgpack").read_bytes())["schema"] == collect.code_fingerprint()
    assert list(cache.glob(TEMPORARY)) == []


# -- concurrent runs --------------------------------------------------------------
@pytest.mark.parametrize("runs", [2, pytest.param(8, marks=pytest.mark.slow)])
@pytest.mark.parametrize("content", ["same", "different"])
def test_concurrent_runs_on_one_cache_give_right_findings_and_leave_a_valid_cache(tmp_path, runs, content):
    """All started at once on one --cache-dir, twice (an empty cache, then a warm one):
    every run reports exactly the findings of a run without cache, says nothing on
    stderr, and the cache left is sealed and whole. With different content the runs
    prune each other's entries (the cache keeps one project's files): only time is lost."""
    if content == "same":
        roots = [make_project(tmp_path / "project", extra=1)] * runs
    else:
        roots = [make_project(tmp_path / f"project{i}", extra=i) for i in range(runs)]
    wanted = {root: expected(root) for root in set(roots)}
    cache = tmp_path / "shared-cache"
    for _ in range(2):
        processes = [subprocess.Popen(command(root, cache), cwd=root, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for root in roots]
        for root, process in zip(roots, processes):
            out, err = process.communicate()
            assert process.returncode == 1, err
            assert err == ""
            assert findings(out) == wanted[root]
        assert_valid(cache)
    for root in set(roots):  # and each project alone, after them all
        done = check(root, cache)
        assert (findings(done.stdout), done.stderr) == (wanted[root], "")
    assert_valid(cache)


# -- runs killed while writing the cache ----------------------------------------
KILLER = """
import os, signal, sys, tempfile
from review_lint import collect, files

stage, target = sys.argv[1], sys.argv[2]
real = files.write_atomically

def write_and_die(path, content, **kwargs):
    if path.name != target:
        return real(path, content, **kwargs)
    if stage == "after the rename":
        real(path, content, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".review-lint-tmp")
    if not isinstance(content, bytes):  # the facts cache is written as its parts, never joined
        content = b"".join(content)
    if stage == "half written":
        os.write(handle, content[: len(content) // 2])
    elif stage == "written, not renamed":
        os.write(handle, content)
    os.kill(os.getpid(), signal.SIGKILL)

collect.write_atomically = write_and_die
from review_lint.cli import main
main(sys.argv[3:])
"""
STAGES = ["temporary file made", "half written", "written, not renamed", "after the rename"]


@pytest.mark.slow
@pytest.mark.parametrize("target", ["facts.msgpack", "verdicts.msgpack"])
def test_a_run_killed_at_each_point_of_writing_the_cache_never_changes_findings(tmp_path, target):
    """SIGKILL at each point of the write, on an empty cache and on a warm one being
    replaced: the next run says nothing on stderr and reports what a run without
    cache reports; the kill's temporary file is never read, and a later write
    removes it once it is an hour old."""
    root = make_project(tmp_path / "project", extra=1)
    wanted = expected(root)
    for stage in STAGES:
        for warm in (False, True):
            cache = tmp_path / f"cache-{stage}-{warm}".replace(" ", "-").replace(",", "")
            if warm:
                assert check(root, cache).returncode == 1
                (root / "workerhub" / "extra.py").write_text((root / "workerhub" / "extra.py").read_text() + "\n")
            killed = subprocess.run([sys.executable, "-c", KILLER, stage, target, *command(root, cache)[3:]],
                                    cwd=root, capture_output=True, text=True)
            assert killed.returncode == -signal.SIGKILL, (stage, killed.stderr)
            after = check(root, cache)
            assert (findings(after.stdout), after.stderr) == (wanted, ""), (stage, warm)
            leftovers = list(cache.glob(TEMPORARY))
            assert len(leftovers) == (stage != "after the rename"), (stage, leftovers)
            for leftover in leftovers:  # an hour old: the next write removes it
                os.utime(leftover, (time.time() - 7200,) * 2)
            (root / "workerhub" / "extra.py").write_text((root / "workerhub" / "extra.py").read_text() + "\n")
            again = check(root, cache)
            assert (findings(again.stdout), again.stderr) == (wanted, "")
            assert_valid(cache)


@pytest.mark.slow
def test_a_run_killed_at_random_moments_never_changes_findings(tmp_path):
    """A real process tree (two workers) killed with SIGKILL at 6 random moments of a
    run that parses 40 files again, against a cache a previous run filled for other content:
    the next run reports exactly the findings of a run without cache, with nothing on
    stderr, and leaves a valid cache."""
    root = make_project(tmp_path / "project", extra=3)
    for i in range(40):
        (root / "workerhub" / f"generated{i}.py").write_text(
            "".join(f"def function{j}(session, x):\n    row = session.get(Row, x)\n    return row, {i}\n\n"
                    for j in range(30)))
    wanted = expected(root)
    cache = tmp_path / "cache"
    started = time.perf_counter()
    assert check(root, cache, "--jobs", "2").returncode == 1
    duration = time.perf_counter() - started
    moments = random.Random(18).sample(range(1, 100), 6)
    for percent in moments:
        for path in (root / "workerhub").glob("generated*.py"):  # every file changed: all parsed again
            path.write_text(path.read_text() + f"# {percent}\n")
        process = subprocess.Popen(command(root, cache, "--jobs", "2"), cwd=root, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(duration * percent / 100)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        after = check(root, cache, "--jobs", "2")
        assert (findings(after.stdout), after.stderr) == (wanted, ""), percent
        assert_valid_or_temporaries(cache)


def assert_valid_or_temporaries(cache: Path) -> None:
    """Valid, except that a killed write may have left its (never read) temporary file."""
    for leftover in cache.glob(TEMPORARY):
        leftover.unlink()
    assert_valid(cache)


def test_old_temporary_files_are_removed_and_recent_ones_kept(tmp_path):
    root = make_project(tmp_path / "project")
    cache = tmp_path / "cache"
    cache.mkdir()
    old, recent = cache / ".facts.msgpack.abc.review-lint-tmp", cache / ".verdicts.msgpack.def.review-lint-tmp"
    old.write_bytes(b"x" * 100)
    recent.write_bytes(b"y" * 100)  # perhaps a concurrent run's write under way
    os.utime(old, (time.time() - 7200,) * 2)
    Engine(Options(paths=[str(root)], root=str(root)), cwd=root).run(source=Collector(cache_dir=cache))
    assert not old.exists() and recent.exists()


# -- a cache folder that cannot be written -------------------------------------------
def unwritable_warning(cache: Path, reason: str) -> str:
    return f"review-lint: warning: cannot write the cache in {cache}: {reason}; this run's results are not cached"


def test_a_failing_write_warns_once_and_the_run_goes_on(tmp_path, monkeypatch):
    """Both files fail to be written (a full disk, simulated): one line, the findings
    of a run without cache, no temporary file left."""
    root = make_project(tmp_path / "project")
    wanted = expected(root)
    cache = tmp_path / "cache"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)  # what review_lint/files.py renames with
    warned: list[str] = []
    result = Engine(Options(paths=[str(root)], root=str(root)), cwd=root).run(
        source=Collector(cache_dir=cache, warn=warned.append))
    assert [[d.path, d.line, d.column, d.rule, d.message] for d in result.diagnostics] == wanted
    assert warned == [unwritable_warning(cache, "No space left on device")]
    assert [p.name for p in cache.iterdir()] == []


@contextlib.contextmanager
def tmpfs(folder: Path, size: str):
    folder.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _read_only(folder: Path):
    """A read-only folder: a read-only tmpfs for root (whom permissions do not stop), else chmod."""
    if os.geteuid() != 0:
        folder.mkdir()
        folder.chmod(0o555)
        return contextlib.nullcontext(folder)

    @contextlib.contextmanager
    def mounted():
        with tmpfs(folder, "1m"):
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
            yield folder
    return mounted()


def test_a_read_only_cache_folder_degrades_to_no_cache_with_one_warning(tmp_path):
    root = make_project(tmp_path / "project")
    wanted = expected(root)
    with _read_only(tmp_path / "cache") as folder:
        cache = folder / "review-lint"
        reason = "Read-only file system" if os.geteuid() == 0 else "Permission denied"
        for _ in range(2):  # and again: nothing was kept, so nothing changed
            done = check(root, cache)
            assert done.returncode == 1
            assert findings(done.stdout) == wanted
            assert done.stderr.splitlines() == [unwritable_warning(cache, reason)]


def test_a_full_cache_folder_degrades_to_no_cache_with_one_warning(tmp_path):
    root = make_project(tmp_path / "project")
    wanted = expected(root)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the failing write is simulated above)")
    with tmpfs(tmp_path / "small", "64k") as folder:
        cache = folder / "cache"
        cache.mkdir()
        with contextlib.suppress(OSError), open(folder / "filler", "wb") as filler:
            while True:  # fill it
                filler.write(b"\0" * 4096)
                filler.flush()
        done = check(root, cache)
        assert done.returncode == 1
        assert findings(done.stdout) == wanted
        assert done.stderr.splitlines() == [unwritable_warning(cache, "No space left on device")]
        assert sorted(p.name for p in cache.iterdir()) == []  # no temporary file left behind
        (folder / "filler").unlink()  # room again: the next run writes its cache
        done = check(root, cache)
        assert (findings(done.stdout), done.stderr) == (wanted, "")
        assert_valid(cache)
