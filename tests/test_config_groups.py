"""Options shared by several rules are set once, in their group's section."""

from __future__ import annotations

import textwrap
from pathlib import Path

from review_lint import registry
from review_lint.config import load_settings
from review_lint.engine import Engine, Options

REREAD = textwrap.dedent(
    """\
    from models import User


    def rename(store, user_id, name):
        user = store.get(User, user_id)
        user.name = name
        store.flush()
        return store.get(User, user_id)
    """
)


def settings(tmp_path: Path, text: str):
    path = tmp_path / ".review-lint.yaml"
    path.write_text(text)
    return load_settings(path, registry.load_specs())


def test_a_database_setting_reaches_every_rule_that_takes_it(tmp_path):
    loaded = settings(tmp_path, "database:\n  receivers: [store]\n")
    assert loaded.rules["RL003"].options["receivers"] == ["store"]
    assert loaded.rules["RL004"].options["receivers"] == ["store"]


def test_a_rule_own_setting_wins_over_its_group(tmp_path):
    loaded = settings(tmp_path, "database:\n  receivers: [store]\nrules:\n  RL004:\n    receivers: [repo]\n")
    assert loaded.rules["RL003"].options["receivers"] == ["store"]
    assert loaded.rules["RL004"].options["receivers"] == ["repo"]


def test_the_shared_receivers_change_what_rl003_reports(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "app.py").write_text(REREAD)

    def reported() -> list[tuple[str, int]]:
        engine = Engine(Options(paths=[str(tmp_path)], root=str(tmp_path), select=["RL003"]), cwd=tmp_path)
        return [(d.rule, d.line) for d in engine.run().diagnostics]

    assert reported() == []  # `store` is not a session name by default
    (tmp_path / ".review-lint.yaml").write_text("database:\n  receivers: [store]\n")
    assert reported() == [("RL003", 8)]
