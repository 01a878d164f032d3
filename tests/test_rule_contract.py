"""What every rule owes its users and the engine (docs/adding-a-rule.md is the checklist)."""

from __future__ import annotations

import ast
import os
import re
import textwrap
from pathlib import Path

import pytest

from review_lint import registry
from review_lint.collect import Collector
from review_lint.engine import Engine, Options, _connected, _shares
from tests.marks import expected_marks

REPO = Path(__file__).resolve().parent.parent
BUNDLED = {code: spec for code, spec in registry.load_specs().items() if spec.source.parent == registry.rules_dir()}
DOC_SECTIONS = ("what-it-does", "why-it-matters", "example", "use-instead")


def _keeps_project_knowledge(name: str) -> bool:
    """A knowledge module that builds project-wide results once (in `project.memo`)."""
    return ".memo(" in (REPO / "review_lint" / "knowledge" / f"{name}.py").read_text()


@pytest.mark.parametrize("code", sorted(BUNDLED))
def test_a_rule_declares_exactly_the_project_knowledge_it_imports(code):
    # The engine judges rules that share knowledge in one process, so that it is
    # built once: a rule that asks for knowledge it does not declare builds it twice.
    rule = registry.load_rule_class(BUNDLED[code])
    source = Path(registry.module_name(BUNDLED[code]).replace(".", "/") + ".py")
    tree = ast.parse((REPO / source).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-2:-1] == ["knowledge"]:
            imported.add(node.module.split(".")[-1])
    assert set(rule.uses) == {name for name in imported if _keeps_project_knowledge(name)}


@pytest.mark.parametrize("code", sorted(BUNDLED))
def test_a_rule_has_docs_fixtures_with_good_twins_and_a_readme_row(code):
    spec = BUNDLED[code]
    for section in DOC_SECTIONS:
        assert spec.docs.get(section, "").strip(), f"{spec.source.name}: docs.{section} is missing"
    for name, option in spec.options.items():
        assert option.description.strip(), f"{spec.source.name}: options.{name} has no description"
    fixtures = REPO / "tests" / "fixtures" / code
    marked = {path for path, _, mark in expected_marks(fixtures) if mark == code}
    assert marked, f"no `# expect: {code}` mark under {fixtures}"
    files = {p.relative_to(fixtures).as_posix() for p in fixtures.rglob("*.py")}
    assert files - marked, f"{fixtures}: every file has a finding; add the good twins"
    readme = (REPO / "README.md").read_text()
    assert re.search(rf"^\| {code} \| `{spec.name}` \|", readme, re.MULTILINE), f"README has no row for {code}"


def test_rules_that_share_knowledge_are_grouped_transitively():
    uses = {"RL001": {"callgraph", "handlers"}, "RL002": {"handlers", "models"}, "RL003": {"db"},
            "RL004": {"db", "flow"}, "RL005": {"models"}, "RL900": set()}
    assert _connected(uses) == [["RL001", "RL002", "RL005"], ["RL003", "RL004"], ["RL900"]]
    # Largest group first, each onto the smallest share; this process takes the largest.
    assert _shares(_connected(uses), 2) == [["RL001", "RL002", "RL005"], ["RL003", "RL004", "RL900"]]
    assert _shares(_connected(uses), 1) == [["RL001", "RL002", "RL003", "RL004", "RL005", "RL900"]]
    assert _shares([["RL001"]], 8) == [["RL001"]]


PID_RULE = '''
import os
from review_lint.diagnostics import Finding
from review_lint.rule import Rule


class Pid(Rule):
    code = "{code}"
    name = "{name}"
    uses = frozenset({uses})

    def check(self, project):
        module = project.all_modules[0]
        yield Finding(module.path, (1, 1, 1, 1), f"judged in {{os.getpid()}}")


RULE = Pid
'''

PID_SPEC = '''
code: {code}
name: {name}
summary: Reports the process that judged it (engine tests only).
severity: warning
enabled: true
docs:
  what-it-does: Reports the process id that judged it.
  why-it-matters: It shows how the engine groups rules.
  example: x = 1
  use-instead: x = 1
'''


def test_rules_sharing_knowledge_are_judged_in_one_process(tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    rules.mkdir()
    for code, name, uses in [("RL910", "first-of-a-pair", '{"shared"}'), ("RL911", "second-of-a-pair", '{"shared"}'),
                             ("RL912", "on-its-own", '{"other"}')]:
        module = f"{code.lower()}_{name.replace('-', '_')}"
        (rules / f"{code}-{name}.yaml").write_text(PID_SPEC.format(code=code, name=name))
        (rules / f"{module}.py").write_text(textwrap.dedent(PID_RULE.format(code=code, name=name, uses=uses)))
    monkeypatch.setenv("REVIEW_LINT_RULES_PATH", str(rules))
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("x = 1\n")
    select = ["RL910", "RL911", "RL912"]
    engine = Engine(Options(paths=[str(root)], root=str(root), select=select), cwd=root)
    judged_by = {d.rule: d.message for d in engine.run(source=Collector(jobs=2)).diagnostics}
    assert set(judged_by) == set(select)
    assert judged_by["RL910"] == judged_by["RL911"]
    if os.sys.platform.startswith("linux"):
        assert judged_by["RL912"] != judged_by["RL910"], "two cores: the other group is judged beside it"


# Judgement reads structured facts; a regular expression over source text silently
# changes a verdict when the text is cut or spelled differently. Row keys, compared
# columns, constraint columns and handler maps are read from the facts' structure.
def test_judgement_applies_no_regular_expression_to_source_text():
    judging = [*sorted((REPO / "review_lint" / "knowledge").glob("*.py")), *sorted((REPO / "review_lint" / "rules").glob("*.py")),
               REPO / "review_lint" / "project.py"]
    using_re = set()
    for path in judging:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(alias.name == "re" for alias in node.names):
                using_re.add(path.relative_to(REPO).as_posix())
            if isinstance(node, ast.ImportFrom) and node.module == "re":
                using_re.add(path.relative_to(REPO).as_posix())
    assert not using_re, f"regular expressions in judgement: {sorted(using_re)}"
