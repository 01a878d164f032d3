from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
collect_ignore_glob = ["fixtures/*", "engine_rules/*"]


@pytest.fixture(autouse=True)
def engine_test_rules(monkeypatch):
    """Make the tests-only rule RL900 available to every test."""
    monkeypatch.setenv("REVIEW_LINT_RULES_PATH", str(TESTS / "engine_rules"))
    monkeypatch.delenv("NO_COLOR", raising=False)
