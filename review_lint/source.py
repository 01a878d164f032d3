"""Reading, decoding and parsing one file: everything that can go wrong before facts."""

from __future__ import annotations

import io
import re
import tokenize

import libcst as cst

from .facts import ModuleFacts, Problem

# CPython refuses more than 200 nested brackets; LibCST's native parser crashes the
# whole process (a segmentation fault, no exception) somewhere past 1,000. Files
# over CPython's limit are reported before LibCST ever sees them.
MAX_NESTING = 200
_BRACKETS = re.compile(r"[()\[\]{}]")


def decode(data: bytes) -> str:
    """Decode as Python does: a BOM or a PEP 263 declaration, else UTF-8.

    Raises SyntaxError (bad declaration) or UnicodeDecodeError.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    if encoding == "utf-8-sig" or data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    return data.decode(encoding)


def nesting_depth(source: str) -> int:
    """Bracket depth, counting brackets inside strings too: an upper bound."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(source):
        if match.group() in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


def too_deep(source: str) -> bool:
    """True when CPython itself would refuse the file for its nesting."""
    if nesting_depth(source) <= MAX_NESTING:
        return False
    # The bracket count includes brackets in strings and comments; ask CPython's
    # own parser, which is cheap and never crashes on depth, for the verdict.
    try:
        compile(source, "<review-lint>", "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
    except SyntaxError as error:
        return "nested" in str(error) or "too many" in str(error)
    except (RecursionError, MemoryError):
        return True
    return False


def parse(path: str, data: bytes) -> tuple[str | None, cst.Module | None, ModuleFacts | None]:
    """(source, module, None) on success, or (None, None, facts holding one RL000 problem)."""
    try:
        source = decode(data)
    except SyntaxError as error:
        return None, None, _failure(path, f"cannot decode: {error.msg if hasattr(error, 'msg') else error}", 1, 1)
    except (UnicodeDecodeError, LookupError) as error:
        line, column = _decode_error_position(data, error)
        return None, None, _failure(path, f"cannot decode the file: {_one_line(error)}", line, column)
    if "\x00" in source:
        line = source[: source.index("\x00")].count("\n") + 1
        return None, None, _failure(path, "source contains a NUL byte", line, 1)
    if too_deep(source):
        return None, None, _failure(path, f"nesting deeper than Python allows ({MAX_NESTING} brackets)", 1, 1)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        # CPython's parser words and places most errors better; LibCST's own
        # report stands when CPython accepts the file (a newer grammar, say).
        line, column, message = error.raw_line, error.raw_column + 1, error.message
        try:
            compile(source, path, "exec", flags=0x400, dont_inherit=True)
        except SyntaxError as python_error:
            line, column = python_error.lineno or line, python_error.offset or column
            message = python_error.msg or message
        except (RecursionError, MemoryError, ValueError):
            pass
        return None, None, _failure(path, f"syntax error: {' '.join(str(message).split())}", line, column)
    except RecursionError:
        return None, None, _failure(path, "too deeply nested to parse", 1, 1)
    return source, module, None


def _failure(path: str, message: str, line: int, column: int) -> ModuleFacts:
    facts = ModuleFacts(path=path)
    facts.problems.append(Problem("RL000", message, max(line, 1), max(column, 1)))
    return facts


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _decode_error_position(data: bytes, error: Exception) -> tuple[int, int]:
    start = getattr(error, "start", None)
    if not isinstance(start, int):
        return 1, 1
    before = data[:start]
    line = before.count(b"\n") + 1
    return line, start - (before.rfind(b"\n") + 1) + 1
