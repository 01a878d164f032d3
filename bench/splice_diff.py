#!/usr/bin/env python3
"""Differential check of the language server's function re-extraction on a real corpus.

    python bench/splice_diff.py                         # Django, 200 files, 3 functions each
    python bench/splice_diff.py --files 0 --functions 0 # every file, every function (slow)

For sampled functions of sampled modules, every body edit of tests/splice_edits.py
(lines added, removed and changed, blocks, asserts, nested functions, classes, imports,
comments, suppressions, lines dedented out of the function, brackets left open) is
spliced into the module's facts (extract/splice.py) and extracted in full; each splice
must equal the full extraction. Prints how many edits of each kind were spliced and
how many fell back to a full extraction, and every mismatch; exits 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from run import CORPORA, fetch  # noqa: E402
from splice_edits import Tally, check_module  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=list(CORPORA), default="django")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "review-lint-bench")
    parser.add_argument("--files", type=int, default=200, help="modules sampled (0: all)")
    parser.add_argument("--functions", type=int, default=3, help="functions sampled per module (0: all)")
    parser.add_argument("--chain", action="store_true", help="each edit of a function on top of the last")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    corpus = fetch(args.work, CORPORA[args.corpus])
    from review_lint import libcst_patches

    rng = random.Random(args.seed)
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.py"))
    if args.files:
        files = rng.sample(files, min(args.files, len(files)))
    total = Tally()
    started = time.perf_counter()
    with libcst_patches.applied():
        for path in files:
            source = (corpus / path).read_bytes().decode("utf-8", "replace")
            total.add(check_module(corpus, path, source, rng, max_functions=args.functions or None,
                                   chain=args.chain))
    spliced, fell_back = sum(total.spliced.values()), sum(total.fell_back.values())
    print(f"{corpus.name}: {len(files)} modules, {spliced + fell_back} edits in {time.perf_counter() - started:.0f} s: "
          f"{spliced} spliced (each equal to the full extraction), {fell_back} extracted in full, "
          f"{len(total.mismatches)} mismatches")
    for name in sorted(set(total.spliced) | set(total.fell_back)):
        print(f"  {name:16} spliced {total.spliced[name]:5}   in full {total.fell_back[name]:5}")
    for mismatch in total.mismatches:
        print("MISMATCH", *mismatch)
    sys.exit(1 if total.mismatches else 0)


if __name__ == "__main__":
    main()
