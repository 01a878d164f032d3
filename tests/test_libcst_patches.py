"""The LibCST patches change how fast LibCST parses, never what it accepts or builds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from libcst._nodes.expression import _BaseParenthesizedNode

from review_lint import collect as collect_module
from review_lint import libcst_patches
from review_lint.collect import Collector
from review_lint.engine import Engine, Options
from review_lint.libcst_patches import _LIBCST_PARENTHESIZE, applied

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "review_lint").rglob("*.py")) + sorted((ROOT / "tests" / "fixtures").rglob("*.py"))
TOKEN = re.compile(r"\w+|[^\w\s]")


def _outcome(source: str, fast: bool):
    try:
        if fast:
            with applied():
                return cst.parse_module(source)
        return cst.parse_module(source)
    except Exception as error:  # noqa: BLE001 - the exception itself is the outcome compared
        return f"{type(error).__name__}: {error}"


def _broken_variants(text: str) -> list[str]:
    """The file with every 7th, 13th, ... token deleted: mostly syntax errors of every kind."""
    tokens = [m.span() for m in TOKEN.finditer(text)]
    variants = []
    for stride, offset in ((7, 0), (13, 5), (29, 11), (61, 3)):
        out, last = [], 0
        for index, (start, end) in enumerate(tokens):
            if index % stride == offset:
                out.append(text[last:start])
                last = end
        out.append(text[last:])
        variants.append("".join(out))
    return variants


def _assert_same(source: str) -> None:
    slow, fast = _outcome(source, fast=False), _outcome(source, fast=True)
    if isinstance(slow, cst.Module) and isinstance(fast, cst.Module):
        assert slow.deep_equals(fast)
        with applied():  # code generation under the speedups reproduces the file too
            assert fast.code == source
    else:
        assert slow == fast


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_trees_and_same_refusals_on_real_and_broken_files(sample):
    text = sample.read_text(encoding="utf-8")
    for source in [text, *_broken_variants(text)]:
        _assert_same(source)


@pytest.mark.parametrize("source", [
    "def f(a, a): pass\n",
    "f(a=1, b)\n",
    "f(**a, *b)\n",
    "lambda a=1, b: 0\n",
    "class C(a=1, b): pass\n",
    "x = 1; y = 2\n",
    "if x: pass\nelif (y): pass\nelse: pass\n",
    "f'{x!r:>{width}}' b'\\x00' r'\\d'\n",
])
def test_validation_that_rejects_parsed_code_is_kept(source):
    _assert_same(source)


def test_checks_beyond_the_grammar_stay_on_inside_the_block():
    positional_after_keyword = [cst.Arg(cst.Integer("1"), keyword=cst.Name("a")), cst.Arg(cst.Name("b"))]
    with applied():
        cst.Name("not an identifier")  # what the tokenizer guarantees is not checked again
        with pytest.raises(cst.CSTValidationError):
            cst.Call(func=cst.Name("f"), args=positional_after_keyword)


def test_classes_are_restored_after_the_block():
    with applied():
        with applied():  # nesting is allowed and restores nothing early
            pass
        assert "__post_init__" in cst.Name.__dict__
    assert "__post_init__" not in cst.Name.__dict__ and "_codegen" not in cst.Name.__dict__
    assert _BaseParenthesizedNode._parenthesize is _LIBCST_PARENTHESIZE
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not an identifier")


def test_nodes_are_built_by_slot_setting_inits_that_build_what_libcst_builds():
    from review_lint.libcst_patches import _FAST_INITS

    assert {cst.Name, cst.Call, cst.SimpleWhitespace, cst.TrailingWhitespace} <= set(_FAST_INITS)
    for cls in _FAST_INITS:  # every class whose fields all have defaults (factories included)
        try:
            expected = cls()
        except TypeError:
            continue
        with applied():
            built = cls()
            assert cls.__init__ is _FAST_INITS[cls]
        assert built.deep_equals(expected), cls
    parenthesized = cst.parse_expression("(x)")
    with applied():
        # a default factory makes a new node each time, as dataclasses' own init does
        assert cst.TrailingWhitespace().whitespace is not cst.TrailingWhitespace().whitespace
        assert cst.Name("x", lpar=[cst.LeftParen()], rpar=[cst.RightParen()]).deep_equals(parenthesized)
    assert cst.Name.__init__ is not _FAST_INITS[cst.Name]  # LibCST's own again after the block


# -- the patches apply on the pinned LibCST, and only where asked ---------------

FIXTURES = ROOT / "tests" / "fixtures"


def test_every_patch_applies_on_the_installed_libcst():
    """A LibCST release that silently disables a patch (its internals changed) fails
    here, not as a slower run: each is active inside the block, none outside."""
    assert libcst_patches.in_tested_range(cst.LIBCST_VERSION), "LibCST outside the range pinned in pyproject.toml"
    assert libcst_patches.active_patches() == ()
    with applied():
        assert libcst_patches.active_patches() == libcst_patches.PATCHES
    assert libcst_patches.active_patches() == ()
    assert libcst_patches.status().endswith("speed patches active (validation, codegen, node-init, positions)")
    # every shortcut of the position pass, not only some
    assert [cls for cls, _, _ in libcst_patches._SHORTCUTS] == [cls for cls, _ in libcst_patches._INSTALLED]


def test_the_tested_range_is_the_one_pyproject_pins():
    pinned = re.search(r'"libcst>=(\d+)\.(\d+),<(\d+)\.(\d+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pinned is not None
    numbers = tuple(int(n) for n in pinned.groups())
    assert libcst_patches.TESTED_RANGE == (numbers[:2], numbers[2:])
    assert libcst_patches.in_tested_range("1.9.0") and not libcst_patches.in_tested_range("1.10.0")
    assert not libcst_patches.in_tested_range("1.4.2") and not libcst_patches.in_tested_range(None)


def _patched_state() -> dict:
    """What the patches change on LibCST's classes, as it is now."""
    classes = libcst_patches._node_classes()
    return {(cls, name): cls.__dict__.get(name) for cls in classes
            for name in ("__init__", "__post_init__", "_codegen", "_parenthesize", "_validate")}


def _spy_on_parsing(monkeypatch) -> list:
    """The patches in force at each parse in this process."""
    seen = []
    parse_module = cst.parse_module

    def spy(source):
        seen.append((libcst_patches.active_patches(), "_codegen" in cst.Name.__dict__))
        return parse_module(source)

    monkeypatch.setattr(cst, "parse_module", spy)
    return seen


def _findings(root, collector=None) -> list[tuple]:
    engine = Engine(Options(paths=[str(root)], root=str(root)), cwd=root)
    return [(d.path, d.line, d.column, d.rule, d.message) for d in engine.run(source=collector).diagnostics]


def test_a_program_running_the_engine_is_never_patched_unless_it_asks(monkeypatch):
    case = FIXTURES / "RL001" / "fastapi_shapes"
    before = _patched_state()
    seen = _spy_on_parsing(monkeypatch)
    plain = _findings(case)
    plain_collector = _findings(case, Collector(jobs=1))
    assert seen and all(patches == () and not codegen for patches, codegen in seen)
    assert _patched_state() == before
    seen.clear()
    with libcst_patches.applied():  # the program asks
        asked = _findings(case)
    assert seen and all(patches == libcst_patches.PATCHES and codegen for patches, codegen in seen)
    assert _patched_state() == before
    assert plain == plain_collector == asked and plain


def test_the_switch_turns_every_patch_off_and_findings_do_not_change(monkeypatch):
    cases = sorted(p for p in FIXTURES.glob("RL*/*") if p.is_dir())
    patched = {case: _findings(case, Collector(jobs=1, patch_libcst=True)) for case in cases}
    monkeypatch.setenv(libcst_patches.SWITCH, "1")
    seen = _spy_on_parsing(monkeypatch)
    before = _patched_state()
    for case in cases:
        assert _findings(case, Collector(jobs=1, patch_libcst=True)) == patched[case], case
    with applied():
        assert libcst_patches.active_patches() == ()
        assert _patched_state() == before
    assert seen and all(patches == () and not codegen for patches, codegen in seen)
    assert libcst_patches.status() == f"LibCST {cst.LIBCST_VERSION}: speed patches off (REVIEW_LINT_NO_LIBCST_PATCHES)"
    monkeypatch.setattr(collect_module, "CHUNK_FILES", 1)  # workers honour it too (same findings)
    case = FIXTURES / "RL002"
    assert _findings(case, Collector(jobs=2)) == _findings(case, Collector(jobs=1))


def test_outside_the_tested_range_nothing_is_patched(monkeypatch):
    monkeypatch.setattr(libcst_patches, "TESTED_RANGE", ((1, 0), (1, 1)))
    before = _patched_state()
    with applied():
        assert libcst_patches.active_patches() == ()
        assert _patched_state() == before
    assert libcst_patches.status().endswith("speed patches off (LibCST outside the tested range)")


def test_verbose_says_whether_the_patches_are_active(tmp_path):
    (tmp_path / "m.py").write_text("def f(x):\n    assert x\n")
    command = [sys.executable, "-m", "review_lint.cli", "check", ".", "--verbose", "--jobs", "1"]
    cold = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    line = f"review-lint: LibCST {cst.LIBCST_VERSION}: speed patches active (validation, codegen, node-init, positions)"
    assert line in cold.stderr.splitlines()
    warm = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert f"LibCST {cst.LIBCST_VERSION}: speed patches not loaded in this process (nothing parsed)" in warm.stderr
    off = subprocess.run(command + ["--no-cache"], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, libcst_patches.SWITCH: "1"})
    assert "speed patches off (REVIEW_LINT_NO_LIBCST_PATCHES)" in off.stderr
    assert cold.stdout == warm.stdout == off.stdout
