#!/usr/bin/env python3
"""What changed between two `bench/sweep.py --findings` (or `bench/hunt.sh`) folders, finding by finding.

    python bench/compare.py /tmp/before /tmp/after

Prints, per corpus, each finding only one side has (`-` before, `+` after) as
`rule path:line message`, and exits 1 when anything differs. A finding whose
message or related locations changed shows as one `-` and one `+`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def findings(path: Path) -> set[str]:
    """The findings of one corpus: a list (`bench/sweep.py --findings`) or the `--format json`
    envelope (`{"diagnostics": [...]}`, as `bench/hunt.sh` writes), whose keys would otherwise
    be compared instead of its findings."""
    if not path.is_file():
        return set()
    data = json.loads(path.read_text())
    if isinstance(data, dict):
        data = data.get("diagnostics", [])
    return {json.dumps(d, sort_keys=True) for d in data}


def line(encoded: str) -> str:
    d = json.loads(encoded)
    return f"{d['rule']} {d['path']}:{d['line']} {d['message'].splitlines()[0][:160]}"


def main(before: Path, after: Path) -> int:
    differs = False
    for name in sorted({p.name for p in before.glob("*.json")} | {p.name for p in after.glob("*.json")}):
        old, new = findings(before / name), findings(after / name)
        if old == new:
            continue
        differs = True
        print(f"## {name[:-5]}: {len(old)} -> {len(new)}")
        for encoded in sorted(old - new, key=line):
            print(f"- {line(encoded)}")
        for encoded in sorted(new - old, key=line):
            print(f"+ {line(encoded)}")
    if not differs:
        print("identical")
    return 1 if differs else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
