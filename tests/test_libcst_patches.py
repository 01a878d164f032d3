"""The LibCST speedups change how fast LibCST parses, never what it accepts or builds."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest

from libcst._nodes.expression import _BaseParenthesizedNode

from review_lint.libcst_patches import _LIBCST_PARENTHESIZE, speedups

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "review_lint").rglob("*.py")) + sorted((ROOT / "tests" / "fixtures").rglob("*.py"))
TOKEN = re.compile(r"\w+|[^\w\s]")


def _outcome(source: str, fast: bool):
    try:
        if fast:
            with speedups():
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
        with speedups():  # code generation under the speedups reproduces the file too
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
    with speedups():
        cst.Name("not an identifier")  # what the tokenizer guarantees is not checked again
        with pytest.raises(cst.CSTValidationError):
            cst.Call(func=cst.Name("f"), args=positional_after_keyword)


def test_classes_are_restored_after_the_block():
    with speedups():
        with speedups():  # nesting is allowed and restores nothing early
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
        with speedups():
            built = cls()
            assert cls.__init__ is _FAST_INITS[cls]
        assert built.deep_equals(expected), cls
    parenthesized = cst.parse_expression("(x)")
    with speedups():
        # a default factory makes a new node each time, as dataclasses' own init does
        assert cst.TrailingWhitespace().whitespace is not cst.TrailingWhitespace().whitespace
        assert cst.Name("x", lpar=[cst.LeftParen()], rpar=[cst.RightParen()]).deep_equals(parenthesized)
    assert cst.Name.__init__ is not _FAST_INITS[cst.Name]  # LibCST's own again after the block
