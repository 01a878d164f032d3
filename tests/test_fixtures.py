"""Every fixture case is a small project; its `# expect: RLnnn` marks are the truth.

tests/fixtures/<RULE>/<case>/ is run with only <RULE> selected (plus RL000,
which is always on); the set of (file, line, code) reported must equal the
set of marks. tests/fixtures/engine/ cases run the tests-only rule RL900.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from marks import expected_marks
from review_lint.engine import Engine, Options

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CASES = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir() and not p.name.startswith((".", "_")))


def rule_for(case: Path) -> str:
    return "RL900" if case.parent.name == "engine" else case.parent.name


def reported(case: Path) -> set[tuple[str, int, str]]:
    engine = Engine(Options(paths=[str(case)], select=[rule_for(case)], root=str(case)), cwd=case)
    result = engine.run()
    found = [(d.path, d.line, d.column, d.rule) for d in result.diagnostics]
    # One finding per place: the same assert reached under several keys is reported once.
    assert len(found) == len(set(found)), f"reported twice: {sorted(f for f in found if found.count(f) > 1)}"
    return {(d.path, d.line, d.rule) for d in result.diagnostics}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture_case(case: Path) -> None:
    expected = expected_marks(case)
    actual = reported(case)
    missing = sorted(expected - actual)
    unexpected = sorted(actual - expected)
    assert not missing and not unexpected, f"missed: {missing}\nunexpected: {unexpected}"
