"""Reading, decoding and parsing one file: everything that can go wrong before facts."""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import warnings
from typing import TYPE_CHECKING

from .diagnostics import one_line
from .facts import ModuleFacts, Problem

if TYPE_CHECKING:
    import libcst

# LibCST's native parser kills the whole process (a segmentation fault, no
# exception) on deep nesting: ~2,000 nested brackets, ~50,000 chained `and`,
# ~100,000 unary minus signs; it and our own recursive walk also slow down
# quadratically well before that (3,000 chained subscripts: over a minute).
# CPython itself refuses more than 200 nested brackets and 100 indentation
# levels. So every file is measured before LibCST sees it:
#
# 1. a cheap scan (C-speed string operations plus one pass over the brackets)
#    bounds how deep any statement can nest: each nesting level costs at least
#    one character of one statement, so a file whose lines are short, whose
#    bracketed groups are short, whose brackets nest at most 100 deep and which
#    chains no backslash continuations cannot nest much deeper than 1,500;
# 2. only a file the scan cannot clear (a few percent of real files: long
#    literals, long lines) is parsed by CPython's own parser, which never
#    crashes on depth, and its syntax tree's depth is measured without recursion.
MAX_NESTING = 200  # brackets: CPython's own limit
MAX_DEPTH = 1000  # syntax-tree levels review-lint analyses (real code stays under 100)
_SUSPECT_BRACKETS = 100
_SUSPECT_LINE = 500  # characters in one physical line
_SUSPECT_GROUP = 1500  # characters in one top-level bracketed group
_BRACKETS = re.compile(r"[()\[\]{}]")
_CHAINED_CONTINUATIONS = re.compile(r"\\\r?\n[^\n]*\\\r?\n")
_PY_CF_ONLY_AST = 0x400
_RECURSION_LIMIT = 10_000  # what the CLI and its workers run with


def decode(data: bytes) -> str:
    """Decode as Python does: a BOM or a PEP 263 declaration, else UTF-8.

    Raises SyntaxError (bad declaration) or UnicodeDecodeError.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    if encoding == "utf-8-sig" or data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    return data.decode(encoding)


def _bracket_scan(source: str) -> tuple[int, int]:
    """(deepest bracket nesting, longest top-level bracketed group in characters).

    Brackets inside strings and comments count too: both are upper bounds.
    """
    depth = deepest = longest = start = 0
    for match in _BRACKETS.finditer(source):
        if match.group() in "([{":
            if depth == 0:
                start = match.start()
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
            if depth == 0 and match.start() - start > longest:
                longest = match.start() - start
    if depth:
        longest = max(longest, len(source) - start)
    return deepest, longest


def suspect(source: str) -> bool:
    """False when the cheap scan proves that no statement can nest very deep."""
    deepest, longest = _bracket_scan(source)
    if deepest > _SUSPECT_BRACKETS or longest > _SUSPECT_GROUP:
        return True
    if max(map(len, source.splitlines()), default=0) > _SUSPECT_LINE:
        return True
    return _CHAINED_CONTINUATIONS.search(source) is not None


def _compile(source: str, name: str) -> ast.AST:
    """CPython's syntax tree, without the SyntaxWarnings it would print about user code."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(source, name, "exec", flags=_PY_CF_ONLY_AST, dont_inherit=True)


def syntax_depth(tree: ast.AST) -> int:
    """Depth of a CPython syntax tree, measured without recursion."""
    deepest = 0
    stack = [(tree, 1)]
    node_type = ast.AST
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        # CPython keeps `a and b and c` flat; LibCST nests it, one level per operator.
        below = depth + (len(node.values) if type(node) is ast.BoolOp else 1)
        # ast.iter_child_nodes, without its generator (a third of the time on large files).
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, node_type):
                stack.append((value, below))
            elif type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        stack.append((item, below))
    return deepest


def refusal(source: str) -> tuple[str, int, int] | None:
    """(message, line, column) when the file must not reach LibCST, else None."""
    if not suspect(source):
        return None
    # How deep CPython builds a syntax tree depends on the recursion limit: one
    # fixed limit gives the same verdict in the CLI, its workers and embedders.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
    try:
        tree = _compile(source, "<review-lint>")
    except SyntaxError as error:
        # Judged here and never by LibCST: a broken file can still nest deep
        # enough to crash it. CPython words and places its errors well anyway.
        return f"syntax error: {one_line(error.msg or error)}", error.lineno or 1, error.offset or 1
    except (MemoryError, RecursionError):
        return "nesting too deep even for Python's own parser", 1, 1
    except ValueError as error:  # "source code string cannot contain null bytes"
        return f"syntax error: {one_line(error)}", 1, 1
    finally:
        sys.setrecursionlimit(limit)
    depth = syntax_depth(tree)
    if depth > MAX_DEPTH:
        return f"nesting too deep to analyse ({depth} levels; review-lint stops at {MAX_DEPTH})", 1, 1
    return None


def parse(path: str, data: bytes) -> tuple[str | None, "libcst.Module | None", ModuleFacts | None]:
    """(source, module, None) on success, or (None, None, facts holding one RL000 problem)."""
    # Here, not at the top: a warm run never parses, and LibCST takes 0.12 s to import.
    import libcst as cst

    try:
        source = decode(data)
    except SyntaxError as error:
        return None, None, _failure(path, f"cannot decode: {error.msg if hasattr(error, 'msg') else error}", 1, 1)
    except (UnicodeDecodeError, LookupError) as error:
        line, column = _decode_error_position(data, error)
        return None, None, _failure(path, f"cannot decode the file: {one_line(error)}", line, column)
    if "\x00" in source:
        line = source[: source.index("\x00")].count("\n") + 1
        return None, None, _failure(path, "source contains a NUL byte", line, 1)
    refused = refusal(source)
    if refused is not None:
        return None, None, _failure(path, *refused)
    try:
        module = cst.parse_module(source)  # with the speed patches inside libcst_patches.applied()
    except cst.ParserSyntaxError as error:
        # CPython's parser words and places most errors better; LibCST's own
        # report stands when CPython accepts the file (a newer grammar, say).
        line, column = error.raw_line, error.raw_column + 1
        message = f"LibCST cannot parse this file, which Python accepts: {one_line(error.message)}"
        try:
            _compile(source, path)
        except SyntaxError as python_error:
            line, column = python_error.lineno or line, python_error.offset or column
            message = f"syntax error: {one_line(python_error.msg or error.message)}"
        except (RecursionError, MemoryError, ValueError):
            message = f"syntax error: {one_line(error.message)}"
        return None, None, _failure(path, message, line, column)
    except RecursionError:
        return None, None, _failure(path, "too deeply nested to parse", 1, 1)
    return source, module, None


def _failure(path: str, message: str, line: int, column: int) -> ModuleFacts:
    facts = ModuleFacts(path=path)
    facts.problems.append(Problem("RL000", message, max(line, 1), max(column, 1)))
    return facts


def _decode_error_position(data: bytes, error: Exception) -> tuple[int, int]:
    start = getattr(error, "start", None)
    if not isinstance(start, int):
        return 1, 1
    before = data[:start]
    line = before.count(b"\n") + 1
    return line, start - (before.rfind(b"\n") + 1) + 1
