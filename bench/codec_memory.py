#!/usr/bin/env python3
"""What the facts cache's codec costs to decode, and what the decoded facts weigh.

    PYTHONPATH=CHECKOUT python bench/codec_memory.py [CORPUS] [--runs 5]

Extracts every file of CORPUS (Django's wheel from the sweep by default) once with the
checkout's extractor, encodes each file's facts as the cache does, then decodes them all
`--runs` times (best CPU time kept) and once more under `tracemalloc` for the memory the
decoded facts hold; the round trip must give back equal facts. Run two checkouts one after
the other, alternating, to compare codecs (docs/performance.md, "Cache format v2").
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path

import libcst as cst

from review_lint import codec
from review_lint.extract import extract


def main() -> None:
    parser = argparse.ArgumentParser()
    default = next(Path.home().joinpath(".cache/review-lint-sweep/src").glob("django-5.2.19-*"), None)
    parser.add_argument("corpus", type=Path, nargs="?", default=default)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    facts = []
    for path in sorted(args.corpus.rglob("*.py")):
        source = path.read_text(encoding="utf-8", errors="replace")
        try:
            facts.append(extract(str(path.relative_to(args.corpus)), source, cst.parse_module(source)))
        except Exception:  # noqa: BLE001 - a file LibCST cannot parse is not this benchmark's subject
            pass
    blobs = [codec.dump_facts(f) for f in facts]
    gc.disable()
    best = min(_decode_seconds(blobs) for _ in range(args.runs))
    gc.collect()
    tracemalloc.start()
    decoded = [codec.load_facts(b) for b in blobs]
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert decoded == facts, "the round trip changed some facts"
    print(f"files {len(facts)}; encoded {sum(map(len, blobs)) / 1e6:.2f} MB; decode {best:.3f} s CPU "
          f"(best of {args.runs}); decoded facts {held / 1e6:.1f} MB")


def _decode_seconds(blobs: list[bytes]) -> float:
    started = time.process_time()
    for blob in blobs:
        codec.load_facts(blob)
    return time.process_time() - started


if __name__ == "__main__":
    sys.exit(main())
