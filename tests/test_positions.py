"""Our position pass must agree with LibCST's PositionProvider exactly: it is the
same code generation, recording only the nodes facts keep."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

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


def check(source: str) -> int:
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    expected = wrapper.resolve(PositionProvider)
    wanted = [n for n in expected if isinstance(n, (cst.Call, cst.FunctionDef, cst.ClassDef, cst.Assert, cst.Dict,
                                                    cst.If, cst.With, cst.Name, cst.SimpleStatementLine))]
    found = positions(module, wanted)
    for node in wanted:
        where = expected[node]
        assert found[id(node)] == (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1), (
            type(node).__name__, module.code_for_node(node)[:60])
    return len(wanted)


def test_positions_match_libcst_on_tricky_code():
    assert check(TRICKY) > 30


def test_positions_match_libcst_on_real_files():
    checked = 0
    for path in [Path(json.__file__).parent / "decoder.py", Path(cst.__file__).parent / "_nodes" / "expression.py"]:
        checked += check(path.read_text(encoding="utf-8"))
    assert checked > 1000
