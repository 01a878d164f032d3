#!/usr/bin/env python3
"""Every rule over a list of corpora, with a facts cache that survives judgement-only changes.

    PYTHONPATH=CHECKOUT python bench/judge_corpora.py OUTDIR [RULES] < LIST
    python bench/compare.py OUTDIR_BEFORE OUTDIR_AFTER

LIST holds "name path" per line (# comments allowed); each corpus is judged from its
folder as `review-lint check . --select RULES --format json --jobs 1`, written to
OUTDIR/name.json. The facts cache (~/.cache/review-lint-judge/<name>) is keyed by the
extraction code only (extract/, facts.py, codec.py, source.py, positions.py,
libcst_patches.py), not by the whole package as review-lint's own cache is: a change to
knowledge/ or rules/ then re-judges 34 corpora in about 30 s instead of re-parsing them
for minutes. The verdict cache is off. Valid only for changes that leave extraction
alone; a change to extraction gets a new key (and a cold run) by itself.
"""
import hashlib
import os
import sys
from pathlib import Path

import review_lint
from review_lint import collect
from review_lint.cli import main

PACKAGE = Path(review_lint.__file__).parent
EXTRACTION = sorted(PACKAGE.glob("extract/*.py")) + [
    PACKAGE / name for name in ("facts.py", "codec.py", "source.py", "positions.py", "libcst_patches.py", "__init__.py")]


def extraction_fingerprint() -> str:
    digest = hashlib.blake2b(digest_size=16)
    for path in EXTRACTION:
        digest.update(path.name.encode() + path.read_bytes())
    return "judge-" + digest.hexdigest()


def run() -> None:
    out = Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rules = sys.argv[2] if len(sys.argv) > 2 else "ALL"
    fingerprint = extraction_fingerprint()
    collect.code_fingerprint = lambda: fingerprint
    collect.Collector.verdicts = property(lambda self: None)
    os.environ["REVIEW_LINT_RULES_PATH"] = ""
    cache_root = Path.home() / ".cache" / "review-lint-judge"
    for line in sys.stdin:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, path = line.split()
        os.chdir(path)
        try:
            main(["check", ".", "--select", rules, "--format", "json", "--jobs", "1", "--quiet", "--exit-zero",
                  "--cache-dir", str(cache_root / name), "--output", str(out / f"{name}.json")])
        except SystemExit:
            pass
        print(name, file=sys.stderr)


if __name__ == "__main__":
    run()
