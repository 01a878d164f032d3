"""A cache is portable: written in one checkout, it serves another checkout of the
same content at another absolute path, another user, a later process (another
string-hash seed), as a CI cache restored on another runner does. Its keys are
the files' content and root-relative paths, the settings and review-lint's own
code; nothing of where or by whom it was written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from multiprocessing import get_context
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONFIG = """\
test-paths: ["tests/**"]
per-file-ignores:
  "workerhub/admin.py": [RL003, RL004, RL002]
rules:
  assert-in-handler:
    severity: error
"""

# Runs one check and says what it took from the cache: the findings, how many files
# were parsed or taken from the cache, and whether the project was judged again.
PROBE = """
import json, sys
from pathlib import Path

root, cache = Path(sys.argv[1]), Path(sys.argv[2])
print(json.dumps(__import__("test_cache_portable").probe(root, cache)))
"""


def probe(root: Path, cache: Path) -> dict:
    from review_lint.collect import Collector
    from review_lint.engine import Engine, Options

    judged = []
    engine = Engine(Options(paths=[str(root)], root=str(root)), cwd=root)
    original = engine._judge_all

    def counting(*args, **kwargs):
        judged.append(1)
        return original(*args, **kwargs)

    engine._judge_all = counting
    collector = Collector(jobs=1, cache_dir=cache, warn=lambda line: judged.append(line))
    result = engine.run(source=collector)
    return {"findings": [[d.path, d.line, d.column, d.rule, d.message] for d in result.diagnostics],
            "parsed": collector.stats.parsed, "cached": collector.stats.cached,
            "judged": sum(1 for j in judged if j == 1), "warnings": [j for j in judged if j != 1]}


def run_probe(root: Path, cache: Path, seed: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "REVIEW_LINT_RULES_PATH"}
    env.update(PYTHONHASHSEED=seed, PYTHONPATH=str(Path(__file__).resolve().parent) + os.pathsep
               + env.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", PROBE, str(root), str(cache)], capture_output=True, text=True,
                          env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def make_project(where: Path) -> Path:
    shutil.copytree(EXAMPLES, where, ignore=shutil.ignore_patterns(".review-lint-cache", "__pycache__"))
    (where / ".review-lint.yaml").write_text(CONFIG)
    return where


def restore(source: Path, target: Path) -> None:
    """Copy as a CI cache restore or a fresh clone does: new files, new mtimes."""
    shutil.copytree(source, target, copy_function=shutil.copyfile)


def cache_bytes(cache: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(cache.iterdir()) if p.is_file())


@pytest.mark.parametrize("where", ["in the project", "beside it"])
def test_a_warmed_project_copied_to_another_path_parses_nothing_and_finds_the_same(tmp_path, where):
    first = make_project(tmp_path / "checkout-a" / "service")
    first_cache = first / ".review-lint-cache" if where == "in the project" else tmp_path / "ci-cache-a"
    warm = run_probe(first, first_cache, seed="1")
    assert warm["parsed"] == 8 and warm["judged"] == 1 and len(warm["findings"]) == 5
    # Nothing in the cache names the checkout, the cache folder or the user.
    stored = cache_bytes(first_cache)
    for absolute in (str(first), str(first_cache), str(tmp_path), os.path.expanduser("~")):
        assert absolute.encode() not in stored, absolute

    second = tmp_path / "elsewhere" / "checkout-b"
    restore(first, second)
    second_cache = second / ".review-lint-cache" if where == "in the project" else tmp_path / "ci-cache-b"
    if where == "beside it":
        restore(first_cache, second_cache)
    shutil.rmtree(first)  # nothing may still point at the first checkout
    shutil.rmtree(first_cache, ignore_errors=True)

    # A later process (another hash seed): the verdicts are reused, nothing is judged.
    again = run_probe(second, second_cache, seed="2")
    assert again == {"findings": warm["findings"], "parsed": 0, "cached": 0, "judged": 0, "warnings": []}
    # Without the verdicts every file's facts come from the cache: none is parsed.
    (second_cache / "verdicts.msgpack").unlink()
    facts_only = run_probe(second, second_cache, seed="3")
    assert facts_only == {"findings": warm["findings"], "parsed": 0, "cached": 8, "judged": 1, "warnings": []}


def _as_another_user(root: str, cache: str, home: str, connection) -> None:
    try:
        os.environ["HOME"] = home
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        connection.send(probe(Path(root), Path(cache)))
    except BaseException as error:  # noqa: BLE001 - reported to the test
        connection.send(repr(error))
    finally:
        connection.close()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to become another user")
def test_another_user_with_another_home_uses_a_cache_written_by_root(tmp_path):
    first = make_project(tmp_path / "a")
    # In this process: it imports everything a warm run needs before the fork (that
    # user cannot read this interpreter's files).
    warm = probe(first, first / ".review-lint-cache")
    assert warm["parsed"] == 8 and warm["warnings"] == []
    # The other user's checkout: theirs (a world-readable folder: pytest's is private),
    # except the restored cache folder, left as root wrote it: readable, not writable.
    base = Path(tempfile.mkdtemp(prefix="review-lint-other-user-"))
    try:
        base.chmod(0o755)
        second = base / "checkout"
        restore(first, second)
        for path in [second, *second.rglob("*")]:
            if ".review-lint-cache" not in path.parts:
                os.chown(path, 65534, 65534)
        (second / ".review-lint-cache" / "verdicts.msgpack").unlink()  # so the facts themselves are used
        home = base / "home"
        home.mkdir()
        os.chown(home, 65534, 65534)
        context = get_context("fork")  # this interpreter's files are not readable by that user: fork, then switch
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_as_another_user, args=(str(second), str(second / ".review-lint-cache"),
                                                               str(home), sender))
        child.start()
        sender.close()
        outcome = receiver.recv()
        child.join()
        # Every file from root's cache; the verdicts could not be saved in root's folder: one warning.
        assert isinstance(outcome, dict), outcome
        assert (outcome["findings"], outcome["parsed"], outcome["cached"], outcome["judged"]) == (
            warm["findings"], 0, 8, 1)
        assert len(outcome["warnings"]) == 1 and outcome["warnings"][0].startswith(
            "review-lint: warning: cannot write the cache in "), outcome["warnings"]
    finally:
        shutil.rmtree(base)
