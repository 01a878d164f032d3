"""Rule specifications (rules/*.yaml) and the project configuration (.review-lint.yaml).

Both are YAML read with the safe loader, with the line of every key kept so
that a mistake is reported as `file:line: key: what is wrong`. The project
configuration may instead be the `[tool.review-lint]` table of pyproject.toml
(review_lint/pyproject.py reads it with the same lines kept), validated here
by the same code.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_NAME = ".review-lint.yaml"
SEVERITIES = ("error", "warning", "info")
DEFAULT_TEST_PATHS = ["tests/**", "test_*.py", "*_test.py", "conftest.py"]
MAX_CONFIG_BYTES = 1 << 20
MAX_CONFIG_NODES = 100_000  # after alias expansion: refuses "billion laughs"


class ConfigError(Exception):
    """A configuration mistake, already phrased for the user on one line."""


# -- YAML with line numbers ------------------------------------------------
class _Loader(yaml.SafeLoader):
    pass


# Every run reads the rule docs first; libyaml's parser (in PyYAML's wheels) reads
# them ten times faster. The project's own file keeps the pure parser, whose
# messages for broken YAML are the same on every machine.
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


class _Mapping(dict):
    """A dict that remembers the line of each key."""

    lines: dict[str, int]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> _Mapping:
    loader.flatten_mapping(node)
    mapping = _Mapping()
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise ConfigError(f"{loader.name}:{line}: a key must be a plain value")
        key = str(key)
        if key in mapping:
            raise ConfigError(f"{loader.name}:{line}: {key}: given twice (first on line {mapping.lines[key]})")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _count_nodes(node: yaml.Node, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError("too many values once aliases are expanded")
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _count_nodes(key, budget)
            _count_nodes(value, budget)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _count_nodes(item, budget)


def load_yaml(path: Path, fast: bool = False) -> Any:
    """Safe-load a YAML file; size and alias expansion are bounded."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
    text = data.decode("utf-8", errors="replace")
    try:
        loader = (_FastLoader if fast else _Loader)(text)
        loader.name = str(path)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _count_nodes(node, [MAX_CONFIG_NODES])
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except ConfigError as error:
        message = str(error)
        raise ConfigError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{where}: invalid YAML: {' '.join(str(problem).split())}") from None


def _line(mapping: Any, key: str) -> int:
    return getattr(mapping, "lines", {}).get(key, 1)


# -- option types ------------------------------------------------------------
_TYPES = {
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "list[str]": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "dict[str,str]": lambda v: isinstance(v, dict) and all(isinstance(i, str) for i in v.values()),
}


def type_words(type_name: str) -> str:
    """`one-of[a,b]` -> "one of a, b"; other types as written."""
    if type_name.startswith("one-of[") and type_name.endswith("]"):
        return "one of " + ", ".join(type_name[len("one-of["):-1].split(","))
    return type_name


def _shown(type_name: str, value: Any) -> str:
    if type_name.startswith("one-of[") and isinstance(value, str):
        return repr(value)[:40]
    return type(value).__name__


def check_type(type_name: str, value: Any) -> bool:
    if type_name.endswith("|null"):
        return value is None or check_type(type_name[: -len("|null")], value)
    if type_name.startswith("one-of[") and type_name.endswith("]"):  # one-of[a,b,c]: one of these strings
        return isinstance(value, str) and value in type_name[len("one-of["):-1].split(",")
    test = _TYPES.get(type_name)
    return test is not None and test(value)


# -- rule specifications -----------------------------------------------------
@dataclass
class OptionSpec:
    name: str
    type: str
    default: Any
    description: str
    # The option group (`rules/groups/<group>.yaml`) this option comes from: a
    # top-level section of the project configuration sets it for every rule that
    # takes the group (`database:` for RL003 and RL004, `web:` for RL001 and RL002).
    group: str | None = None


@dataclass
class GroupSpec:
    """Options several rules share, stated once: `rules/groups/<name>.yaml`."""

    name: str
    summary: str
    description: str
    options: dict[str, OptionSpec]
    source: Path


@dataclass
class RuleSpec:
    code: str
    name: str
    summary: str
    severity: str
    enabled: bool
    options: dict[str, OptionSpec]  # the rule's own, then those of the groups it takes
    docs: dict[str, str]
    source: Path
    groups: tuple[str, ...] = ()


_SPEC_KEYS = {"code", "name", "summary", "severity", "enabled", "groups", "options", "docs"}
_GROUP_KEYS = {"group", "summary", "description", "options"}
DOC_SECTIONS = ("what-it-does", "why-it-matters", "example", "use-instead")


def _load_mapping(path: Path, kind: str, keys: set[str]) -> dict:
    data = load_yaml(path, fast=True)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: {kind} must be a mapping")
    for key in data:
        if key not in keys:
            raise ConfigError(f"{path}:{_line(data, key)}: {key}: unknown key (expected one of {', '.join(sorted(keys))})")
    return data


def _option_specs(path: Path, data: dict, group: str | None) -> dict[str, OptionSpec]:
    options: dict[str, OptionSpec] = {}
    section = data.get("options") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}:{_line(data, 'options')}: options: must be a mapping of options")
    for name, option in section.items():
        where = f"{path}:{_line(section, name)}: options.{name}"
        if not isinstance(option, dict) or not isinstance(option.get("type"), str) or "default" not in option:
            raise ConfigError(f"{where}: needs `type`, `default` and `description`")
        unknown = set(option) - {"type", "default", "description"}
        if unknown:
            raise ConfigError(f"{where}: {sorted(unknown)[0]}: unknown key (expected type, default, description)")
        if not check_type(option["type"], option["default"]):
            raise ConfigError(f"{where}: default does not match type {option['type']}")
        options[name] = OptionSpec(name, option["type"], option["default"], str(option.get("description", "")), group)
    return options


def load_group_spec(path: Path) -> GroupSpec:
    data = _load_mapping(path, "an option group file", _GROUP_KEYS)
    name = data.get("group")
    if not isinstance(name, str) or name in _TOP_KEYS or not _GROUP.fullmatch(name) or name != path.stem:
        raise ConfigError(f"{path}:{_line(data, 'group')}: group: must be the file's name ({path.stem}), a lowercase "
                          f"name other than {', '.join(sorted(_TOP_KEYS))}")
    return GroupSpec(name, str(data.get("summary", "")), str(data.get("description", "")).strip(),
                     _option_specs(path, data, name), path)


def load_rule_spec(path: Path, groups: dict[str, GroupSpec] | None = None) -> RuleSpec:
    data = _load_mapping(path, "a rule file", _SPEC_KEYS)
    for key in ("code", "name", "summary", "severity"):
        if not isinstance(data.get(key), str):
            raise ConfigError(f"{path}:{_line(data, key)}: {key}: must be a string")
    if data["severity"] not in SEVERITIES:
        raise ConfigError(f"{path}:{_line(data, 'severity')}: severity: must be one of {', '.join(SEVERITIES)}")
    options = _option_specs(path, data, None)
    taken = data.get("groups") or []
    if not check_type("list[str]", taken):
        raise ConfigError(f"{path}:{_line(data, 'groups')}: groups: must be a list of option group names")
    for name in taken:
        group = (groups or {}).get(name)
        if group is None:
            known = ", ".join(sorted(groups or {})) or "none"
            raise ConfigError(f"{path}:{_line(data, 'groups')}: groups: unknown option group {name!r} (known: {known})")
        for option in group.options.values():
            if option.name in options:
                raise ConfigError(f"{path}:{_line(data['options'], option.name)}: options.{option.name}: "
                                  f"already given by the option group {name!r} ({group.source})")
            options[option.name] = option
    docs = {str(k): str(v).rstrip() for k, v in (data.get("docs") or {}).items()}
    return RuleSpec(
        code=data["code"],
        name=data["name"],
        summary=data["summary"],
        severity=data["severity"],
        enabled=bool(data.get("enabled", True)),
        options=options,
        docs=docs,
        source=path,
        groups=tuple(taken),
    )


# -- the project configuration ------------------------------------------------
@dataclass
class RuleSettings:
    enabled: bool
    severity: str
    options: dict[str, Any]


@dataclass
class Settings:
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, frozenset[str]] = field(default_factory=dict)
    test_paths: list[str] = field(default_factory=lambda: list(DEFAULT_TEST_PATHS))
    rules: dict[str, RuleSettings] = field(default_factory=dict)  # by code
    source: Path | None = None

    def is_excluded(self, relative: str) -> bool:
        return matches_any(relative, self.exclude)

    def is_test(self, relative: str) -> bool:
        return matches_any(relative, self.test_paths)

    def ignored_codes(self, relative: str) -> frozenset[str]:
        codes: set[str] = set()
        for pattern, ignored in self.per_file_ignores.items():
            if matches_any(relative, [pattern]):
                codes |= ignored
        return frozenset(codes)


_TOP_KEYS = {"exclude", "per-file-ignores", "test-paths", "rules"}
_GROUP = re.compile(r"[a-z][a-z0-9-]*")


def top_level_keys(specs: dict[str, RuleSpec]) -> set[str]:
    """Every key the configuration takes at its top level (the same in YAML and TOML)."""
    return _TOP_KEYS | set(option_groups(specs))


def read_configuration(path: Path) -> Any:
    """The settings document with the line of every key: `.review-lint.yaml` (or
    any YAML file), or the `[tool.review-lint]` table of a `.toml` file."""
    if path.suffix != ".toml":
        return load_yaml(path)
    from .pyproject import read_table

    found = read_table(path)
    if found is None:
        raise ConfigError(f"{path}: no [tool.review-lint] table")
    return found[0]


def load_settings(path: Path | None, specs: dict[str, RuleSpec]) -> Settings:
    """Defaults from the rule specs, overridden by the project's configuration file."""
    settings = Settings(source=path)
    for code, spec in specs.items():
        defaults = {name: option.default for name, option in spec.options.items()}
        settings.rules[code] = RuleSettings(spec.enabled, spec.severity, defaults)
    if path is None:
        return settings
    data = read_configuration(path)
    if data is None:
        return settings
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the configuration must be a mapping")
    groups = option_groups(specs)
    known = top_level_keys(specs)
    for key in data:
        if key not in known:
            expected = ", ".join(sorted(known))
            raise ConfigError(f"{path}:{_line(data, key)}: {key}: unknown key (expected one of {expected})")
    for key, attr in (("exclude", "exclude"), ("test-paths", "test_paths")):
        if key in data:
            value = data[key]
            if not check_type("list[str]", value):
                raise ConfigError(f"{path}:{_line(data, key)}: {key}: must be a list of glob strings")
            setattr(settings, attr, list(value))
    if "per-file-ignores" in data:
        settings.per_file_ignores = _per_file_ignores(path, data, specs)
    for group in groups:
        if group in data:
            _group_settings(path, data, group, specs, settings)
    if "rules" in data:
        _rule_overrides(path, data, specs, settings)  # a rule's own setting wins over its group's
    return settings


def option_groups(specs: dict[str, RuleSpec]) -> dict[str, dict[str, list[tuple[str, OptionSpec]]]]:
    """group -> option name -> the (rule code, option) pairs that take it."""
    groups: dict[str, dict[str, list[tuple[str, OptionSpec]]]] = {}
    for code, spec in specs.items():
        for option in spec.options.values():
            if option.group is not None:
                groups.setdefault(option.group, {}).setdefault(option.name, []).append((code, option))
    return groups


def _group_settings(path: Path, data: dict, group: str, specs: dict[str, RuleSpec], settings: Settings) -> None:
    section = data[group]
    if section is None:
        return
    if not isinstance(section, dict):
        raise ConfigError(f"{path}:{_line(data, group)}: {group}: must be a mapping of options")
    known = option_groups(specs)[group]
    for name, value in section.items():
        at = f"{path}:{_line(section, name)}: {group}.{name}"
        if name not in known:
            raise ConfigError(f"{at}: unknown option (known: {', '.join(sorted(known))})")
        for code, option in known[name]:
            if not check_type(option.type, value):
                raise ConfigError(f"{at}: must be {type_words(option.type)}, got {_shown(option.type, value)}")
            settings.rules[code].options[name] = value


def _per_file_ignores(path: Path, data: dict, specs: dict[str, RuleSpec]) -> dict[str, frozenset[str]]:
    value = data["per-file-ignores"]
    if not isinstance(value, dict):
        raise ConfigError(f"{path}:{_line(data, 'per-file-ignores')}: per-file-ignores: must map globs to rule codes")
    result = {}
    for pattern, codes in value.items():
        where = f"{path}:{_line(value, pattern)}: per-file-ignores.{pattern}"
        if isinstance(codes, str):
            codes = [c for c in re.split(r"[,\s]+", codes) if c]
        if not check_type("list[str]", codes):
            raise ConfigError(f"{where}: must be a list of rule codes or names")
        try:
            result[pattern] = frozenset(rule_code(c, specs) for c in codes)
        except KeyError as error:
            raise ConfigError(f"{where}: unknown rule {error.args[0]}") from None
    return result


def _rule_overrides(path: Path, data: dict, specs: dict[str, RuleSpec], settings: Settings) -> None:
    rules = data["rules"]
    if not isinstance(rules, dict):
        raise ConfigError(f"{path}:{_line(data, 'rules')}: rules: must map rule codes or names to settings")
    for key, overrides in rules.items():
        where = f"{path}:{_line(rules, key)}: rules.{key}"
        try:
            code = rule_code(key, specs)
        except KeyError:
            raise ConfigError(f"{where}: unknown rule") from None
        if overrides is None:
            continue
        if not isinstance(overrides, dict):
            raise ConfigError(f"{where}: must be a mapping of settings")
        spec, current = specs[code], settings.rules[code]
        for name, value in overrides.items():
            at = f"{path}:{_line(overrides, name)}: rules.{key}.{name}"
            if name == "enabled":
                if not isinstance(value, bool):
                    raise ConfigError(f"{at}: must be true or false")
                current.enabled = value
            elif name == "severity":
                if value not in SEVERITIES:
                    raise ConfigError(f"{at}: must be one of {', '.join(SEVERITIES)}")
                current.severity = value
            elif name in spec.options:
                option = spec.options[name]
                if not check_type(option.type, value):
                    raise ConfigError(f"{at}: must be {type_words(option.type)}, got {_shown(option.type, value)}")
                current.options[name] = value
            else:
                known = ", ".join(["enabled", "severity", *spec.options]) or "enabled, severity"
                raise ConfigError(f"{at}: unknown option (known: {known})")


def rule_code(code_or_name: str, specs: dict[str, RuleSpec]) -> str:
    """Accept `RL001` or `assert-in-handler`; KeyError for neither."""
    wanted = str(code_or_name).strip()
    if wanted.upper() in specs:
        return wanted.upper()
    for code, spec in specs.items():
        if spec.name == wanted.lower():
            return code
    raise KeyError(wanted)


# -- globs -------------------------------------------------------------------
@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` crosses folders, `*` and `?` do not. A pattern without a leading `/`
    may match at any folder depth; one ending in `/` matches everything below."""
    anchored = pattern.startswith("/")
    pattern = pattern.strip("/") + ("/**" if pattern.endswith("/") else "")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i)
            if end == -1:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                out.append(fnmatch.translate(pattern[i : end + 1])[4:-3])
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(prefix + "".join(out) + r"(?:/.*)?\Z")


_NAME_GLOBS: dict[tuple[str, ...], re.Pattern | None] = {}


def name_matches(name: str, patterns: list[str]) -> bool:
    """Whether a name matches any of an option's globs (`get_*`); called ~100,000 times on Django."""
    key = tuple(patterns)
    compiled = _NAME_GLOBS.get(key)
    if compiled is None and key not in _NAME_GLOBS:
        compiled = re.compile("|".join(fnmatch.translate(p) for p in key)) if key else None
        _NAME_GLOBS[key] = compiled
    return compiled is not None and compiled.match(name) is not None


def matches_any(relative: str, patterns: list[str]) -> bool:
    return any(_glob_regex(p).match(relative) for p in patterns)


@lru_cache(maxsize=256)
def skipping(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression matching what any of the globs matches (as matches_any), or
    None for no globs: a rule's skip globs are asked of every module after every edit."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_glob_regex(p).pattern})" for p in patterns))
