"""Reading `# expect: RL001` marks out of fixture files."""

from __future__ import annotations

import re
from pathlib import Path

EXPECT = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def expected_marks(case: Path) -> set[tuple[str, int, str]]:
    marks = set()
    for path in sorted(case.rglob("*.py")):
        relative = path.relative_to(case).as_posix()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                for code in match.group(1).split(","):
                    marks.add((relative, number, code.strip()))
    return marks
