"""The bundled demo (examples/) is what a newcomer runs first: every rule must
report exactly the lines marked `# expect: RLnnn` there, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from marks import expected_marks
from review_lint.engine import Engine, Options

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def bundled_rules_only(monkeypatch):
    monkeypatch.delenv("REVIEW_LINT_RULES_PATH", raising=False)


def test_examples_report_exactly_their_marks(bundled_rules_only) -> None:
    engine = Engine(Options(paths=[str(EXAMPLES)]), cwd=EXAMPLES)
    assert engine.root == EXAMPLES, "examples/ carries its own .review-lint.yaml, so it is its own project"
    reported = {(d.path, d.line, d.rule) for d in engine.run().diagnostics}
    expected = {mark for mark in expected_marks(EXAMPLES) if mark[2] in engine.enabled}
    assert reported == expected
