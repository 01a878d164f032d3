#!/usr/bin/env python3
"""Differential check of incremental judgement on a real corpus: random edits, and after
each one the language server's incremental findings against a full judgement.

    python bench/incremental_diff.py                       # Django from the sweep, 100 edits
    python bench/incremental_diff.py --edits 300 --seed 7 --corpus PATH

The corpus is loaded as the server loads it (live.LiveProject, every file's facts in
memory). Each step edits one module's text as an unsaved buffer, in a function chosen
at random: a line added to its body, an assert added, two reads of a row added, a
body line duplicated or deleted, the function renamed (its callers elsewhere no longer
resolve it), a line that does not parse; or an earlier edit is undone (the buffer
closed). Edits pile up across modules. After each, `LiveProject.judge()` (incremental)
must equal `LiveProject.judge(full=True)` for every file, and the edited module's facts
(re-extracted, or spliced when the edit stayed in one function body: extract/splice.py)
must equal a full extraction of its text. Reported: mismatches (with
the first differing findings), how many steps changed some finding, CPU time of the
incremental and the full judgement (after the re-extraction, which both share), and
how many modules each rule judged again.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DJANGO = Path.home() / ".cache/review-lint-sweep/src/django-5.2.19-py3-none-any"
HEADER = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def (?P<name>\w+)\(.*\).*:\s*(?:#.*)?$")
KINDS = ("line", "assert", "reads", "duplicate", "delete", "rename", "syntax", "undo")


def functions(lines: list[str]) -> list[tuple[int, str, str, int]]:
    """(header index, name, body indent, index after the body) of one-line `def` headers."""
    found = []
    for index, line in enumerate(lines):
        header = HEADER.match(line)
        if not header:
            continue
        indent = header["indent"]
        end = index + 1
        while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > len(indent)):
            end += 1
        body = [line for line in lines[index + 1:end] if line.strip()]
        if body:
            inner = body[0][:len(body[0]) - len(body[0].lstrip())]
            found.append((index, header["name"], inner, end))
    return found


def edited(text: str, kind: str, step: int, rng: random.Random) -> str | None:
    lines = text.splitlines(keepends=True)
    candidates = functions(lines)
    if not candidates:
        return None
    header, name, indent, end = rng.choice(candidates)
    body = [i for i in range(header + 1, end) if lines[i].strip()]
    insert = header + 1
    if kind == "line":
        new = [f"{indent}_edit_{step} = {step}\n"]
    elif kind == "assert":
        new = [f"{indent}assert _edit_{step} is not None\n"]
    elif kind == "reads":
        capitalised = sorted(set(re.findall(r"\b([A-Z]\w+)\b", text))) or ["Model"]
        model = rng.choice(capitalised)
        new = [f"{indent}_first = {model}.objects.get(pk=_edit_{step})\n",
               f"{indent}_second = {model}.objects.get(pk=_edit_{step})\n"]
    elif kind == "duplicate":
        line = rng.choice(body)
        return "".join(lines[:line + 1] + [lines[line]] + lines[line + 1:])
    elif kind == "delete":
        line = rng.choice(body)
        return "".join(lines[:line] + lines[line + 1:])
    elif kind == "rename":
        lines[header] = lines[header].replace(f"def {name}(", f"def {name}_renamed_{step}(", 1)
        return "".join(lines)
    else:  # a line that does not parse
        new = [f"{indent}if (_edit_{step}:\n"]
    return "".join(lines[:insert] + new + lines[insert:])


def first_difference(incremental: dict, full: dict) -> str:
    for path in sorted(set(incremental) | set(full)):
        mine, theirs = incremental.get(path, []), full.get(path, [])
        if mine != theirs:
            only_mine = [f"{d.rule}:{d.line}" for d in mine if d not in theirs]
            only_full = [f"{d.rule}:{d.line}" for d in theirs if d not in mine]
            return f"{path}: incremental only {only_mine}, full only {only_full}"
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DJANGO)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--cache", action="store_true", help="use (and write) the facts cache at the corpus root")
    args = parser.parse_args()

    from review_lint import libcst_patches
    from review_lint.engine import facts_for_file
    from review_lint.live import LiveProject

    rng = random.Random(args.seed)
    with libcst_patches.applied():  # as the server runs
        started = time.process_time()
        live = LiveProject(args.corpus, cache=args.cache)
        findings = live.judge()
        print(f"loaded {len(live.files)} files in {time.process_time() - started:.1f} s CPU", file=sys.stderr)
        modules = [p for p in live.files if p.endswith(".py")]
        mismatches, moved, facts_mismatches = [], 0, []
        incremental_times, full_times = [], []
        again: dict[str, list[int]] = {}
        kinds = Counter()
        for step in range(args.edits):
            kind = rng.choice(KINDS)
            if kind == "undo" and live.source.contents:
                path = rng.choice(sorted(live.source.contents))
                live.close_buffer(path)
            else:
                kind = "line" if kind == "undo" else kind
                text = None
                while text is None:  # a module with a function to edit
                    path = rng.choice(modules)
                    current = live.source.contents.get(path) or (args.corpus / path).read_bytes()
                    text = edited(current.decode("utf-8", "surrogatepass"), kind, step, rng)
                live.set_buffer(path, text)
            kinds[kind] += 1
            live.source.gather(live.root, live.files)  # the re-extraction both judgements share
            if path in live.source.held and path not in live.source.broken:
                data = live.source.contents.get(path) or (args.corpus / path).read_bytes()
                if live.source.held[path] != facts_for_file(args.corpus, path, data):
                    facts_mismatches.append(f"step {step} ({kind} in {path}): facts differ from a full extraction")
                    print(facts_mismatches[-1], file=sys.stderr)
            clock = time.process_time()
            incremental = live.judge()
            incremental_times.append(time.process_time() - clock)
            for code, count in live.judgements.judged_again.items():
                again.setdefault(code, []).append(count)
            clock = time.process_time()
            full = live.judge(full=True)
            full_times.append(time.process_time() - clock)
            if incremental != full:
                mismatches.append(f"step {step} ({kind} in {path}): {first_difference(incremental, full)}")
                print(mismatches[-1], file=sys.stderr)
            moved += incremental != findings
            findings = incremental
    steps = len(incremental_times)
    print(f"corpus: {args.corpus.name} ({len(live.files)} files); seed {args.seed}; {steps} edits "
          f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    print(f"edits that changed some finding: {moved}")
    print(f"mismatches between incremental and full judgement: {len(mismatches)}")
    for line in mismatches[:20]:
        print(f"  {line}")
    print(f"modules re-extracted: {live.source.extracted}, of which spliced (one function): {live.source.spliced}; "
          f"facts unequal to a full extraction: {len(facts_mismatches)}")
    for line in facts_mismatches[:20]:
        print(f"  {line}")
    if steps:
        for label, times in (("incremental", incremental_times), ("full", full_times)):
            ordered = sorted(times)
            print(f"{label} judgement, CPU ms: p50 {1000 * statistics.median(ordered):.0f}, "
                  f"p95 {1000 * ordered[int(0.95 * (len(ordered) - 1))]:.0f}, max {1000 * ordered[-1]:.0f}")
        print("modules judged again per edit (median / max; 'whole': the rule judges the whole project at once): "
              + ", ".join(f"{code} whole" if None in counts else f"{code} {statistics.median(counts):.0f}/{max(counts)}"
                          for code, counts in sorted(again.items())))
    return 1 if mismatches or facts_mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
