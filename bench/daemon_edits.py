#!/usr/bin/env python3
"""`review-lint check --daemon` after edits, on a real corpus (not a timed test).

    python bench/daemon_edits.py --corpus ~/.cache/review-lint-scale/tree-100 --edits 20

Starts the corpus's daemon (its first load, from the facts cache when there is one),
then makes each edit (a function appended to a file, spread over the corpus in path
order), runs `check --daemon --format json`, and restores the file (the restore is
judged by the next run, as a second edit would be). For each run: the client's wall
time, and the CPU seconds the daemon spent (from /proc: the daemon is no child of the
client). At the end: medians and p95, the daemon's peak RSS (VmHWM), and, with
--compare, whether the last run's findings equal an in-process run's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from daemon_probe import cpu_seconds, daemon_pid, peak_rss_mb

REPO = Path(__file__).resolve().parent.parent
FUNCTION = b"\n\ndef _touched_by_the_benchmark():\n    return 1\n"


def cli(args: list[str], corpus: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "review_lint.cli", *args], cwd=corpus, env=env,
                          capture_output=True, text=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--cache-dir", type=Path, help="default: the corpus's own cache folder")
    parser.add_argument("--compare", action="store_true", help="check the last findings against an in-process run")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    env = {k: v for k, v in os.environ.items() if k not in ("REVIEW_LINT_RULES_PATH", "CI")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["TMPDIR"] = tempfile.mkdtemp(prefix="rl-bench-")  # this run's own daemon
    in_process = ["check", ".", "--exit-zero", "--format", "json"]
    if args.cache_dir:
        in_process += ["--cache-dir", str(args.cache_dir)]
    base = [*in_process, "--daemon"]
    files = sorted(p for p in corpus.rglob("*.py") if "__pycache__" not in p.parts)
    started = time.perf_counter()
    cli(base, corpus, env)  # the first load
    load = time.perf_counter() - started
    pid = daemon_pid(corpus, env)
    if pid is None:
        raise SystemExit("the daemon did not start")
    print(f"first load (starts the daemon): {load:.1f} s", file=sys.stderr)
    walls, cpus, last = [], [], ""
    try:
        for number in range(args.edits):
            changed = files[(number * 7919) % len(files)]  # spread over the tree, the same each run
            original = changed.read_bytes()
            changed.write_bytes(original + FUNCTION)
            try:
                before = cpu_seconds(pid)
                started = time.perf_counter()
                done = cli(base, corpus, env)
                walls.append(time.perf_counter() - started)
                cpus.append(cpu_seconds(pid) - before)
                last = done.stdout
                if "judging in this process" in done.stderr:
                    raise SystemExit(f"the daemon was not used: {done.stderr.strip()}")
            finally:
                changed.write_bytes(original)
            print(f"  edit {number + 1}: {changed.relative_to(corpus)}: {walls[-1] * 1000:.0f} ms, "
                  f"daemon {cpus[-1] * 1000:.0f} ms CPU", file=sys.stderr)
        rss = peak_rss_mb(pid)
        if args.compare:
            done = cli(in_process, corpus, env)  # the files are restored: both judge the original tree
            again = cli(base, corpus, env)
            same = json.loads(done.stdout)["diagnostics"] == json.loads(again.stdout)["diagnostics"]
            print(f"findings equal to an in-process run: {same}", file=sys.stderr)
    finally:
        cli(["daemon", "stop", "."], corpus, env)
    print(f"| corpus | files | edits | first load (s) | client wall p50 / p95 (ms) | daemon CPU p50 / p95 (ms) "
          f"| daemon peak RSS (MB) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
          f"| {corpus.name} | {len(files)} | {len(walls)} | {load:.1f} | {statistics.median(walls) * 1000:.0f} / "
          f"{percentile(walls, 0.95) * 1000:.0f} | {statistics.median(cpus) * 1000:.0f} / "
          f"{percentile(cpus, 0.95) * 1000:.0f} | {rss} |")


if __name__ == "__main__":
    main()
