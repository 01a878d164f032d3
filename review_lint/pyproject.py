"""The `[tool.review-lint]` table of a `pyproject.toml`, with the line of every key.

tomllib (tomli before Python 3.11) reads the TOML; it reports no positions, so
a small scanner over the (already valid) text finds the line that defines each
key path: table headers, dotted keys and the keys of inline tables. A key it
cannot place gets the line of the nearest table above it that it could; the
scan never fails a run. The table is then validated exactly as
`.review-lint.yaml` is (config.load_settings).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from pathlib import Path
from typing import Any

from .config import MAX_CONFIG_BYTES, ConfigError, _Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT_NAME = "pyproject.toml"
TABLE = ("tool", "review-lint")

# A `[tool.review-lint]` (or `[tool.review-lint.rules...]`) header, or a
# `tool.review-lint.x = ...` dotted key: how a file that does not parse shows it
# meant to configure review-lint.
_DECLARED = re.compile(r"""^[ \t]*(?:\[[ \t]*tool[ \t]*\.[ \t]*(?:review-lint|"review-lint"|'review-lint')[ \t]*[\].]"""
                       r"""|tool[ \t]*\.[ \t]*(?:review-lint|"review-lint"|'review-lint')[ \t]*[.=])""", re.MULTILINE)
_POSITION = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)\s*$")


class UnreadPyproject(ConfigError):
    """A pyproject.toml that cannot be read or parsed and shows no review-lint table:
    another tool's problem, so it does not stop the run."""


def read_table(path: Path) -> tuple[Any, int] | None:
    """(the `[tool.review-lint]` table, the line that opens it), or None without one.

    Every mapping in the table is a config._Mapping knowing its keys' lines.
    """
    text = _read(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = _POSITION.search(message)
        line = int(found.group(1)) if found and found.group(1) else max(1, text.count("\n"))
        problem = f"{path}:{line}: invalid TOML: {message[: found.start()] if found else message}"
        raise (ConfigError if _DECLARED.search(text) else UnreadPyproject)(problem) from None
    tool = document.get("tool")
    if not isinstance(tool, dict) or "review-lint" not in tool:
        return None
    lines = key_lines(text)
    opened = lines.get(TABLE) or lines.get(TABLE[:1], 1)
    table = tool["review-lint"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}:{opened}: tool.review-lint: must be a table")
    return _with_lines(table, TABLE, lines, opened), opened


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadPyproject(f"{path}: cannot read: {error.strerror or error}") from None
    text = data.decode("utf-8", errors="replace")
    if len(data) > MAX_CONFIG_BYTES:
        too_large = f"{path}: larger than {MAX_CONFIG_BYTES} bytes"
        raise (ConfigError if _DECLARED.search(text) else UnreadPyproject)(too_large)
    return text


def _with_lines(value: Any, path: tuple[str, ...], lines: dict[tuple[str, ...], int], fallback: int) -> Any:
    if isinstance(value, dict):
        mapping = _Mapping()
        mapping.lines = {}
        for key, item in value.items():
            line = lines.get((*path, key), fallback)
            mapping[key] = _with_lines(item, (*path, key), lines, line)
            mapping.lines[key] = line
        return mapping
    if isinstance(value, list):
        return [_with_lines(item, (*path, "[]"), lines, fallback) for item in value]
    return value


# -- where each key is defined ------------------------------------------------
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}#\r\n]*")


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """key path -> the line (1-based) that first defines it, for a valid TOML text.

    Headers define their table (and its parents), `a.b = 1` defines `a`, `a.b`,
    and `x = {y = 1}` defines `x` and `x.y`, all on their own line. Whatever the
    scan cannot follow is left out rather than guessed; it never raises.
    """
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (IndexError, ValueError, tomllib.TOMLDecodeError):
        pass
    return scanner.lines


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[tuple[str, ...], int] = {}
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_at(self, position: int) -> int:
        return bisect_right(self._starts, position)

    def record(self, path: tuple[str, ...], position: int) -> None:
        line = self.line_at(position)
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], line)

    def document(self) -> None:
        text, i, table = self.text, 0, ()
        while True:
            i = self.blank(i)
            if i >= len(text):
                return
            start = i
            if text[i] == "[":
                array = text.startswith("[[", i)
                parts, i = self.key(i + (2 if array else 1))
                i = self.expect(self.spaces(i), "]]" if array else "]")
                self.record(tuple(parts), start)
                table = (*parts, "[]") if array else tuple(parts)  # items of an array of tables: not ours
            else:
                parts, i = self.key(i)
                self.record((*table, *parts), start)
                i = self.value(self.expect(self.spaces(i), "="), (*table, *parts))
            if i <= start:
                raise ValueError("no progress")

    def key(self, i: int) -> tuple[list[str], int]:
        parts = []
        while True:
            i = self.spaces(i)
            if self.text[i] in "\"'":
                end = self.string_end(i)
                parts.append(tomllib.loads(f"k = {self.text[i:end]}")["k"])
                i = end
            else:
                bare = _BARE_KEY.match(self.text, i)
                if bare is None:
                    raise ValueError("not a key")
                parts.append(bare.group())
                i = bare.end()
            i = self.spaces(i)
            if self.text[i] != ".":
                return parts, i
            i += 1

    def value(self, i: int, path: tuple[str, ...] | None) -> int:
        """Skip the value at i; record the keys of inline tables below `path`."""
        text = self.text
        i = self.spaces(i)
        if text[i] == "{":
            def entry(i: int) -> int:
                start = i
                parts, i = self.key(i)
                inner = None if path is None else (*path, *parts)
                if inner is not None:
                    self.record(inner, start)
                return self.value(self.expect(self.spaces(i), "="), inner)

            return self.items(i + 1, "}", entry)
        if text[i] == "[":
            return self.items(i + 1, "]", lambda i: self.value(i, None))  # list items have no key to report
        if text[i] in "\"'":
            return self.string_end(i)
        return _SCALAR.match(text, i).end()

    def items(self, i: int, close: str, item) -> int:
        """Skip comma-separated items up to `close`; i is just after the opening bracket."""
        while True:
            i = self.blank(i)
            if self.text[i] == close:
                return i + 1
            after = self.blank(item(i))
            if self.text[after] == ",":
                after += 1
            if after == i:
                raise ValueError("no progress")
            i = after

    def string_end(self, i: int) -> int:
        text = self.text
        quote = text[i]
        if text.startswith(quote * 3, i):
            end = i + 3
            while True:
                end = text.index(quote * 3, end)
                if quote == "'" or not _escaped(text, end):
                    break
                end += 1
            end += 3
            for _ in range(2):  # up to two quotes just before the closing three belong to the string
                if end < len(text) and text[end] == quote:
                    end += 1
            return end
        end = i + 1
        while True:
            end = text.index(quote, end)
            if quote == "'" or not _escaped(text, end):
                return end + 1
            end += 1

    def spaces(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t":
            i += 1
        return i

    def blank(self, i: int) -> int:
        """Skip spaces, newlines and comments."""
        text = self.text
        while i < len(text):
            if text[i] in " \t\r\n":
                i += 1
            elif text[i] == "#":
                newline = text.find("\n", i)
                i = len(text) if newline == -1 else newline
            else:
                break
        return i

    def expect(self, i: int, token: str) -> int:
        if not self.text.startswith(token, i):
            raise ValueError(f"expected {token}")
        return i + len(token)


def _escaped(text: str, position: int) -> bool:
    backslashes = 0
    while position - backslashes - 1 >= 0 and text[position - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1
