#!/usr/bin/env python3
"""Scale benchmark: one project of 10,000+ files, measured at 1/4, 1/2 and all of it.

    python bench/scale.py --write docs/performance.md --svg docs/scale.svg

The project is assembled from the sweep's corpora (`bench/sweep.py`: 17 pinned
wheels from PyPI and a copy of CPython's standard library, unpacked into
~/.cache/review-lint-sweep, downloaded there first if missing), each copied into
its own top-level folder of one tree under --work (outside the repository), so
module names never collide: a file is named from its topmost package folder, and
no two corpora share one. The smaller trees take, from every corpus, the first
quarter or half of its files in path order, so that each size has the same mix
of corpora and whole packages stay together.

At each size, through the real command line (`review-lint check . --quiet
--exit-zero --cache-dir ...`): cold with `--jobs 1` and with every core (the
cache folder emptied first), warm with nothing changed, warm with one file
changed (a function appended to the middle file in path order, so its facts
change and the project is judged again), and the same change judged by `check
--daemon` (its first load, which starts the daemon, not measured; its CPU is the
client's and the daemon's for that run, and the daemon's peak RSS is reported apart). Peak memory is the largest sum of
proportional set sizes (PSS: a page shared by a forked worker and its parent
counts once) over the process tree, workers included, sampled every 50 ms.
Judging alone is timed in a process of its own from the warm cache: decode
every file's facts, build the project model, run every rule in one process
(the same work `Engine.run` does after phase 1 on one core).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from daemon_probe import cpu_seconds, daemon_pid, peak_rss_mb  # noqa: E402
FRACTIONS = (0.25, 0.5, 1.0)
FUNCTION = b"\n\ndef _touched_by_the_benchmark():\n    return 1\n"
BEGIN, END = "<!-- scale results -->", "<!-- /scale results -->"


# -- the tree ---------------------------------------------------------------
def corpus_files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.suffix in (".py", ".pyi") and p.is_file()
                  and "__pycache__" not in p.parts)


def assemble(work: Path, sweep_work: Path, fraction: float) -> Path:
    """The tree holding `fraction` of every corpus (made once, then reused)."""
    import sweep

    tree = work / f"tree-{round(fraction * 100):03d}"
    if (tree / ".review-lint.yaml").is_file():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    for name, source in sweep.corpora(sweep_work, None).items():
        top = tree / name.replace("==", "-").replace(".", "_").replace("-", "_")
        files = corpus_files(source)
        for relative in files[: math.ceil(len(files) * fraction)]:
            (top / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, top / relative)
    (tree / ".review-lint.yaml").write_text("# scale benchmark: its own project root\n")
    return tree


# -- measuring ----------------------------------------------------------------
def _tree_memory(pid: int) -> int:
    """Proportional set size (PSS) in bytes of `pid` and every descendant: pages a
    forked worker shares with its parent are counted once, not once per process."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the process tree, peak MB (PSS) of the process
    tree, standard output). CPU time is what to compare on a shared machine: wall
    time also counts the other users' load."""
    import tempfile

    peak = [0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _tree_memory(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # The child's usage includes every descendant it waited for (its workers).
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        if code not in (0, 1):
            raise SystemExit(f"failed ({code}): {' '.join(command)}\n{err.read().decode(errors='replace')[-2000:]}")
        return elapsed, usage.ru_utime + usage.ru_stime, peak[0] // 2**20, out.read().decode(errors="replace")


def judge_only(root: Path, cache: Path) -> dict:
    """Phase 2 alone, from a warm facts cache, in this process."""
    import gc

    gc.disable()  # as the command runs
    from review_lint.collect import Collector
    from review_lint.engine import Engine, Options

    engine = Engine(Options(paths=[str(root)], root=str(root)), cwd=root)
    everything, _ = engine.files()
    collector = Collector(jobs=1, cache_dir=cache)
    gathered = collector.gather(root, everything)
    started = time.perf_counter()
    facts = gathered.facts()
    decoded = time.perf_counter()
    cpu_started = time.process_time()
    project = engine.build_project(facts)
    built = time.perf_counter()
    diagnostics, _ = engine._judge_all(facts, project, 1)
    judged = time.perf_counter()
    cpu_judged = time.process_time()
    return {"files": len(everything), "decode": decoded - started, "build": built - decoded,
            "rules": judged - built, "judging": judged - decoded, "judging_cpu": cpu_judged - cpu_started,
            "findings": len(diagnostics),
            "parsed": collector.stats.parsed}


def measure(tree: Path, work: Path, rounds: int) -> dict:
    cache = work / "cache" / tree.name
    cores = os.cpu_count() or 1
    base = [sys.executable, "-m", "review_lint.cli", "check", ".", "--exit-zero", "--cache-dir", str(cache)]
    env = {k: v for k, v in os.environ.items() if k not in ("REVIEW_LINT_RULES_PATH", "CI")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    python_files = [tree / p for p in corpus_files(tree)]
    changed = python_files[len(python_files) // 2]
    original = changed.read_bytes()
    result: dict = {"tree": tree.name, "lines": sum(p.read_bytes().count(b"\n") for p in python_files)}

    def cold(jobs: int):
        shutil.rmtree(cache, ignore_errors=True)
        return run([*base, "--quiet", "--jobs", str(jobs)], tree, env)

    def warm():
        return run([*base, "--quiet"], tree, env)

    def one_changed():
        changed.write_bytes(original + FUNCTION)
        try:
            return run([*base, "--quiet"], tree, env)
        finally:
            changed.write_bytes(original)

    def judging():
        return run([sys.executable, str(Path(__file__).resolve()), "--judge-only", str(tree), str(cache)], REPO, env)

    # `check --daemon`: the client's wall time; its CPU with the daemon's own CPU for the run
    # added (the daemon is no child of the client), and the daemon's peak RSS kept apart.
    daemon_env = dict(env, TMPDIR=str(work / "daemons"))
    (work / "daemons").mkdir(exist_ok=True)
    daemon_command = [*base, "--quiet", "--daemon"]

    def one_changed_daemon():
        if daemon_pid(tree, daemon_env) is None:
            run(daemon_command, tree, daemon_env)  # its first load: not measured
        pid = daemon_pid(tree, daemon_env)
        changed.write_bytes(original + FUNCTION)
        try:
            before = cpu_seconds(pid)
            seconds, client_cpu, rss, out = run(daemon_command, tree, daemon_env)
            return seconds, client_cpu + cpu_seconds(pid) - before, rss, out
        finally:
            changed.write_bytes(original)

    # Judging before the edit: a warm run after it parses the restored file again.
    steps = [("cold_1", lambda: cold(1)), ("cold_n", lambda: cold(cores)), ("warm", warm), ("judge", judging),
             ("one_changed", one_changed), ("daemon", one_changed_daemon)]
    times: dict[str, list[float]] = {name: [] for name, _ in steps}
    cpu: dict[str, list[float]] = {name: [] for name, _ in steps}
    memory: dict[str, int] = {name: 0 for name, _ in steps}
    judged: list[dict] = []
    for round_number in range(1, rounds + 1):
        for name, step in steps:
            seconds, used, rss, out = step()
            if name == "judge":
                judged.append(json.loads(out))
            times[name].append(seconds)
            cpu[name].append(used)
            memory[name] = max(memory[name], rss)
            print(f"  {tree.name} round {round_number}: {name}: {seconds:.2f} s, {used:.2f} s CPU, {rss} MB",
                  file=sys.stderr, flush=True)
    pid = daemon_pid(tree, daemon_env)
    result["daemon_rss"] = peak_rss_mb(pid)
    subprocess.run([*base[:3], "daemon", "stop", "."], cwd=tree, env=daemon_env, capture_output=True)
    # What the command itself counts as checked (its own discovery, not ours).
    summary = json.loads(run([*base, "--format", "json"], tree, env)[3])["summary"]
    result["files"] = summary["files"]
    result.update({name: statistics.median(values) for name, values in times.items() if name != "judge"})
    result["cpu"] = {name: statistics.median(values) for name, values in cpu.items()}
    result["rss"] = memory
    for key in ("decode", "build", "rules", "judging"):
        result[key] = statistics.median(j[key] for j in judged)
    result["judging_cpu"] = statistics.median(j["judging_cpu"] for j in judged)
    result["findings"] = judged[0]["findings"]
    return result


# -- reporting ------------------------------------------------------------------
def table(results: list[dict], cores: int) -> str:
    lines = [
        "Wall time (s) and peak memory:", "",
        f"| files | lines | cold `--jobs 1` | cold `--jobs {cores}` | warm | one file changed "
        "| one file changed, `--daemon` | judging alone | peak memory, PSS (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['files']:,} | {r['lines']:,} | {r['cold_1']:.1f} | {r['cold_n']:.1f} | {r['warm']:.2f} "
            f"| {r['one_changed']:.2f} | {_cell(r.get('daemon'))} | {r['judging']:.2f} | {max(r['rss'].values())} |")
    lines += ["", "CPU time (s) of the process tree (workers included), which the other users' load moves far "
              "less than wall time:", "",
              f"| files | cold `--jobs 1` | cold `--jobs {cores}` | warm | one file changed "
              "| one file changed, `--daemon` (client and daemon) | judging alone "
              "| judging's share of cold `--jobs 1` | cold `--jobs 1` per 1,000 files | judging per 1,000 files |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        c, thousands = r["cpu"], r["files"] / 1000
        lines.append(
            f"| {r['files']:,} | {c['cold_1']:.1f} | {c['cold_n']:.1f} | {c['warm']:.2f} | {c['one_changed']:.2f} "
            f"| {_cell(c.get('daemon'))} | {r['judging_cpu']:.2f} | {r['judging_cpu'] / c['cold_1']:.1%} | {c['cold_1'] / thousands:.2f} "
            f"| {r['judging_cpu'] / thousands:.3f} |")
    lines += ["", "Peak memory (PSS, MB) of each step's process tree:", "",
              "| files | cold `--jobs 1` | cold `--jobs " + str(cores) + "` | warm | one file changed | judging alone "
              "| the daemon (RSS) |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        m = r["rss"]
        lines.append(f"| {r['files']:,} | {m['cold_1']} | {m['cold_n']} | {m['warm']} | {m['one_changed']} "
                     f"| {m['judge']} | {r.get('daemon_rss') or '-'} |")
    lines += ["", "Judging alone, split (wall s):", "", "| files | decode the cached facts | build the project | rules |",
              "| ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r['files']:,} | {r['decode']:.2f} | {r['build']:.2f} | {r['rules']:.2f} |")
    return "\n".join(lines) + "\n"


def _cell(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def svg(results: list[dict], cores: int) -> str:
    """Two panels, plain SVG: seconds against files, and peak MB against files."""
    width, height, pad = 760, 330, 58
    panel = (width - 3 * pad) // 2
    top, bottom = 40, height - 50
    xmax = max(r["files"] for r in results) * 1.05
    series = [("cold, --jobs 1", "cold_1", "#1f77b4"), (f"cold, --jobs {cores}", "cold_n", "#ff7f0e"),
              ("judging alone", "judging", "#2ca02c"), ("one file changed", "one_changed", "#d62728"),
              ("warm", "warm", "#9467bd")]
    if all("daemon" in r["cpu"] for r in results):
        series.append(("one file changed, --daemon", "daemon", "#8c564b"))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">', f'<rect width="{width}" height="{height}" fill="white"/>']

    def axes(x0: int, ymax: float, title: str, unit: str) -> None:
        out.append(f'<text x="{x0 + panel / 2}" y="20" text-anchor="middle" font-size="13">{title}</text>')
        out.append(f'<line x1="{x0}" y1="{bottom}" x2="{x0 + panel}" y2="{bottom}" stroke="black"/>')
        out.append(f'<line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="black"/>')
        for i in range(5):
            y = bottom - (bottom - top) * i / 4
            out.append(f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x0 + panel}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{ymax * i / 4:.0f}</text>')
        for i in range(5):
            x = x0 + panel * i / 4
            out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{xmax * i / 4 / 1000:.1f}k</text>')
        out.append(f'<text x="{x0 + panel / 2}" y="{bottom + 34}" text-anchor="middle">files</text>')
        out.append(f'<text x="{x0 - 44}" y="{(top + bottom) / 2}" text-anchor="middle" '
                   f'transform="rotate(-90 {x0 - 44} {(top + bottom) / 2})">{unit}</text>')

    def line(x0: int, ymax: float, values: list[tuple[int, float]], colour: str, label: str, row: int) -> None:
        points = [(x0 + panel * f / xmax, bottom - (bottom - top) * v / ymax) for f, v in values]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        for x, y in points:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        out.append(f'<rect x="{x0 + 10}" y="{top + 4 + 14 * row}" width="10" height="3" fill="{colour}"/>')
        out.append(f'<text x="{x0 + 24}" y="{top + 9 + 14 * row}">{label}</text>')

    def nice(value: float) -> float:
        step = 10 ** math.floor(math.log10(value))
        return math.ceil(value / step) * step

    def cpu(r: dict, key: str) -> float:
        return r["judging_cpu"] if key == "judging" else r["cpu"][key]

    seconds_max = nice(max(cpu(r, key) for r in results for _, key, _ in series) * 1.05)
    axes(pad, seconds_max, "CPU time (process tree)", "seconds")
    for row, (label, key, colour) in enumerate(series):
        line(pad, seconds_max, [(r["files"], cpu(r, key)) for r in results], colour, label, row)
    x1 = 2 * pad + panel
    memory_max = nice(max(max(*r["rss"].values(), r.get("daemon_rss") or 0) for r in results) * 1.05)
    axes(x1, memory_max, "peak memory (process tree)", "MB")
    for row, (label, key, colour) in enumerate([("cold, --jobs 1", "cold_1", "#1f77b4"),
                                                (f"cold, --jobs {cores}", "cold_n", "#ff7f0e"),
                                                ("judging alone", "judge", "#2ca02c"),
                                                ("one file changed", "one_changed", "#d62728")]):
        line(x1, memory_max, [(r["files"], r["rss"][key]) for r in results], colour, label, row)
    if all(r.get("daemon_rss") for r in results):
        line(x1, memory_max, [(r["files"], r["daemon_rss"]) for r in results], "#8c564b", "the daemon (RSS)", 4)
    target = bottom - (bottom - top) * 1024 / memory_max  # the 1 GB target
    out.append(f'<line x1="{x1}" y1="{target:.1f}" x2="{x1 + panel}" y2="{target:.1f}" stroke="black" '
               f'stroke-dasharray="4 3"/>')
    out.append(f'<text x="{x1 + panel}" y="{target - 4:.1f}" text-anchor="end">target: 1 GB</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def machine() -> str:
    from importlib.metadata import version

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"LibCST {version('libcst')}")


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "review-lint-scale",
                        help="where the trees and caches go (outside the repository)")
    parser.add_argument("--sweep-work", type=Path, default=Path.home() / ".cache" / "review-lint-sweep",
                        help="where bench/sweep.py keeps the unpacked corpora")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; each result is the median (default 1)")
    parser.add_argument("--fractions", default=",".join(str(f) for f in FRACTIONS))
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--write", type=Path, help="write the table into this Markdown file (between its markers)")
    parser.add_argument("--svg", type=Path, help="write the plot here")
    parser.add_argument("--from-json", type=Path, help="report the results a run saved with --json, measuring nothing")
    parser.add_argument("--judge-only", nargs=2, metavar=("ROOT", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.judge_only:
        print(json.dumps(judge_only(Path(args.judge_only[0]), Path(args.judge_only[1]))))
        return
    cores = os.cpu_count() or 1
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        results, header = saved["results"], saved["header"]
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "review_lint")], check=True)
        command = "python bench/scale.py " + " ".join(sys.argv[1:])
        header = (f"Machine: {machine()}; commit `{commit()}`; {args.rounds} round(s), medians.\n"
                  f"Command: `{command.strip()}`\n")
        results = []
        for fraction in (float(f) for f in args.fractions.split(",")):
            tree = assemble(args.work, args.sweep_work, fraction)
            print(f"{tree}:", file=sys.stderr, flush=True)
            results.append(measure(tree, args.work, args.rounds))
            if args.json:
                args.json.write_text(json.dumps({"header": header, "results": results}, indent=1))
    report = header + "\n" + table(results, cores)
    print(report)
    if args.write:
        text = args.write.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + BEGIN + "\n\n" + report + "\n" + END + rest.split(END, 1)[1]
        else:
            text = text.rstrip() + f"\n\n{BEGIN}\n\n{report}\n{END}\n"
        args.write.write_text(text)
    if args.svg:
        args.svg.write_text(svg(results, cores))


if __name__ == "__main__":
    main()
