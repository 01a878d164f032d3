#!/usr/bin/env python3
"""Resident memory of a project's decoded facts, and after judging them (not a timed test).

    PYTHONPATH=CHECKOUT python bench/facts_memory.py ROOT CACHE_DIR [--judge]

Gathers ROOT's files through CACHE_DIR (parsing, with two workers, what it lacks),
decodes every file's facts, and with --judge builds the project and runs every rule
in this process, garbage collector off as in the command. Prints the CPU seconds of
decoding and judging, the RSS the decoded facts added, and the peak RSS (VmHWM).

The cache's code fingerprint is pinned to one value, so that two checkouts read the
same warm cache: compare them side by side, one run after the other, on one cache
(their facts must be encoded alike, as they are when only decoding or judging changed).
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import review_lint.collect as collect

collect.code_fingerprint = lambda: "bench/facts_memory.py"


def status(key: str) -> int:
    """A /proc/self/status line in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    raise KeyError(key)


def main() -> None:
    gc.disable()
    from review_lint.engine import Engine, Options

    root, cache = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    engine = Engine(Options(paths=[str(root)], root=str(root)), cwd=root)
    files, _ = engine.files()
    before = status("VmRSS")
    collector = collect.Collector(jobs=2, cache_dir=cache)
    gathered = collector.gather(root, files)
    started = time.process_time()
    facts = gathered.facts()
    decoded = time.process_time() - started
    print(f"{len(files)} files ({collector.stats.parsed} parsed): decoding {decoded:.2f} s CPU, "
          f"decoded facts {status('VmRSS') - before} MB of RSS", flush=True)
    if "--judge" in sys.argv:
        started = time.process_time()
        diagnostics, _ = engine._judge_all(facts, engine.build_project(facts), 1)
        print(f"judging {time.process_time() - started:.2f} s CPU, {len(diagnostics)} findings; "
              f"peak RSS {status('VmHWM')} MB")


if __name__ == "__main__":
    main()
