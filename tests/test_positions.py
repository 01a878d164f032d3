"""Our position pass must agree with LibCST's PositionProvider exactly: it is the
same code generation, recording only the nodes facts keep; with the speed patches
(its shortcuts) and without."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from review_lint.libcst_patches import applied
from review_lint.positions import positions

TRICKY = textwrap.dedent(
    '''\
    @decorator(arg=f(1))
    async def handler(x: "Optional[int]" = g(), *args, **kw) -> dict:
        """Doc with a newline
        inside."""
        y = [h(i) for i in range(3)]; z = {"k": w(x) if x else None}
        if (a := q(
                1, 2)):
            assert x, f"bad {r(x)!r:>{width()}}"
        with open(p) as fh, other():
            return {**kw, "y": y}

    \x0c
    class C(Base, metaclass=M):
        field: int = s.t(u=v)
    '''
)


KEPT_KINDS = (cst.Call, cst.FunctionDef, cst.ClassDef, cst.Assert, cst.Dict, cst.If, cst.With, cst.Name,
              cst.SimpleStatementLine)

# Every kind whose code generation records its syntactic position (whitespace and
# brackets do not: PositionProvider has them from its own hooks).
RECORDED_KINDS = (cst.BaseExpression, cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.SimpleStatementLine,
                  cst.Arg, cst.Param, cst.Annotation, cst.Comma, cst.Dot, cst.Colon, cst.AssignEqual)


def check(source: str, every: int = 1) -> int:
    """Compare the spans of the kinds facts keep; with `every` > 1, only every n-th
    node of any kind is wanted, so the pass also takes its shortcuts for names,
    dots and commas that are not wanted, between ones that are."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    expected = wrapper.resolve(PositionProvider)
    if every == 1:
        wanted = [n for n in expected if isinstance(n, KEPT_KINDS)]
    else:
        wanted = [n for n in expected if isinstance(n, RECORDED_KINDS)][::every]
    for found in _both_ways(module, wanted):
        for node in wanted:
            where = expected[node]
            assert found[id(node)] == (where.start.line, where.start.column + 1, where.end.line,
                                       where.end.column + 1), (type(node).__name__, module.code_for_node(node)[:60])
    return len(wanted)


def _both_ways(module: cst.Module, wanted: list[cst.CSTNode]) -> list[dict]:
    """The spans from LibCST as it is and from LibCST with the speed patches (and
    the position pass's shortcuts); PositionProvider itself runs outside them."""
    plain = positions(module, wanted)
    with applied():
        return [plain, positions(module, wanted)]


def test_positions_match_libcst_on_tricky_code():
    assert check(TRICKY) > 30


def test_positions_match_libcst_on_real_files():
    checked = 0
    for path in [Path(json.__file__).parent / "decoder.py", Path(cst.__file__).parent / "_nodes" / "expression.py"]:
        checked += check(path.read_text(encoding="utf-8"))
    assert checked > 1000


@pytest.mark.parametrize("every", [2, 3, 7])
def test_positions_match_libcst_when_few_nodes_are_wanted(every):
    checked = check(TRICKY, every)
    for path in [Path(json.__file__).parent / "decoder.py", Path(cst.__file__).parent / "_nodes" / "whitespace.py"]:
        checked += check(path.read_text(encoding="utf-8"), every)
    assert checked > 300


def test_positions_match_libcst_on_a_built_tree():
    # Built, not parsed: LibCST writes the `=` and `, ` these arguments leave out.
    call = cst.Call(cst.Name("f"), args=[cst.Arg(cst.Name("a")), cst.Arg(cst.Name("c")),
                                         cst.Arg(cst.Name("b"), keyword=cst.Name("k"))])
    module = cst.Module(body=[cst.SimpleStatementLine([cst.Expr(call)])])
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    wanted = [n for n in expected if isinstance(n, (cst.Call, cst.Name))]
    for found in _both_ways(module, wanted):
        for node in wanted:
            where = expected[node]
            assert found[id(node)] == (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)
    assert module.code == "f(a, c, k = b)\n"
