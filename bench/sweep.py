#!/usr/bin/env python3
"""Corpus sweep: every rule over large real code bases; the run must never crash.

    python bench/sweep.py                          # stdlib + Django + the applications
    python bench/sweep.py --only stdlib,django     # a subset
    python bench/sweep.py --findings /tmp/before    # also keep every finding, to compare
    python bench/compare.py /tmp/before /tmp/after   # after a change: what differs

Corpora: CPython's standard library from the running interpreter (copied into
the work folder first), and pinned
wheels from PyPI (downloaded with `pip download --no-deps NAME==VERSION` and
unpacked outside the repository, into ~/.cache/review-lint-sweep unless --work
says otherwise; an already unpacked copy under /work/corpus/src is used as is).
Each corpus is checked by the real command line in its own process
(`review-lint check . --select <every rule> --format json --no-cache`), so a
crash is seen as a crash. Reported per corpus: files, findings per rule, RL000,
RL999, crashes (an exit code other than 0/1/2, or a traceback) and wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WHEELS = [
    "django==5.2.19", "lnbits==1.6.2", "fastapi-users==15.0.5", "galaxy-app==26.1.2", "dagster-webserver==1.13.27",
    "starlette-admin==1.0.3", "optuna-dashboard==0.21.0", "flask-admin==2.2.1", "pgadmin4==9.18",
    "django-oscar==4.2.1", "mayan-edms==4.12.2", "hyperkitty==1.3.12", "postorius==1.3.13", "mailman==3.3.10",
    # Large code bases beyond web applications, for volume and variety.
    "twisted==26.10.0", "sqlalchemy==2.1.9", "sympy==1.14.0",
]
UNPACKED = Path("/work/corpus/src")


def _norm(name: str) -> str:
    return name.lower().replace("-", "_")


def wheel_dir(requirement: str, work: Path) -> Path:
    name, version = requirement.split("==")
    prefix = f"{_norm(name)}-{version}-"
    for base in (UNPACKED, work / "src"):
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if folder.name.lower().startswith(prefix) and folder.is_dir():
                    return folder
    download = work / "dl"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q",
                    "-d", str(download), requirement], check=True)
    [wheel] = [w for w in download.glob("*.whl") if w.name.lower().startswith(prefix)]
    target = work / "src" / wheel.name[: -len(".whl")]
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def stdlib_copy(work: Path) -> Path:
    """The running interpreter's standard library, copied: where it sits inside a
    git checkout (pyenv's), git's view of that checkout would hide its files."""
    source = Path(sysconfig.get_paths()["stdlib"])
    target = work / f"stdlib-{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    if not target.is_dir():
        shutil.copytree(source, target, symlinks=True,
                        ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc", "*.so"))
    return target


def corpora(work: Path, only: set[str] | None) -> dict[str, Path]:
    found = {"stdlib": stdlib_copy(work)} if only is None or "stdlib" in only else {}
    for requirement in WHEELS:
        name = requirement.split("==")[0]
        if only is None or name in only:
            found[requirement] = wheel_dir(requirement, work)
    return {k: v for k, v in found.items() if only is None or k.split("==")[0] in only}


def every_rule() -> list[str]:
    env = dict(os.environ)
    env.pop("REVIEW_LINT_RULES_PATH", None)
    out = subprocess.run([sys.executable, "-m", "review_lint.cli", "rules"], capture_output=True, text=True,
                         check=True, env=env).stdout
    return [line.split()[0] for line in out.splitlines()[1:] if line.strip()]


def sweep(folder: Path, rules: list[str], jobs: int, findings: Path | None = None) -> dict:
    env = dict(os.environ)
    env.pop("REVIEW_LINT_RULES_PATH", None)
    command = [sys.executable, "-m", "review_lint.cli", "check", ".", "--select", ",".join(rules), "--format",
               "json", "--no-cache", "--jobs", str(jobs), "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env,
                          errors="surrogateescape")
    seconds = time.perf_counter() - started
    crashed = done.returncode not in (0, 1, 2) or "Traceback" in done.stderr
    try:
        document = json.loads(done.stdout)
    except json.JSONDecodeError:
        document = {"diagnostics": [], "summary": {"files": 0}}
        crashed = True
    by_rule = Counter(d["rule"] for d in document["diagnostics"])
    if findings is not None:
        findings.mkdir(parents=True, exist_ok=True)
        (findings / f"{folder.name}.json").write_text(json.dumps(document["diagnostics"], indent=1, sort_keys=True))
    return {
        "files": document["summary"]["files"],
        "by_rule": by_rule,
        "crashed": crashed,
        "exit": done.returncode,
        "stderr": done.stderr[-2000:] if crashed else "",
        "seconds": seconds,
        "rl999": [f"{d['path']}: {d['message'].splitlines()[0]}" for d in document["diagnostics"] if d["rule"] == "RL999"],
    }


def table(results: dict[str, dict], rules: list[str]) -> str:
    codes = [c for c in rules if c not in ("RL000", "RL999")]
    head = ["corpus", "files", *codes, "RL000", "RL999", "crashes", "seconds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = Counter()
    for name, r in results.items():
        row = [name, str(r["files"]), *[str(r["by_rule"].get(c, 0)) for c in codes], str(r["by_rule"].get("RL000", 0)),
               str(r["by_rule"].get("RL999", 0)), str(int(r["crashed"])), f"{r['seconds']:.1f}"]
        lines.append("| " + " | ".join(row) + " |")
        total["files"] += r["files"]
        for c in [*codes, "RL000", "RL999"]:
            total[c] += r["by_rule"].get(c, 0)
        total["crashes"] += int(r["crashed"])
        total["seconds"] += r["seconds"]
    row = ["**total**", str(total["files"]), *[str(total[c]) for c in codes], str(total["RL000"]), str(total["RL999"]),
           str(total["crashes"]), f"{total['seconds']:.1f}"]
    lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "review-lint-sweep")
    parser.add_argument("--only", help="comma-separated corpus names (stdlib, django, lnbits, ...)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--findings", type=Path, help="also write each corpus's findings (JSON) into this folder")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    rules = every_rule()
    results = {}
    for name, folder in corpora(args.work, only).items():
        print(f"sweeping {name} ({folder}) ...", file=sys.stderr, flush=True)
        results[name] = result = sweep(folder, rules, args.jobs, args.findings)
        for line in result["rl999"]:
            print(f"  RL999 {line}", file=sys.stderr)
        if result["crashed"]:
            print(f"  CRASH exit {result['exit']}: {result['stderr']}", file=sys.stderr)
    print(table(results, rules))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=dict))
    failed = any(r["crashed"] or r["by_rule"].get("RL999") for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
