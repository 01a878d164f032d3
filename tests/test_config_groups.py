"""Options shared by several rules are set once, in their group's section."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import MISSING, fields
from pathlib import Path

import pytest
from click.testing import CliRunner

import review_lint
from review_lint import registry
from review_lint.cli import cli
from review_lint.config import ConfigError, load_rule_spec, load_settings
from review_lint.engine import Engine, Options
from review_lint.knowledge.db import DbOptions
from review_lint.knowledge.handlers import HandlerConfig

PACKAGE = Path(review_lint.__file__).resolve().parent

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


def test_a_web_setting_reaches_every_rule_that_asks_what_a_handler_is(tmp_path):
    loaded = settings(tmp_path, "web:\n  app-classes: [inhouse.web.Service]\n")
    assert loaded.rules["RL001"].options["app-classes"] == ["inhouse.web.Service"]
    assert loaded.rules["RL002"].options["app-classes"] == ["inhouse.web.Service"]


def test_every_rule_taking_a_group_takes_all_of_it():
    specs, groups = registry.load_specs(), registry.load_groups()
    assert {code for code, spec in specs.items() if "database" in spec.groups} == {"RL003", "RL004"}
    assert {code for code, spec in specs.items() if "web" in spec.groups} == {"RL001", "RL002"}
    for spec in specs.values():
        for name in spec.groups:
            assert set(groups[name].options) <= set(spec.options), (spec.code, name)


def _string_literals(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and node.elts and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            yield node.lineno, {e.value for e in node.elts}


def test_no_default_the_yaml_states_is_copied_into_python():
    # A copy drifts (it once did: `broad-errors` differed, RL003 lacked `insert-helpers`).
    defaults = {(option.group or code, option.name): set(option.default)
                for code, spec in registry.load_specs().items() for option in spec.options.values()
                if isinstance(option.default, list) and len(option.default) >= 2}
    copies = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, literal in _string_literals(ast.parse(path.read_text())):
            copies += [f"{path.name}:{line}: {owner}.{name}" for (owner, name), default in defaults.items()
                       if default <= literal]
    assert copies == []


def test_the_knowledge_option_records_have_no_defaults_of_their_own():
    for record in (DbOptions, HandlerConfig):
        assert all(f.default is MISSING and f.default_factory is MISSING for f in fields(record)), record.__name__


def test_a_rule_file_taking_an_unknown_group_is_refused(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "RL950-x.yaml").write_text("code: RL950\nname: x\nsummary: s\nseverity: info\ngroups: [datbase]\n")
    with pytest.raises(ConfigError, match=r"RL950-x.yaml:5: groups: unknown option group 'datbase' "
                                          r"\(known: database, web\)"):
        load_rule_spec(rules / "RL950-x.yaml", registry.load_groups())


def test_a_rule_may_not_restate_an_option_of_its_group(tmp_path):
    path = tmp_path / "RL950-x.yaml"
    path.write_text("code: RL950\nname: x\nsummary: s\nseverity: info\ngroups: [database]\noptions:\n"
                    "  receivers:\n    type: list[str]\n    default: [s]\n    description: d\n")
    with pytest.raises(ConfigError, match=r"RL950-x.yaml:7: options.receivers: already given by the option group"):
        load_rule_spec(path, registry.load_groups())


def test_the_rule_doc_lists_a_groups_options_under_the_group():
    out = CliRunner().invoke(cli, ["rule", "RL003"]).output
    own, shared = out.split("## Options of the `database` group")
    assert "- skip-paths" in own and "- insert-helpers" not in own
    assert "Shared with RL004: set them once under `database:`" in shared
    assert "- insert-helpers (list[str], default ['create_*', 'insert_*'])" in shared
