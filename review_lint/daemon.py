"""`review-lint check --daemon`: one background process per project keeps every module's
facts and the last judgement in memory, as mypy's `dmypy` does, so that a run after an
edit re-extracts the files whose text changed and judges again only what they can
affect (incremental.py), instead of decoding every fact from the cache and judging the
whole project.

The client (the `check` command) lists the project's files and sends them with its
options; the daemon reads every file (a digest says which changed), re-extracts those,
judges, and sends back the diagnostics, which the client reports exactly as an
in-process run would (formats, baselines, --diff-base, --fix). Findings are those of an
in-process run: a file that does not parse is its RL000 and no facts, as in `check`
(the language server, not this, keeps the last good facts of a half-typed buffer).

Safety: the socket lives in a folder only this user can enter (created 0700, refused
if someone else owns it or can write to it); the messages are MessagePack in the
cache's checked envelope (codec.seal), never pickle. The daemon answers a client of
another review-lint version (code, rules) by exiting, and exits after
`IDLE_SECONDS` without a request. It never imports or runs the code it judges.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import os
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .codec import CodecError, dump_judgement, load_judgement, seal, unseal
from .collect import Collector, code_fingerprint
from .diagnostics import Diagnostic
from .engine import Engine, Options
from .incremental import Judgements
from .live import MemoryFacts

IDLE_SECONDS = 30 * 60
START_SECONDS = 20.0  # how long a client waits for a daemon it started to listen
ANSWER_SECONDS = 900.0  # how long a client waits for a judgement (a first load of 10,000 files takes minutes)
_RACY_NS = 2_000_000_000  # a file changed less than 2 s ago is read whatever its stat says
_FRAME = struct.Struct("<Q")
_STAT = struct.Struct("<qqqQ")  # a file's mtime and ctime (ns), size and inode
_DIGEST = 16  # bytes of a file's text's digest
_MAX_FRAME = 1 << 30


class DaemonUnavailable(Exception):
    """Why this run cannot use a daemon (one line; the run then judges in process)."""


# -- where the daemon of a project listens ----------------------------------------------
def private_folder() -> Path:
    """The user's folder for daemon sockets: made 0700, refused when another user owns
    it or could write to it (anyone could then stand in for the daemon)."""
    folder = Path(tempfile.gettempdir()) / f"review-lint-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError as error:
        raise DaemonUnavailable(f"cannot make {folder}: {error.strerror or error}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise DaemonUnavailable(f"{folder} is not a private folder of this user")
    return folder


def socket_path(root: Path) -> Path:
    # A digest of the root, not the root itself: a socket's path has at most ~100 bytes.
    digest = hashlib.blake2b(str(root).encode("utf-8", "surrogateescape"), digest_size=10).hexdigest()
    return private_folder() / f"{digest}.sock"


# -- messages: a length, then sealed MessagePack -------------------------------------
def _send(connection: socket.socket, payload) -> None:
    body = seal(payload)
    connection.sendall(_FRAME.pack(len(body)) + body)


def _receive(connection: socket.socket):
    head = _exactly(connection, _FRAME.size)
    (length,) = _FRAME.unpack(head)
    if length > _MAX_FRAME:
        raise CodecError("a message larger than any judgement")
    return unseal(_exactly(connection, length))


def _exactly(connection: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = connection.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# -- the daemon ------------------------------------------------------------------------
class Session:
    """One project in memory: its facts (MemoryFacts), the digests of the texts they
    were extracted from, and the last judgement (Judgements)."""

    def __init__(self, root: Path, cache_dir: Path | None) -> None:
        self.root = root
        # One thread: the first load may fork its parsing workers.
        self.source = MemoryFacts(Collector(jobs=os.cpu_count() or 1, cache_dir=cache_dir, patch_libcst=True),
                                  keep_last_good=False)
        # path -> its stat (_STAT, absent when it could not be taken) and its text's digest, in one
        # bytes: as a tuple of a tuple of four ints and the digest, 3 MB at 10,000 files.
        self.digests: dict[str, bytes] = {}
        self.judgements = Judgements()
        self.engine: Engine | None = None
        self.settings_key: str | None = None
        self.loaded = False

    def judge(self, cwd: Path, options: Options, files: list[str]) -> tuple[list[Diagnostic], int]:
        engine = Engine(options, cwd=cwd)
        if engine.root != self.root:
            raise ValueError(f"{engine.root} is not this daemon's project ({self.root})")
        key = engine._judgement_settings()
        if self.engine is None or key != self.settings_key:
            # New settings judge everything again (Judgements compares the engine itself).
            self.engine, self.settings_key = engine, key
        self._note_changes(files)
        facts = self.source.gather(self.root, files).facts()
        _, judged = self.engine.judge(facts, 1, self.judgements)
        if not self.loaded:
            self.loaded = True
            gc.collect()
            gc.freeze()  # the facts live as long as the daemon: out of every later collection
        return judged

    def _note_changes(self, files: list[str]) -> None:
        """Name to the facts source every held file whose text is not the one extracted.
        A file is read again only when its stat changed, or when it changed so recently
        that a second write in the same clock tick could leave its stat alike (git's
        "racily clean" files)."""
        held = self.source.held
        now = time.time_ns()
        folder = str(self.root) + os.sep  # joined as strings: 10,976 stats took 91 ms through Path, 34 ms so
        for path in files:
            try:
                info = os.stat(folder + path)
                signature = _STAT.pack(info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)
            except (OSError, struct.error):
                signature = b""
            known = self.digests.get(path)
            if known is not None and signature and known[:_STAT.size] == signature \
                    and now - max(info.st_mtime_ns, info.st_ctime_ns) > _RACY_NS:
                continue
            try:
                data = (self.root / path).read_bytes()
            except OSError:
                data = b"\0unreadable"
            digest = hashlib.blake2b(data, digest_size=_DIGEST).digest()
            if known is None or known[-_DIGEST:] != digest:
                if known is not None or path in held:
                    self.source.changed(path)
            self.digests[path] = signature + digest


def serve(root: Path, cache_dir: Path | None, idle: float = IDLE_SECONDS) -> int:
    """Answer the clients of the project at `root` until idle, stopped, or outdated."""
    path = socket_path(root)
    lock = open(path.with_suffix(".lock"), "a")  # noqa: SIM115 - held for the daemon's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another daemon serves this project
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)
    listener.settimeout(idle)
    session = Session(root, cache_dir)
    fingerprint = code_fingerprint()
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                return 0
            with connection:
                connection.settimeout(None)
                if not _answer(connection, session, fingerprint):
                    return 0
    finally:
        listener.close()
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        lock.close()


def _answer(connection: socket.socket, session: Session, fingerprint: str) -> bool:
    """Answer one request; False when the daemon should exit."""
    try:
        request = _receive(connection)
    except (OSError, ConnectionError, CodecError):
        return True  # a client that went away, or not a client: nothing to answer
    if not isinstance(request, dict):
        return True
    if request.get("stop"):
        _reply(connection, {"stopped": True})
        return False
    if request.get("status"):
        _reply(connection, {"pid": os.getpid(), "root": str(session.root), "files": len(session.source.held),
                            "current": request.get("fingerprint") == fingerprint})
        return True
    if request.get("fingerprint") != fingerprint:
        _reply(connection, {"outdated": True})
        return False  # another version of review-lint: its client starts its own daemon
    try:
        options = Options(paths=list(request["paths"]), config=request["config"], select=list(request["select"]),
                          ignore=list(request["ignore"]))
        judged = session.judge(Path(request["cwd"]), options, list(request["files"]))
    except Exception as error:  # noqa: BLE001 - the client judges in process instead
        _reply(connection, {"error": f"{type(error).__name__}: {error}"})
        return True
    _reply(connection, {"judgement": dump_judgement(judged)})
    # A judgement leaves cycles (a project and the knowledge objects that hold it) that the
    # collector's own runs seldom reach once the facts are frozen: 8 MB a run at 10,000
    # files, for good. A full collection, of what is not frozen, takes 20 ms there, and
    # runs with the client already answered.
    gc.collect()
    return True


def _reply(connection: socket.socket, payload) -> None:
    try:
        _send(connection, payload)
    except OSError:
        pass  # the client went away: it judges in process


# -- the client ------------------------------------------------------------------------
def judge(engine: Engine, files: list[str], cache_dir: Path | None) -> tuple[list[Diagnostic], int]:
    """The judgement of `files` by the project's daemon, started when none runs (or
    one of another review-lint version ran). Raises DaemonUnavailable."""
    request = {
        "fingerprint": code_fingerprint(), "cwd": str(engine.cwd), "paths": list(engine.options.paths),
        "config": engine.options.config, "select": list(engine.options.select),
        "ignore": list(engine.options.ignore), "files": files,
    }
    for _ in range(2):
        reply = _ask(engine.root, request, cache_dir, start=True)
        if reply.get("outdated"):
            _wait_gone(socket_path(engine.root))
            continue
        if "error" in reply:
            raise DaemonUnavailable(f"the daemon failed: {reply['error']}")
        try:
            return load_judgement(reply["judgement"])
        except (KeyError, CodecError) as error:
            raise DaemonUnavailable(f"the daemon's answer is not a judgement: {error}") from None
    raise DaemonUnavailable("the daemon kept answering as another version of review-lint")


def request(root: Path, payload: dict) -> dict | None:
    """Send `payload` to the running daemon of `root`; None when none runs."""
    try:
        return _exchange(socket_path(root), payload)
    except (OSError, ConnectionError):
        return None


def _ask(root: Path, payload: dict, cache_dir: Path | None, start: bool) -> dict:
    path = socket_path(root)
    try:
        return _exchange(path, payload)
    except (OSError, ConnectionError):
        if not start:
            raise DaemonUnavailable("no daemon runs for this project") from None
    _start(root, cache_dir)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            return _exchange(path, payload)
        except (OSError, ConnectionError) as error:
            if time.monotonic() > deadline:
                raise DaemonUnavailable(f"the daemon did not start: {error}") from None
            time.sleep(0.02)


def _exchange(path: Path, payload: dict) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(path))
        connection.settimeout(ANSWER_SECONDS)
        _send(connection, payload)
        try:
            reply = _receive(connection)
        except socket.timeout:
            raise DaemonUnavailable(f"the daemon gave no answer in {ANSWER_SECONDS:.0f} s") from None
        except CodecError as error:
            raise DaemonUnavailable(f"the daemon's answer is damaged: {error}") from None
    if not isinstance(reply, dict):
        raise DaemonUnavailable("the daemon's answer is not a map")
    return reply


def _start(root: Path, cache_dir: Path | None) -> None:
    """Start the daemon of `root`, detached: it outlives this run."""
    log = socket_path(root).with_suffix(".log")
    command = [sys.executable, "-m", "review_lint.daemon", str(root)]
    if cache_dir is not None:
        command.append(str(cache_dir))
    with open(log, "ab") as output:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=output,  # noqa: S603
                         start_new_session=True, cwd=str(root), close_fds=True)


def _wait_gone(path: Path, seconds: float = 5.0) -> None:
    """Wait until an exiting daemon has let go of its socket's lock."""
    deadline = time.monotonic() + seconds
    with open(path.with_suffix(".lock"), "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.02)
                continue
            fcntl.flock(lock, fcntl.LOCK_UN)
            return


def _idle_seconds() -> float:
    """IDLE_SECONDS, or REVIEW_LINT_DAEMON_IDLE (seconds) when set to a positive number."""
    try:
        seconds = float(os.environ.get("REVIEW_LINT_DAEMON_IDLE", ""))
    except ValueError:
        return IDLE_SECONDS
    return seconds if seconds > 0 else IDLE_SECONDS


if __name__ == "__main__":
    sys.exit(serve(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None, _idle_seconds()))
