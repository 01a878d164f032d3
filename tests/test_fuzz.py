"""Property tests: whatever a file holds, no exception escapes and nothing is left unsaid.

Generated valid programs (hypothesmith) and mutated real files (truncated,
lines shuffled, tokens deleted) each run through phase 1 and every bundled
rule. Every file must yield facts or an RL000, and never an RL999 or an
exception; where a finding is fixable, `--fix` writes only what re-parses. The default budget is small so CI stays fast; a longer run is one
variable away:

    REVIEW_LINT_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from review_lint.collect import Collector  # noqa: E402
from review_lint.engine import Engine, Options, facts_for_file  # noqa: E402
from review_lint.fixer import apply_fixes  # noqa: E402

EXAMPLES = int(os.environ.get("REVIEW_LINT_FUZZ_EXAMPLES", "10"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("REVIEW_LINT_FUZZ_RANDOM"),
                suppress_health_check=list(HealthCheck), database=None)
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p for p in (ROOT / "review_lint").rglob("*.py")) + sorted((ROOT / "tests" / "fixtures").rglob("*.py"))
TOKEN = re.compile(r"\w+|[^\w\s]")


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    """Run phase 1 and every bundled rule on one file; return (problem codes, internal errors)."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "pyproject.toml").write_text("")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    target = root / "pkg" / "m.py"
    target.write_text("")
    saved = os.environ.pop("REVIEW_LINT_RULES_PATH", None)
    try:
        engine = Engine(Options(paths=[str(root)], root=str(root)), cwd=root)
    finally:
        if saved is not None:
            os.environ["REVIEW_LINT_RULES_PATH"] = saved

    def run(source: str | bytes) -> tuple[set[str], list[str]]:
        data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
        facts = facts_for_file(root, "pkg/m.py", data)
        codes = {p.code for p in facts.problems}
        target.write_bytes(data)
        result = engine.run(source=Collector(jobs=1, cache_dir=None, prefilter=False))
        errors = [f"{d.path}:{d.line}: {d.message}" for d in result.diagnostics if d.rule == "RL999"]
        if any(isinstance(d.fix, dict) for d in result.diagnostics):
            # --fix on whatever the file holds: it writes only what re-parses.
            report = apply_fixes(result, write=True)
            if report.changed:
                fixed = target.read_bytes()
                compile(fixed, "m.py", "exec", flags=0x400, dont_inherit=True)
                assert facts_for_file(root, "pkg/m.py", fixed).problems == []
        return codes, errors

    return run


@FUZZ
@given(source=hypothesmith.from_grammar())
def test_generated_programs(judge, source):
    codes, errors = judge(source)
    assert not errors
    # Valid Python: judged, or refused only by the documented limits of LibCST.
    assert codes <= {"RL000"}


def _mutate(text: str, kind: str, data) -> str:
    if kind == "truncate":
        return text[: data.draw(st.integers(0, len(text)))]
    lines = text.splitlines(keepends=True)
    if kind == "shuffle":
        return "".join(data.draw(st.permutations(lines)))
    tokens = [m.span() for m in TOKEN.finditer(text)]
    if not tokens:
        return text
    doomed = set(data.draw(st.lists(st.integers(0, len(tokens) - 1), max_size=5)))
    out, last = [], 0
    for index, (start, end) in enumerate(tokens):
        if index in doomed:
            out.append(text[last:start])
            last = end
    out.append(text[last:])
    return "".join(out)


@FUZZ
@given(sample=st.sampled_from(SAMPLES), kind=st.sampled_from(["truncate", "shuffle", "delete-tokens"]), data=st.data())
def test_mutated_real_files(judge, sample, kind, data):
    source = _mutate(sample.read_text(encoding="utf-8"), kind, data)
    codes, errors = judge(source)
    assert not errors
    assert codes <= {"RL000"}


@FUZZ
@given(source=hypothesmith.from_grammar())
def test_a_file_the_prefilter_skips_has_no_facts(tmp_path_factory, source):
    """The prefilter must never change a verdict: whatever it skips, extraction
    would have found nothing in either."""
    from review_lint.collect import _MAY_CONTRIBUTE
    from review_lint.facts import ModuleFacts

    data = source.encode("utf-8", "surrogatepass")
    candidates = [data, re.sub(rb"[(=:@]", b" ", data)]  # generated programs nearly always match: also try without
    for candidate in candidates:
        if _MAY_CONTRIBUTE.search(candidate):
            continue
        root = tmp_path_factory.mktemp("prefilter")
        facts = facts_for_file(root, "m.py", candidate)
        if facts.problems:
            continue  # not valid Python once mangled: the prefilter parses those anyway
        empty = ModuleFacts(path="m.py", suppressions=facts.suppressions)
        module = facts.module_level
        assert not facts.functions or (len(facts.functions) == 1 and module is not None and not (
            module.calls or module.bindings or module.asserts or module.exits or module.blocks)), candidate
        assert (facts.classes, facts.imports, facts.star_imports) == (empty.classes, empty.imports, empty.star_imports)


@pytest.mark.parametrize("source", [
    "", "# a comment\n", '"""A docstring."""\n', "x\ny.z\n1 + 2\n", "pass\n", "del x\n", "global g\n",
    "a[1]\n", "not x or y\n", '"a" "b"\n',
])
def test_the_shapes_the_prefilter_skips_have_no_facts(tmp_path, source):
    from review_lint.collect import _MAY_CONTRIBUTE

    assert not _MAY_CONTRIBUTE.search(source.encode())
    facts = facts_for_file(tmp_path, "m.py", source.encode())
    module = facts.module_level
    assert not facts.problems and not facts.classes and not facts.imports
    assert module is None or not (module.calls or module.bindings or module.asserts or module.exits or module.blocks)
