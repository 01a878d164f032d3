"""Hostile inputs: review-lint never crashes and says exactly what it could not judge.

Each case asserts the user-visible outcome: an RL000 with a clear message (the
run goes on, exit 1) or an RL999 naming the rule and the file (exit 2). The
inputs that once killed the process (LibCST's native parser segfaults on deep
nesting) run in a real subprocess, in every collection mode, so a crash fails
the test instead of the test run.
"""

from __future__ import annotations

import json
import signal
import time
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from review_lint.collect import Collector
from review_lint.engine import Engine, Options
from review_lint.source import MAX_DEPTH, refusal

GOOD = "def handler(x):\n    assert x\n    return x\n"  # one RL900 finding on line 2


def project(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "proj"
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def judge(root: Path, select: str = "RL900", jobs: int = 1) -> dict[str, list[tuple[int, str, str]]]:
    """In-process run: path -> [(line, code, message)]."""
    engine = Engine(Options(paths=[str(root)], select=[select], root=str(root)), cwd=root)
    result = engine.run(source=Collector(jobs=jobs, cache_dir=None))
    found: dict[str, list[tuple[int, str, str]]] = {}
    for d in result.diagnostics:
        found.setdefault(d.path, []).append((d.line, d.rule, d.message))
    return found


def cli(root: Path, *args: str) -> tuple[int, list[dict], str]:
    """The real process; (exit code, diagnostics, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "review_lint.cli", "check", ".", "--select", "RL900", "--format", "json", *args],
        cwd=root, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode in (0, 1, 2), f"crashed with {done.returncode}: {done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)["diagnostics"], done.stderr


# -- deep nesting: refused before LibCST sees it ---------------------------------------------
NESTED = {
    # CPython refuses these itself.
    "brackets-2000": ("x = " + "(" * 2000 + "1" + ")" * 2000 + "\n", "syntax error: too many nested parentheses"),
    "brackets-300": ("x = " + "[" * 300 + "]" * 300 + "\n", "syntax error: too many nested parentheses"),
    "broken-and-deep": ("print 'py2'\nx = " + "(" * 2000 + ")" * 2000 + "\n", "syntax error:"),
    "indentation-150": ("".join("    " * i + "if x:\n" for i in range(150)) + "    " * 150 + "pass\n",
                        "syntax error: too many levels of indentation"),
    "unary-100000": ("x = " + "-" * 100_000 + "1\n", "nesting too deep even for Python's own parser"),
    "binop-50000": ("x = " + " + ".join(["1"] * 50_000) + "\n", "nesting too deep even for Python's own parser"),
    "calls-50000": ("x = f" + "()" * 50_000 + "\n", "nesting too deep even for Python's own parser"),
    "attributes-50000": ("x = a" + ".b" * 50_000 + "\n", "nesting too deep even for Python's own parser"),
    "subscripts-50000": ("x = a" + "[0]" * 50_000 + "\n", "nesting too deep even for Python's own parser"),
    # CPython accepts these; LibCST crashes or takes minutes, so review-lint stops at MAX_DEPTH.
    "not-5000": ("x = " + "not " * 5000 + "1\n", "nesting too deep to analyse (5003 levels"),
    "unary-5000": ("x = " + "-" * 5000 + "1\n", "nesting too deep to analyse (5003 levels"),
    "and-50000": ("x = " + " and ".join(["a"] * 50_000) + "\n", "nesting too deep to analyse (50004 levels"),
    "ifexp-3000": ("x = " + "1 if y else " * 3000 + "2\n", "nesting too deep to analyse (3004 levels"),
    "unary-over-lines": ("x = (\n" + "-\n" * 3000 + "1)\n", "nesting too deep to analyse (3003 levels"),
    "continued-lines": ("x = \\\n" + "- \\\n" * 3000 + "1\n", "nesting too deep"),
}


@pytest.mark.parametrize("name", sorted(NESTED))
def test_deep_nesting_is_refused_before_libcst(name):
    source, message = NESTED[name]
    refused = refusal("f()\n" + source)
    assert refused is not None and refused[0].startswith(message), refused


@pytest.mark.parametrize("jobs", ["1", "4"])
def test_deep_nesting_never_crashes_the_process_in_any_mode(tmp_path, jobs):
    # 40 small files so that --jobs 4 really uses worker processes.
    files: dict[str, str | bytes] = {f"pkg/m{i}.py": GOOD for i in range(40)}
    files.update({f"deep/{name.replace('-', '_')}.py": "f()\n" + source for name, (source, _) in NESTED.items()})
    root = project(tmp_path, files)
    for cache in ("--no-cache", None, None):  # cold, then writing the cache, then reading it
        code, diagnostics, _ = cli(root, "--jobs", jobs, *([cache] if cache else []))
        assert code == 1
        refused = {d["path"]: d for d in diagnostics if d["rule"] == "RL000"}
        assert set(refused) == {f"deep/{name.replace('-', '_')}.py" for name in NESTED}
        for name, (_, message) in NESTED.items():
            assert message in refused[f"deep/{name.replace('-', '_')}.py"]["message"]
        assert sum(d["rule"] == "RL900" for d in diagnostics) == 40  # the rest was judged


def test_real_nesting_is_not_refused():
    # Ordinary deep-ish code, long lines and long literals pass the guard.
    assert refusal("x = " + "(" * 50 + "1" + ")" * 50 + "\n") is None
    assert refusal("x = [\n" + "".join(f"    {i},\n" for i in range(5000)) + "]\n") is None
    assert refusal("x = '" + "y" * 10_000 + "'\n") is None
    assert refusal("x = " + "-" * (MAX_DEPTH - 10) + "1\n") is None


def test_pydoc_topics_is_judged(tmp_path):
    # 15,711 lines, one dict of concatenated strings: LibCST's metadata providers
    # raise RecursionError on it; the hand-rolled walk judges it.
    topics = Path(sysconfig.get_paths()["stdlib"]) / "pydoc_data" / "topics.py"
    root = project(tmp_path, {"topics.py": topics.read_bytes(), "app.py": GOOD})
    assert judge(root) == {"app.py": [(2, "RL900", "assert statement: x")]}


def test_a_20_megabyte_file_is_judged(tmp_path):
    # Generated data embedded as one literal: 20 MB, judged in seconds.
    rows = "".join(f"row {i:08d} of generated data, forty bytes\n" for i in range(460_000))
    big = 'DATA = """\n' + rows + '"""\n' + GOOD
    assert len(big) > 20_000_000
    root = project(tmp_path, {"big.py": big, "app.py": GOOD})
    assert judge(root) == {"app.py": [(2, "RL900", "assert statement: x")],
                           "big.py": [(460_004, "RL900", "assert statement: x")]}


@pytest.mark.skipif(not os.environ.get("REVIEW_LINT_SLOW"), reason="minutes: set REVIEW_LINT_SLOW=1")
@pytest.mark.parametrize("shape", ["table", "functions"])
def test_a_20_megabyte_file_of_code_is_judged(tmp_path, shape):
    if shape == "table":
        body = "TABLE = {\n" + "".join(f"    'key{i:07d}': 'value {i:07d} ' * 2,\n" for i in range(520_000)) + "}\n"
    else:
        body = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(600_000))
    assert len(body) > 20_000_000
    root = project(tmp_path, {"big.py": body + GOOD})
    [(line, code, _)] = judge(root)["big.py"]
    assert (line, code) == (body.count("\n") + 2, "RL900")


# -- bytes and text ------------------------------------------------------------------------
def test_nul_byte_is_rl000(tmp_path):
    root = project(tmp_path, {"nul.py": b"x = 1\ny = '\x00'\n", "app.py": GOOD})
    found = judge(root)
    assert found["nul.py"] == [(2, "RL000", "source contains a NUL byte")]
    assert found["app.py"] == [(2, "RL900", "assert statement: x")]


def test_mixed_line_endings_and_form_feeds_are_judged_on_the_right_lines(tmp_path):
    source = b"import os\r\n\x0c\ndef a(x):\r    assert x\n\x0c\r\ndef b(y):\r\n    assert y\r\n"
    root = project(tmp_path, {"mixed.py": source})
    assert [(line, code) for line, code, _ in judge(root)["mixed.py"]] == [(4, "RL900"), (7, "RL900")]


def test_inconsistent_tabs_and_spaces_are_rl000(tmp_path):
    source = "f()\nif x:\n\tpass\n        pass\n"
    # Python accepts this one (consistent at tab sizes 1 and 8) but LibCST's tokenizer does not.
    libcst_only = "f()\ndef a(x):\n\tif x:\n        \tassert x\n"
    root = project(tmp_path, {"tabs.py": source, "libcst.py": libcst_only, "app.py": GOOD})
    found = judge(root)
    assert found["tabs.py"] == [(4, "RL000", "syntax error: inconsistent use of tabs and spaces in indentation")]
    assert found["libcst.py"] == [
        (1, "RL000", "LibCST cannot parse this file, which Python accepts: tokenizer error: no matching outer block for dedent")
    ]
    assert found["app.py"]


def test_consistent_tabs_are_judged(tmp_path):
    root = project(tmp_path, {"tabs.py": "def a(x):\n\tif x:\n\t\tassert x\n"})
    assert judge(root) == {"tabs.py": [(3, "RL900", "assert statement: x")]}


def test_python2_syntax_is_rl000(tmp_path):
    root = project(tmp_path, {"old.py": "f()\nprint 'hello'\nexec code in ns\n", "app.py": GOOD})
    found = judge(root)
    assert found["old.py"] == [
        (2, "RL000", "syntax error: Missing parentheses in call to 'print'. Did you mean print(...)?")
    ]
    assert found["app.py"]


def test_undecodable_file_is_rl000(tmp_path):
    root = project(tmp_path, {"latin.py": b"f()\ny = '\xe9'\n", "app.py": GOOD})
    found = judge(root)
    [(line, code, message)] = found["latin.py"]
    assert (line, code) == (2, "RL000") and message.startswith("cannot decode the file: 'utf-8' codec")


def test_empty_file_and_comments_only_file_are_clean(tmp_path):
    root = project(tmp_path, {"empty.py": "", "comments.py": "# just\n# comments\n", "blank.py": "\n\n\n"})
    assert judge(root) == {}
    code, diagnostics, _ = cli(root, "--jobs", "1")
    assert (code, diagnostics) == (0, [])


# -- the file system ------------------------------------------------------------------------
def test_a_file_that_vanishes_between_discovery_and_reading_is_rl000(tmp_path):
    root = project(tmp_path, {"gone.py": GOOD, "app.py": GOOD})
    engine = Engine(Options(paths=[str(root)], select=["RL900"], root=str(root)), cwd=root)

    class Vanishing(Collector):
        def gather(self, base, files):
            (root / "gone.py").unlink()  # discovery is done; the file is not read yet
            return super().gather(base, files)

    found = {(d.path, d.rule, d.message) for d in engine.run(source=Vanishing(jobs=1, cache_dir=None)).diagnostics}
    assert found == {
        ("gone.py", "RL000", "cannot read the file: No such file or directory"),
        ("app.py", "RL900", "assert statement: x"),
    }


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_rl000(tmp_path):
    root = project(tmp_path, {"secret.py": GOOD, "app.py": GOOD})
    (root / "secret.py").chmod(0)
    try:
        assert judge(root)["secret.py"] == [(1, "RL000", "cannot read the file: Permission denied")]
    finally:
        (root / "secret.py").chmod(0o644)


def test_a_file_that_becomes_unreadable_after_discovery_is_rl000(tmp_path, monkeypatch):
    # Works as root too: the read itself is made to fail the way chmod 000 makes it fail.
    root = project(tmp_path, {"secret.py": GOOD, "app.py": GOOD})
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    found = judge(root)
    assert found["secret.py"] == [(1, "RL000", "cannot read the file: Permission denied")]
    assert found["app.py"] == [(2, "RL900", "assert statement: x")]


def test_symlink_loop_directory_named_like_a_module_and_dangling_links(tmp_path):
    root = project(tmp_path, {"app.py": GOOD})
    os.symlink("loop", root / "loop")  # a link to itself
    os.symlink(".", root / "again")  # a link to its own folder
    os.symlink("missing.py", root / "dangling.py")
    (root / "x.py").mkdir()  # a directory named like a module
    (root / "x.py" / "inner.py").write_text(GOOD)
    code, diagnostics, stderr = cli(root, "--jobs", "1")
    assert code == 1, stderr
    assert {(d["path"], d["rule"]) for d in diagnostics} == {("app.py", "RL900"), ("x.py/inner.py", "RL900")}


def test_non_utf8_file_names(tmp_path):
    root = project(tmp_path, {"app.py": GOOD})
    name = os.fsencode(str(root)) + b"/caf\xe9.py"
    with open(name, "wb") as stream:
        stream.write(GOOD.encode())
    done = subprocess.run([sys.executable, "-m", "review_lint.cli", "check", ".", "--select", "RL900", "--jobs", "1"],
                          cwd=root, capture_output=True, timeout=300)
    assert done.returncode == 1, done.stderr
    # The name is printed as the file system holds it, byte for byte, like `ls` does.
    assert done.stdout.splitlines()[:2] == [
        b"app.py:2:5: RL900 [any-assert] assert statement: x",
        b"caf\xe9.py:2:5: RL900 [any-assert] assert statement: x",
    ]


# -- fault isolation in phase 2 ----------------------------------------------------------------
RULE_YAML = """\
code: RL901
name: fragile
summary: Fails on modules named boom.
severity: error
enabled: true
docs:
  what-it-does: Tests fault isolation.
"""
RULE_MODULE = """\
from review_lint.diagnostics import Finding
from review_lint.rule import Rule


class Fragile(Rule):
    code = "RL901"
    name = "fragile"

    def check(self, project):
        yield from self.per_module(project.all_modules, self.judge)

    def judge(self, module):
        for function in module.facts.functions:
            for fact in function.asserts:
                yield Finding(module.path, fact.span, "fragile saw an assert")
                if module.path.endswith("boom.py"):
                    raise KeyError("no such model: 'boom'")


RULE = Fragile
"""
WHOLE_RULE_MODULE = """\
from review_lint.rule import Rule


class Broken(Rule):
    code = "RL901"
    name = "fragile"

    def check(self, project):
        raise ValueError("broken beyond repair")
        yield


RULE = Broken
"""


def fragile_rule(tmp_path: Path, monkeypatch, module: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "RL901-fragile.yaml").write_text(RULE_YAML)
    (rules / "rl901_fragile.py").write_text(module)
    tests_rules = Path(__file__).resolve().parent / "engine_rules"
    monkeypatch.setenv("REVIEW_LINT_RULES_PATH", os.pathsep.join([str(tests_rules), str(rules)]))


@pytest.mark.parametrize("jobs", ["1", "2"])  # with 2, RL900 is judged in a forked process
def test_a_rule_failing_on_one_module_loses_only_that_module(tmp_path, monkeypatch, jobs):
    fragile_rule(tmp_path, monkeypatch, RULE_MODULE)
    root = project(tmp_path, {"a.py": GOOD, "boom.py": GOOD, "c.py": GOOD})
    code, diagnostics, _ = cli(root, "--select", "RL900,RL901", "--jobs", jobs)
    assert code == 2
    seen = sorted((d["path"], d["rule"], d["message"]) for d in diagnostics)
    assert seen == [
        ("a.py", "RL900", "assert statement: x"),
        ("a.py", "RL901", "fragile saw an assert"),
        ("boom.py", "RL900", "assert statement: x"),
        ("boom.py", "RL999", "rule RL901 (fragile) failed on this file: KeyError: \"no such model: 'boom'\""),
        ("c.py", "RL900", "assert statement: x"),
        ("c.py", "RL901", "fragile saw an assert"),
    ]


def test_the_traceback_only_with_verbose(tmp_path, monkeypatch):
    fragile_rule(tmp_path, monkeypatch, RULE_MODULE)
    root = project(tmp_path, {"boom.py": GOOD})
    _, quiet, _ = cli(root, "--select", "RL901", "--jobs", "1")
    _, verbose, _ = cli(root, "--select", "RL901", "--jobs", "1", "--verbose")
    [quiet_error] = [d["message"] for d in quiet if d["rule"] == "RL999"]
    [verbose_error] = [d["message"] for d in verbose if d["rule"] == "RL999"]
    assert "Traceback" not in quiet_error and "\n" not in quiet_error
    assert verbose_error.startswith(quiet_error + "\nTraceback (most recent call last):")
    assert 'raise KeyError("no such model' in verbose_error


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rule_failing_as_a_whole_is_one_rl999_and_the_others_go_on(tmp_path, monkeypatch, jobs):
    fragile_rule(tmp_path, monkeypatch, WHOLE_RULE_MODULE)
    root = project(tmp_path, {"a.py": GOOD})
    code, diagnostics, _ = cli(root, "--select", "RL901,RL900", "--jobs", jobs)
    assert code == 2
    assert sorted((d["path"], d["rule"], d["message"]) for d in diagnostics) == [
        ("a.py", "RL900", "assert statement: x"),
        ("a.py", "RL999", "rule RL901 (fragile) failed: ValueError: broken beyond repair"),
    ]


def test_per_module_is_optional_for_rules():
    # A rule that never calls per_module (or overrides __init__ without super) still works.
    from review_lint.rule import Rule

    class Plain(Rule):
        code, name = "RL9", "plain"

        def __init__(self, options):  # no super().__init__
            self.options = options

    assert Plain({}).module_failures == []


# -- --fix: an interrupted run leaves every file old or new, never mixed -------------------------
FIXABLE = '''from fastapi import APIRouter

router = APIRouter()


@router.get("/items/{item_id}")
def read_item(item_id: int):
    item = find(item_id)
    assert item is not None, "no such item"
    return item


def find(item_id):
    return {"id": item_id}
'''


def fix_project(tmp_path: Path, count: int) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """A project of `count` fixable files: (root, old bytes, new bytes) by path."""
    files = {f"app/h{i:02d}.py": FIXABLE.replace("/items/", f"/items{i}/") for i in range(count)}
    reference = project(tmp_path / "reference", files)
    done = subprocess.run([sys.executable, "-m", "review_lint.cli", "check", ".", "--select", "RL001", "--fix",
                           "--no-cache"], cwd=reference, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    new = {name: (reference / name).read_bytes() for name in files}
    old = {name: content.encode() for name, content in files.items()}
    assert all(new[name] != old[name] for name in files)
    return project(tmp_path / "work", files), old, new


def test_a_fix_interrupted_in_process_leaves_each_file_old_or_new(tmp_path, monkeypatch):
    from review_lint import fixer

    root, old, new = fix_project(tmp_path, 6)
    engine = Engine(Options(paths=[str(root)], select=["RL001"], root=str(root)), cwd=root)
    result = engine.run(source=Collector(jobs=1, cache_dir=None))
    real_replace, calls = os.replace, []

    def replace(source, target):
        calls.append(target)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C between two files' renames
        real_replace(source, target)

    monkeypatch.setattr(fixer.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        fixer.apply_fixes(result, write=True)
    states = {name: (root / name).read_bytes() for name in old}
    assert sum(states[n] == new[n] for n in old) == 2
    assert sum(states[n] == old[n] for n in old) == 4
    assert not [p for p in (root / "app").iterdir() if "review-lint-tmp" in p.name]  # temporary files removed


@pytest.mark.slow
def test_a_fix_killed_at_any_moment_leaves_each_file_old_or_new(tmp_path):
    import signal
    import time

    root, old, new = fix_project(tmp_path, 30)
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6, 2.2):
        for name, content in old.items():
            (root / name).write_bytes(content)
        process = subprocess.Popen([sys.executable, "-m", "review_lint.cli", "check", ".", "--select", "RL001",
                                    "--fix", "--no-cache", "--jobs", "1"], cwd=root,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for name in old:
            content = (root / name).read_bytes()
            assert content in (old[name], new[name]), f"{name} is neither old nor new after a kill at {delay}s"


def test_python_warnings_about_user_code_are_not_printed(tmp_path):
    # A long line sends the file through CPython's parser, which warns about `1(2)`.
    root = project(tmp_path, {"w.py": "x = 1(2)\ny = [" + ", ".join(['"aaaaaaaaaa"'] * 200) + "]\n"})
    code, diagnostics, stderr = cli(root, "--jobs", "1", "--no-cache")
    assert (code, diagnostics, stderr) == (0, [], "")


# -- Ctrl-C: one line and exit 2, from whichever process was busy -----------------------------------


def _interrupted(root: Path, delay: float, *args: str) -> subprocess.CompletedProcess:
    import signal
    import time

    # As a terminal starts it: SIGINT at its default even when this test runs in a
    # background job (where the shell ignores SIGINT, and the ignoring is inherited).
    process = subprocess.Popen([sys.executable, "-m", "review_lint.cli", "check", ".", "-q", *args], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends to the whole foreground group
    out, err = process.communicate(timeout=60)
    for _ in range(100):  # every worker stopped with it
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("processes of the interrupted run are still running")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.slow
def test_ctrl_c_in_a_cold_or_warm_run_prints_one_line_and_leaves_no_process(tmp_path):
    # Big enough that two workers are still parsing after a second. (A signal within
    # the interpreter's first 0.1 s, while it imports, gets Python's own traceback.)
    body = "".join(f"def f{i}(session, x):\n    assert x\n    return session.get(Row, x)\n\n" for i in range(1500))
    root = project(tmp_path, {f"pkg/m{n}.py": body for n in range(8)})
    outcomes = []
    for delay in (0.3, 1.0):  # cold: while the workers import LibCST, then while they parse
        outcomes.append(_interrupted(root, delay, "--no-cache", "--jobs", "2"))
    subprocess.run([sys.executable, "-m", "review_lint.cli", "check", ".", "-q", "--jobs", "2"], cwd=root,
                   capture_output=True, timeout=300)
    for delay in (0.2, 0.4, 0.7):  # warm, one file changed: the helper, the loading, the judging
        (root / "pkg" / "m3.py").write_text(body + f"def g{delay * 10:.0f}(x):\n    assert x\n")
        outcomes.append(_interrupted(root, delay, "--jobs", "2"))
    assert any(done.returncode == 2 for done in outcomes), [(d.returncode, d.stderr[-300:]) for d in outcomes]  # most were interrupted, not finished
    for done in outcomes:
        assert done.returncode in (1, 2), done.stderr  # 1: finished before the signal
        if done.returncode == 2:
            assert done.stderr.strip() == "review-lint: aborted", done.stderr


SLOW_CLICK = '''
import importlib, os, sys, time
time.sleep(5)  # the command is still importing when Ctrl-C comes
sys.path.remove(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
del sys.modules["click"]
sys.modules["click"] = importlib.import_module("click")
'''


@pytest.mark.parametrize("module", ["review_lint", "review_lint.cli"])
def test_ctrl_c_while_the_command_is_still_importing_is_one_line_too(tmp_path, module):
    # A stand-in for a slow import (a cold disk, a loaded machine): click takes 5 s.
    shim = tmp_path / "shim" / "click"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text(SLOW_CLICK)
    root = project(tmp_path, {"app.py": "x = 1\n"})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "shim"), *sys.path])}
    process = subprocess.Popen([sys.executable, "-m", module, "check", "."], cwd=root, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(1.5)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (2, "", "review-lint: aborted\n")
