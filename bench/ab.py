#!/usr/bin/env python3
"""Two checkouts of review-lint side by side on Django's wheel, rounds interleaved.

    python bench/ab.py BASE_CHECKOUT HEAD_CHECKOUT [ROUNDS]    # e.g. a `git worktree` of the last release

Each command runs from the checkout given (PYTHONPATH), on its own copy of the
corpus that bench/sweep.py unpacked (~/.cache/review-lint-sweep); the table gives
the median CPU seconds of the process tree (user + sys, less sensitive to other
load than wall time) and the median wall time. For "does this change cost time",
not for absolute numbers (bench/run.py).
"""
import os, resource, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
CODES = {"base": sys.argv[1], "head": sys.argv[2]}
SRC = next(Path.home().joinpath(".cache/review-lint-sweep/src").glob("django-5.2.19-*"))
work = Path(tempfile.mkdtemp())
trees = {}
for name in CODES:
    trees[name] = work / name
    shutil.copytree(SRC, trees[name])
    (trees[name] / ".review-lint.yaml").touch()
def run(name, *args, cache=None):
    env = {**os.environ, "PYTHONPATH": CODES[name], "REVIEW_LINT_RULES_PATH": ""}
    cmd = [sys.executable, "-m", "review_lint.cli", "check", ".", "-q", "--exit-zero", *args]
    cmd += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN); t = time.perf_counter()
    subprocess.run(cmd, cwd=trees[name], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, time.perf_counter() - t
results = {}
target = "django/db/models/sql/query.py"
for r in range(int(sys.argv[3]) if len(sys.argv) > 3 else 3):
    for name in CODES:
        cache = work / f"cache-{name}"
        shutil.rmtree(cache, ignore_errors=True)
        for label, args in (("cold --jobs 1", ("--jobs", "1")), ("cold --jobs 2", ("--jobs", "2"))):
            results.setdefault((label, name), []).append(run(name, *args))
        run(name, "--jobs", "2", cache=cache)  # warm it
        results.setdefault(("warm, nothing changed", name), []).append(run(name, "--jobs", "2", cache=cache))
        path = trees[name] / target
        original = path.read_text()
        path.write_text(original + f"\n\ndef added_{r}(x):\n    return x\n")
        results.setdefault(("warm, a function added", name), []).append(run(name, "--jobs", "2", cache=cache))
        path.write_text(original)
print("| command | base CPU s | head CPU s | head/base | base wall s | head wall s |")
print("|---|---:|---:|---:|---:|---:|")
for label in ("cold --jobs 1", "cold --jobs 2", "warm, nothing changed", "warm, a function added"):
    b = statistics.median(x[0] for x in results[(label, "base")]); h = statistics.median(x[0] for x in results[(label, "head")])
    bw = statistics.median(x[1] for x in results[(label, "base")]); hw = statistics.median(x[1] for x in results[(label, "head")])
    print(f"| {label} | {b:.2f} | {h:.2f} | {h/b:.2f} | {bw:.2f} | {hw:.2f} |")
shutil.rmtree(work)
