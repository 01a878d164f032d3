"""Finding rules: `rules/<CODE>-<name>.yaml` beside `review_lint/rules/<code>_<name>.py`."""

from __future__ import annotations

import importlib
import os
import sys
import importlib.util
from pathlib import Path

from .config import ConfigError, GroupSpec, RuleSpec, load_group_spec, load_rule_spec
from .rule import Rule

_PACKAGE = Path(__file__).resolve().parent


def rules_dir() -> Path:
    """Installed wheels carry the YAML as package data; a source tree has it at the top."""
    for candidate in (_PACKAGE / "_rules", _PACKAGE.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"the rule definitions are missing (looked in {_PACKAGE / '_rules'})")


def rule_dirs() -> list[Path]:
    """The bundled rules, then any folders named in REVIEW_LINT_RULES_PATH (a team's own rules)."""
    extra = [Path(p) for p in os.environ.get("REVIEW_LINT_RULES_PATH", "").split(os.pathsep) if p]
    return [rules_dir(), *extra]


def load_groups() -> dict[str, GroupSpec]:
    """The option groups (`groups/*.yaml` in each rules folder) that rules take whole."""
    groups: dict[str, GroupSpec] = {}
    for directory in rule_dirs():
        for path in sorted((directory / "groups").glob("*.yaml")):
            group = load_group_spec(path)
            if group.name in groups:
                raise ConfigError(f"{path}:1: group: {group.name} is already defined in {groups[group.name].source}")
            groups[group.name] = group
    return groups


def load_specs() -> dict[str, RuleSpec]:
    specs: dict[str, RuleSpec] = {}
    groups = load_groups()
    for directory in rule_dirs():
        for path in sorted(directory.glob("*.yaml")):
            spec = load_rule_spec(path, groups)
            if spec.code in specs:
                raise ConfigError(f"{path}:1: code: {spec.code} is already defined in {specs[spec.code].source}")
            specs[spec.code] = spec
    return specs


def module_name(spec: RuleSpec) -> str:
    return f"review_lint.rules.{spec.code.lower()}_{spec.name.replace('-', '_')}"


def load_rule_class(spec: RuleSpec) -> type[Rule]:
    beside = spec.source.parent / f"{module_name(spec).rsplit('.', 1)[-1]}.py"
    if beside.is_file():
        # A rule kept beside its YAML (a team's own rules directory, the tests' rules).
        name = f"review_lint_local_rules.{beside.stem}"
        module = sys.modules.get(name)
        if module is None or getattr(module, "__file__", None) != str(beside):
            loaded = importlib.util.spec_from_file_location(name, beside)
            module = importlib.util.module_from_spec(loaded)
            # Registered like any import, so the fixer finds the module's `fix`.
            sys.modules[name] = module
            loaded.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name(spec))
    rule = getattr(module, "RULE", None)
    if rule is None or rule.code != spec.code:
        raise ConfigError(f"{module.__name__} does not define RULE for {spec.code}")
    return rule
