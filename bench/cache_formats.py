#!/usr/bin/env python3
"""The facts cache's format against pickle, side by side on one project's facts.

    python bench/cache_formats.py ~/.cache/review-lint-bench/django-5.2.19 --runs 5

Extracts every file's facts once, then in alternating rounds stores and loads
them the way the cache does (each file's facts encoded on its own, one file
written), once with review-lint's MessagePack codec and once with pickle, which
the cache used until it was found to run whatever a planted file says. The
garbage collector is off, as in the command. Prints medians.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review_lint import codec  # noqa: E402
from review_lint.discovery import project_files  # noqa: E402
from review_lint.engine import facts_for_file  # noqa: E402


def _pickle_store(all_facts, path: Path) -> None:
    entries = {f.path: pickle.dumps(f, protocol=pickle.HIGHEST_PROTOCOL) for f in all_facts}
    digests = {k: hashlib.blake2b(v).digest() for k, v in entries.items()}
    path.write_bytes(pickle.dumps({"entries": entries, "digests": digests}, protocol=pickle.HIGHEST_PROTOCOL))


def _pickle_load(path: Path):
    stored = pickle.loads(path.read_bytes())
    return [pickle.loads(blob) for blob in stored["entries"].values()]


def _codec_store(all_facts, path: Path) -> None:
    entries = {f.path: codec.dump_facts(f) for f in all_facts}
    digests = {k: hashlib.blake2b(v).digest() for k, v in entries.items()}
    path.write_bytes(codec.seal_entries({"digests": digests}, entries))


def _codec_load(path: Path):
    _, entries = codec.unseal_entries(path.read_bytes())
    return [codec.load_facts(blob) for blob in entries.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.setrecursionlimit(10_000)
    root = args.project.resolve()
    all_facts = [facts_for_file(root, relative) for relative in project_files(root)]
    gc.disable()
    timings: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            for name, store, load in (("pickle", _pickle_store, _pickle_load),
                                      ("msgpack codec", _codec_store, _codec_load)):
                path = Path(folder) / name
                started = time.perf_counter()
                store(all_facts, path)
                timings.setdefault(f"{name} store", []).append(time.perf_counter() - started)
                started = time.perf_counter()
                loaded = load(path)
                timings.setdefault(f"{name} load", []).append(time.perf_counter() - started)
                assert loaded == all_facts, name
                sizes[name] = path.stat().st_size
    print(f"{len(all_facts)} files of {root.name}, {args.runs} rounds, medians\n")
    print("| format | store (s) | load (s) | file (MB) |\n| --- | ---: | ---: | ---: |")
    for name in ("pickle", "msgpack codec"):
        print(f"| {name} | {statistics.median(timings[name + ' store']):.3f} | "
              f"{statistics.median(timings[name + ' load']):.3f} | {sizes[name] / 1e6:.1f} |")


if __name__ == "__main__":
    main()
