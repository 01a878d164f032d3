from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
collect_ignore_glob = ["fixtures/*", "engine_rules/*"]


@pytest.fixture(autouse=True)
def engine_test_rules(monkeypatch):
    """Make the tests-only rule RL900 available to every test."""
    monkeypatch.setenv("REVIEW_LINT_RULES_PATH", str(TESTS / "engine_rules"))
    # A deferred field that does not decode is a bug of ours here, never a default (codec._on_damage).
    monkeypatch.setenv("REVIEW_LINT_STRICT_DEFERRED", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
