#!/usr/bin/env python3
"""Benchmark review-lint against LibCST's bare parse, side by side with peers.

    python bench/run.py                 # Django's wheel and lnbits, 3 rounds
    python bench/run.py --runs 5 --corpus django --write docs/performance.md

Downloads the pinned corpora from PyPI (outside the repository, into
~/.cache/review-lint-bench unless --work says otherwise), installs the peers
(Fixit 2 with a one-rule assert check, Semgrep with one `assert $X` pattern)
into their own virtual environment when they install, and then measures every
command in alternating rounds so that machine noise hits them all alike. Each
result is the median wall time over the rounds, the ratio to the parse-only
floor, and the peak resident memory of the process tree.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from daemon_probe import daemon_pid, peak_rss_mb

CORPORA = {"django": "django==5.2.19", "lnbits": "lnbits==1.6.2"}
PEERS = ["fixit==2.2.1", "semgrep==1.170.1"]
REPO = Path(__file__).resolve().parent.parent

COMMENT = b"\n# touched by the benchmark\n"
FUNCTION = b"\n\ndef _touched_by_the_benchmark():\n    return 1\n"

FLOOR_SCRIPT = """
import sys, pathlib, libcst
ok = failed = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    try:
        libcst.parse_module(path.read_bytes())
        ok += 1
    except Exception:
        failed += 1
print(ok, failed)
"""

FIXIT_RULE = """
import libcst as cst
from fixit import LintRule


class NoAssert(LintRule):
    MESSAGE = "assert statement"
    VALID = []
    INVALID = []

    def visit_Assert(self, node: cst.Assert) -> None:
        self.report(node)
"""

SEMGREP_RULE = """
rules:
  - id: assert
    pattern: assert $X
    message: assert statement
    languages: [python]
    severity: WARNING
"""


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MB of the process tree, exit code)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"failed ({code}): {' '.join(command)}\n{tail}")
    return elapsed, usage.ru_maxrss // 1024, code


def fetch(work: Path, spec: str) -> Path:
    name = spec.split("==")[0]
    target = work / "corpus" / spec.replace("==", "-")
    if (target / ".review-lint.yaml").exists():
        return target
    downloads = work / "downloads"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(downloads), spec],
                   check=True)
    wheels = [w for w in downloads.glob("*.whl") if w.name.lower().startswith(name.replace("-", "_").lower())]
    if not wheels:
        raise SystemExit(f"no wheel for {spec}")
    target.mkdir(parents=True, exist_ok=True)
    zipfile.ZipFile(wheels[0]).extractall(target)
    # Its own project root: nothing above it is part of the benchmark.
    (target / ".review-lint.yaml").write_text("# benchmark corpus\n")
    return target


def peers(work: Path) -> dict[str, Path]:
    """Install the peers into their own environment; return what installed."""
    venv = work / "peers"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    found = {}
    for spec in PEERS:
        tool = spec.split("==")[0]
        if not (venv / "bin" / tool).exists():
            done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", spec], capture_output=True)
            if done.returncode != 0:
                print(f"  {spec} did not install; it is left out", file=sys.stderr)
                continue
        found[tool] = venv / "bin" / tool
    rules = work / "peer-rules"
    rules.mkdir(exist_ok=True)
    (rules / "bench_assert_rule.py").write_text(FIXIT_RULE)
    (rules / "semgrep.yml").write_text(SEMGREP_RULE)
    return found


def measure(corpus: Path, work: Path, rounds: int, peer_tools: dict[str, Path]) -> list[dict]:
    cache = work / "cache" / corpus.name
    cores = os.cpu_count() or 1
    review_lint = [sys.executable, "-m", "review_lint.cli", "check", ".", "--quiet", "--exit-zero"]
    env = {k: v for k, v in os.environ.items() if k not in ("REVIEW_LINT_RULES_PATH", "CI")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    changed = sorted(corpus.rglob("*.py"))[len(list(corpus.rglob("*.py"))) // 2]
    original = changed.read_bytes()

    def cold(jobs: int):
        shutil.rmtree(cache, ignore_errors=True)
        return run([*review_lint, "--jobs", str(jobs), "--cache-dir", str(cache)], corpus, env)

    def warm():
        return run([*review_lint, "--cache-dir", str(cache)], corpus, env)

    def warm_one_changed(addition: bytes):
        changed.write_bytes(original + addition)
        try:
            return run([*review_lint, "--cache-dir", str(cache)], corpus, env)
        finally:
            changed.write_bytes(original)

    daemon_env = dict(env, TMPDIR=str(work / "daemons"))  # a private folder for this run's daemon
    (work / "daemons").mkdir(exist_ok=True)

    def daemon_one_changed(addition: bytes):
        if daemon_pid(corpus, daemon_env) is None:
            run([*review_lint, "--cache-dir", str(cache), "--daemon"], corpus, daemon_env)  # its first load
        changed.write_bytes(original + addition)
        try:
            return run([*review_lint, "--cache-dir", str(cache), "--daemon"], corpus, daemon_env)
        finally:
            changed.write_bytes(original)

    steps = [
        ("LibCST parse only, 1 process (the floor)", lambda: run([sys.executable, "-c", FLOOR_SCRIPT, "."], corpus, env)),
        ("review-lint cold, --jobs 1", lambda: cold(1)),
        (f"review-lint cold, --jobs {cores}", lambda: cold(cores)),
        ("review-lint warm, nothing changed", warm),
        # A comment leaves the file's facts as they were, and the verdicts are kept;
        # a new function changes them, and the whole project is judged again.
        ("review-lint warm, one file changed (a comment)", lambda: warm_one_changed(COMMENT)),
        ("review-lint warm, one file changed (a function)", lambda: warm_one_changed(FUNCTION)),
        # The daemon keeps the facts and the last judgement in memory: the client's time.
        ("review-lint --daemon, one file changed (a function)", lambda: daemon_one_changed(FUNCTION)),
    ]
    rules = work / "peer-rules"
    if "fixit" in peer_tools:
        peer_env = dict(env, PYTHONPATH=str(rules))
        steps.append(("Fixit 2, one assert rule", lambda: run(
            [str(peer_tools["fixit"]), "--rules", "bench_assert_rule", "lint", "."], corpus, peer_env)))
    if "semgrep" in peer_tools:
        # No version check either: this machine has no route to the internet, and a
        # check waiting on the network would be timed as Semgrep's work.
        semgrep_env = dict(env, SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off")
        steps.append(("Semgrep, one `assert $X` pattern", lambda: run(
            [str(peer_tools["semgrep"]), "--metrics", "off", "--disable-version-check", "--quiet",
             "--config", str(rules / "semgrep.yml"), "."],
            corpus, semgrep_env)))

    times: dict[str, list[float]] = {name: [] for name, _ in steps}
    memory: dict[str, int] = {name: 0 for name, _ in steps}
    for round_number in range(1, rounds + 1):
        for name, step in steps:
            if name.startswith("review-lint warm"):
                if not cache.exists():
                    cold(cores)  # warm runs need a cache; after the cold runs it is there
            seconds, rss, _ = step()
            times[name].append(seconds)
            memory[name] = max(memory[name], rss)
            print(f"  round {round_number}: {name}: {seconds:.2f} s, {rss} MB", file=sys.stderr)
    daemon_rss = peak_rss_mb(daemon_pid(corpus, daemon_env))
    subprocess.run([*review_lint[:3], "daemon", "stop", "."], cwd=corpus, env=daemon_env, capture_output=True)
    if daemon_rss:
        print(f"  the daemon's own peak RSS: {daemon_rss} MB", file=sys.stderr)
        memory["review-lint --daemon, one file changed (a function)"] = daemon_rss
    floor = statistics.median(times[steps[0][0]])
    return [
        {"name": name, "median": statistics.median(times[name]), "ratio": statistics.median(times[name]) / floor,
         "rss": memory[name], "runs": len(times[name])}
        for name, _ in steps
    ]


def table(corpus: Path, rows: list[dict]) -> str:
    files = sum(1 for _ in corpus.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in corpus.rglob("*.py"))
    out = [f"### {corpus.name} ({files} files, {lines:,} lines)", "",
           "| command | median (s) | × floor | peak RSS (MB) |", "| --- | ---: | ---: | ---: |"]
    for row in rows:
        out.append(f"| {row['name']} | {row['median']:.2f} | {row['ratio']:.2f} | {row['rss']} |")
    return "\n".join(out) + "\n"


def machine() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        libcst_version = version("libcst")
    except PackageNotFoundError:
        libcst_version = "not installed"
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"LibCST {libcst_version}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds; each result is the median (default 3)")
    parser.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "review-lint-bench")
    parser.add_argument("--no-peers", action="store_true", help="skip Fixit and Semgrep")
    parser.add_argument("--write", type=Path, help="also write the results into this Markdown file")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    names = list(CORPORA) if args.corpus == "all" else [args.corpus]
    peer_tools = {} if args.no_peers else peers(args.work)
    # pip compiles an installed package's bytecode (the peers', LibCST's); this runs
    # review-lint from the checkout, which a PYTHONDONTWRITEBYTECODE environment
    # would otherwise compile again on every run (0.06 s a process here).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "review_lint")], check=True)
    sections = []
    for name in names:
        corpus = fetch(args.work, CORPORA[name])
        print(f"{name}: {corpus}", file=sys.stderr)
        sections.append(table(corpus, measure(corpus, args.work, args.runs, peer_tools)))
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    report = f"Machine: {machine()}.\nCommand: `{command.strip()}`, {args.runs} rounds, medians.\n\n" + "\n".join(sections)
    print(report)
    if args.write:
        text = args.write.read_text() if args.write.exists() else ""
        marker = "<!-- bench results -->"
        head = text.split(marker)[0] if marker in text else text
        args.write.write_text(head.rstrip() + f"\n\n{marker}\n\n" + report)


if __name__ == "__main__":
    main()
