#!/usr/bin/env python3
"""The daemon's memory over many edits, in this process (not a timed test).

    PYTHONPATH=CHECKOUT python bench/daemon_memory.py ROOT CACHE_DIR [--edits 60]

Loads ROOT into a daemon session (daemon.Session, as `check --daemon` does), then
appends a function to one file at a time (spread over the project in path order),
answers a request, restores the file and answers again, as the daemon's socket loop
would (daemon._answer, over a socket pair, so that its work after the reply runs
too). Prints the RSS and the session's CPU after each pair: a long-lived daemon's
memory should stay flat. The cache's code fingerprint is pinned (see facts_memory.py).
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

import review_lint.collect as collect

collect.code_fingerprint = lambda: "bench/daemon_memory.py"
FUNCTION = b"\n\ndef _touched_by_the_benchmark():\n    return 1\n"


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise KeyError("VmRSS")


def main() -> None:
    from review_lint import daemon
    from review_lint.engine import Engine, Options

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("cache_dir", type=Path)
    parser.add_argument("--edits", type=int, default=60)
    args = parser.parse_args()
    root = args.root.resolve()
    session = daemon.Session(root, args.cache_dir.resolve())

    def answer() -> None:
        files, _ = Engine(Options(paths=["."]), cwd=root).files()
        request = {"fingerprint": collect.code_fingerprint(), "cwd": str(root), "paths": ["."], "config": None,
                   "select": [], "ignore": [], "files": files}
        ours, theirs = socket.socketpair()
        replies = []

        def client() -> None:  # apart: a request or a reply can be larger than the pair's buffers
            daemon._send(ours, request)
            replies.append(daemon._receive(ours))

        with ours, theirs:
            asking = threading.Thread(target=client)
            asking.start()
            daemon._answer(theirs, session, collect.code_fingerprint())
            asking.join()
        reply = replies[0] if replies else {}
        if "judgement" not in reply:
            raise SystemExit(f"the session did not judge: {reply}")

    started = time.process_time()
    answer()
    print(f"loaded: {time.process_time() - started:.1f} s CPU, RSS {rss()} MB", flush=True)
    files, _ = Engine(Options(paths=["."]), cwd=root).files()
    step = max(1, len(files) // args.edits)
    for number, relative in enumerate(sorted(files)[::step][: args.edits], 1):
        path = root / relative
        text = path.read_bytes()
        started = time.process_time()
        try:
            path.write_bytes(text + FUNCTION)
            answer()
        finally:
            path.write_bytes(text)
        answer()
        print(f"{number:3} {relative}: {(time.process_time() - started) * 1000:.0f} ms CPU for both, RSS {rss()} MB",
              flush=True)


if __name__ == "__main__":
    main()
