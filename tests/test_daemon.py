"""`review-lint check --daemon`: the project's background process gives the findings an
in-process run gives, edit after edit, and never stands in the way of a run (one without
a usable daemon judges in process after one warning line)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.test_cli import make_project

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="the daemon listens on a Unix socket")

VIEWS = '''from fastapi import APIRouter

from app.helpers import load

router = APIRouter()


@router.get("/orders/{order_id}")
async def show_order(order_id: int):
    return load(order_id)
'''
VIEWS_WITHOUT_THE_CALL = VIEWS.replace("return load(order_id)", "return {'id': order_id}")
HELPERS = 'def load(order_id):\n    return {"id": order_id}\n'
HELPERS_WITH_ASSERT = 'def load(order_id):\n    assert order_id > 0, "positive"\n    return {"id": order_id}\n'


@pytest.fixture
def project(tmp_path):
    """A two-module service, and an environment whose daemons live in a private temporary
    folder of their own (a short path: a socket's has about 100 bytes), stopped afterwards."""
    root = make_project(tmp_path, {"app/__init__.py": "", "app/views.py": VIEWS, "app/helpers.py": HELPERS})
    run_dir = Path(tempfile.mkdtemp(prefix="rl", dir="/tmp"))
    env = dict(os.environ, TMPDIR=str(run_dir), REVIEW_LINT_DAEMON_IDLE="120")
    env.pop("REVIEW_LINT_DAEMON", None)
    yield root, env
    cli(["daemon", "stop", "."], root, env)
    shutil.rmtree(run_dir, ignore_errors=True)


def cli(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "review_lint.cli", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)


def findings(root: Path, env: dict, *extra: str, daemon: bool) -> tuple[int, list[tuple]]:
    done = cli(["check", ".", "--format", "json", *extra, *(["--daemon"] if daemon else [])], root, env)
    assert done.returncode in (0, 1), done.stderr
    if daemon:
        assert "judging in this process" not in done.stderr, done.stderr
    found = json.loads(done.stdout)["diagnostics"]
    return done.returncode, [(d["path"], d["line"], d["rule"], d["message"]) for d in found]


def daemon_pid(root: Path, env: dict) -> int | None:
    done = cli(["daemon", "status", "."], root, env)
    return int(done.stdout.split()[1]) if done.returncode == 0 else None


def assert_a_new_daemon_answers(root: Path, env: dict, first: int) -> None:
    """After an edit, the next run's findings are an in-process run's, from a daemon other than `first`."""
    (root / "app/helpers.py").write_text(HELPERS_WITH_ASSERT)
    assert findings(root, env, daemon=True) == findings(root, env, daemon=False)
    second = daemon_pid(root, env)
    assert second is not None and second != first


def test_the_daemon_reports_what_an_in_process_run_reports_after_each_edit(project):
    root, env = project
    helpers, views = root / "app/helpers.py", root / "app/views.py"
    assert findings(root, env, daemon=True) == findings(root, env, daemon=False) == (0, [])
    pid = daemon_pid(root, env)
    assert pid is not None

    helpers.write_text(HELPERS_WITH_ASSERT)  # the helper a handler calls now asserts
    code, found = findings(root, env, daemon=True)
    assert (code, found) == findings(root, env, daemon=False)
    rl001 = [(path, line, message) for path, line, rule, message in found if rule == "RL001"]
    assert [(path, line) for path, line, _ in rl001] == [("app/helpers.py", 2)]
    assert "show_order" in rl001[0][2]

    views.write_text(VIEWS_WITHOUT_THE_CALL)  # no handler reaches it any more
    code, found = findings(root, env, daemon=True)
    assert (code, found) == findings(root, env, daemon=False)
    assert "RL001" not in [rule for _, _, rule, _ in found]

    views.write_text(VIEWS)
    helpers.write_text("def load(order_id:\n")  # does not parse: its RL000, as in process
    code, found = findings(root, env, daemon=True)
    assert (code, found) == findings(root, env, daemon=False)
    assert [(path, rule) for path, _, rule, _ in found] == [("app/helpers.py", "RL000")]

    helpers.write_text(HELPERS_WITH_ASSERT)
    assert findings(root, env, "--select", "RL003", daemon=True) == (0, [])  # other settings, judged anew
    assert findings(root, env, daemon=True) == findings(root, env, daemon=False)
    assert daemon_pid(root, env) == pid  # one daemon answered every run


def test_a_daemon_of_another_version_is_replaced(project):
    root, env = project
    findings(root, env, daemon=True)
    first = daemon_pid(root, env)
    ask = ("import sys; from pathlib import Path; from review_lint import daemon; "
           "print(daemon.request(Path(sys.argv[1]), {'fingerprint': 'another version'}))")
    done = subprocess.run([sys.executable, "-c", ask, str(root.resolve())], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "{'outdated': True}", done.stderr
    assert_a_new_daemon_answers(root, env, first)


def test_a_message_that_is_not_a_request_leaves_the_daemon_serving(project):
    root, env = project
    findings(root, env, daemon=True)
    pid = daemon_pid(root, env)
    folder = Path(env["TMPDIR"]) / f"review-lint-{os.getuid()}"
    (sock,) = folder.glob("*.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(sock))
        connection.sendall(b"\x10\x00\x00\x00\x00\x00\x00\x00cos\nsystem\n(S'x'\ntR.")  # a pickle, framed
    (root / "app/helpers.py").write_text(HELPERS_WITH_ASSERT)
    assert findings(root, env, daemon=True) == findings(root, env, daemon=False)
    assert daemon_pid(root, env) == pid


def test_a_folder_others_can_write_is_refused_and_the_run_judges_in_process(project):
    root, env = project
    folder = Path(env["TMPDIR"]) / f"review-lint-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o777)
    (root / "app/helpers.py").write_text(HELPERS_WITH_ASSERT)
    done = cli(["check", ".", "--format", "json", "--daemon"], root, env)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("review-lint: warning")]
    assert warnings == [f"review-lint: warning: {folder} is not a private folder of this user; judging in this process"]
    assert done.returncode == 1
    assert "RL001" in [d["rule"] for d in json.loads(done.stdout)["diagnostics"]]
    assert not list(folder.iterdir())  # no socket made there


def test_stop_ends_the_daemon(project):
    root, env = project
    findings(root, env, daemon=True)
    assert daemon_pid(root, env) is not None
    assert cli(["daemon", "stop", "."], root, env).stdout.startswith("Stopped the daemon of ")
    assert daemon_pid(root, env) is None
    assert cli(["daemon", "status", "."], root, env).stdout.startswith("No daemon for ")


def test_a_killed_daemon_is_replaced_by_the_next_run(project):
    root, env = project
    findings(root, env, daemon=True)
    first = daemon_pid(root, env)
    os.kill(first, 9)  # its socket file stays behind, and nothing answers on it
    for _ in range(100):
        try:
            os.kill(first, 0)
        except ProcessLookupError:
            break
        try:
            os.waitpid(first, os.WNOHANG)  # not our child: only a zombie check
        except ChildProcessError:
            pass
        time.sleep(0.05)
    assert_a_new_daemon_answers(root, env, first)


def test_two_runs_starting_the_daemon_at_once_are_both_answered(project):
    root, env = project
    (root / "app/helpers.py").write_text(HELPERS_WITH_ASSERT)
    command = [sys.executable, "-m", "review_lint.cli", "check", ".", "--format", "json", "--daemon"]
    runs = [subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    expected = findings(root, env, daemon=False)[1]
    for (out, err), run in zip(outputs, runs):
        assert run.returncode == 1 and "judging in this process" not in err, err
        assert [(d["path"], d["line"], d["rule"], d["message"]) for d in json.loads(out)["diagnostics"]] == expected
    folder = Path(env["TMPDIR"]) / f"review-lint-{os.getuid()}"
    assert len(list(folder.glob("*.sock"))) == 1
    assert daemon_pid(root, env) is not None
    # The daemon the second run started found the lock taken and exited.
    for _ in range(100):
        if len(daemons_of(root)) == 1:
            break
        time.sleep(0.05)
    assert daemons_of(root) == [daemon_pid(root, env)]


def daemons_of(root: Path) -> list[int]:
    """The daemon processes serving `root` (from /proc: the daemons are no children of ours)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"review_lint.daemon" in command and str(root.resolve()).encode() in command:
            found.append(int(entry.name))
    return found


def test_an_answered_judgement_leaves_no_garbage_behind(tmp_path, monkeypatch):
    """A judgement leaves cycles (a project and the knowledge objects holding it) that the
    collector's own runs seldom reach in a daemon whose facts are frozen: collected once
    the client is answered, they cannot pile up edit after edit (8 MB a run at 10,000 files)."""
    import gc

    from review_lint import daemon
    from review_lint.codec import load_judgement
    from review_lint.collect import code_fingerprint

    monkeypatch.delenv("REVIEW_LINT_RULES_PATH", raising=False)  # the bundled rules alone
    root = make_project(tmp_path, {"app/__init__.py": "", "app/views.py": VIEWS, "app/helpers.py": HELPERS}).resolve()
    session = daemon.Session(root, None)
    request = {"fingerprint": code_fingerprint(), "cwd": str(root), "paths": ["."], "config": None, "select": [],
               "ignore": [], "files": ["app/__init__.py", "app/helpers.py", "app/views.py"]}

    def answer() -> list:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            daemon._send(ours, request)
            assert daemon._answer(theirs, session, code_fingerprint())
            found, _ = load_judgement(daemon._receive(ours)["judgement"])
        return [(d.path, d.rule) for d in found]

    try:
        assert answer() == []
        (root / "app/helpers.py").write_text(HELPERS_WITH_ASSERT)
        time.sleep(0.01)
        gc.collect()
        assert answer() == [("app/helpers.py", "RL001")]
        assert gc.collect() == 0
    finally:
        gc.unfreeze()  # the session froze the test process's objects with its facts
