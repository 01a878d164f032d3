"""Shortcuts the extractor takes must give what LibCST itself would."""

from __future__ import annotations

import libcst as cst
import pytest

from review_lint.extract import _string_value

STRINGS = [
    '"plain"', "'plain'", '""', "''", '"""doc "quoted" inside"""', "'''it's'''", '""""""', '"\'\'\'"',
    '"tab\\there"', "r'raw\\d'", 'b"bytes"', "u'unicode'", 'f"{x}"', "'''multi\nline'''", '"\\u00e9"',
    "'caf\u00e9'", '"#not a comment"', '"""crlf\r\ninside"""', "'''cr\ronly'''",
]


@pytest.mark.parametrize("literal", STRINGS)
def test_string_values_match_libcst(literal):
    node = cst.parse_expression(literal)
    if isinstance(node, cst.SimpleString):
        assert _string_value(node) == node.evaluated_value
