"""The texts of Values and Calls, left in their source file until a rule reads one.

A fact's text is its node's source with whitespace collapsed (extract/fill.py): a
function of the file and the fact's span. Judging reads few of them (on a quarter of
the scale tree, 4% of the Values' texts and a third of the Calls'), yet held as
strings they were a seventh of the decoded facts' memory. So the cache writes a text
that the file gives back from the fact's span as nil, checked as it is written
(`TextsOf`), and decoding puts the module's one `SourceText` in its place. The first
read of `fact.text` (facts.py) asks it: it reads the file, which must still hold the
bytes the facts were made from, and the string is kept in the fact (facts.peek_text
reads one without keeping it).

A file changed on disk after its facts were gathered gives "" for the texts still in
it; the run that sees the change extracts the file again.
"""

from __future__ import annotations

import re
from pathlib import Path

from .facts import LazyText, unpack_span

MAX_TEXT = 240
_TEXT_WINDOW = 4 * MAX_TEXT
_NEWLINE = re.compile(r"\r\n?|\n")
_OTHER_BREAK_CHARS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines also cuts lines


def line_starts(source: str) -> list[int]:
    """The offset where each line of `source` starts (a lone CR ends a line, as in LibCST)."""
    return [0, *(match.end() for match in _NEWLINE.finditer(source))]


def split_lines(source: str) -> list[str]:
    """The lines of `source` with their line ends, cut where line_starts cuts them (so the
    last item is "" when the text ends with a line end)."""
    if not any(char in source for char in _OTHER_BREAK_CHARS):  # 8 scans in C: 1/60 of a regex search
        # str.splitlines cuts at "\r\n", "\r" and "\n" too, and at the characters of
        # _OTHER_BREAK_CHARS: without them, it gives the same lines, fast.
        lines = source.splitlines(keepends=True)
        if not lines or lines[-1].endswith(("\n", "\r")):
            lines.append("")
        return lines
    starts = line_starts(source)
    return [source[start:end] for start, end in zip(starts, [*starts[1:], len(source)])]


def collapsed(source: str, start: int, end: int) -> str:
    """The node's source with whitespace runs (newlines too) as single spaces, cut at MAX_TEXT."""
    if end - start > _TEXT_WINDOW:
        # A long node (a class body's dict, a call over many lines): collapsing the
        # whitespace of a prefix gives a prefix of the whole text, so when the
        # prefix alone is too long it decides the cut text.
        text = " ".join(source[start:start + _TEXT_WINDOW].split())
        if len(text) > MAX_TEXT:
            return text[: MAX_TEXT - 1] + "…"
    text = " ".join(source[start:end].split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class TextsOf:
    """The text of a span (packed, as facts hold it) in one source, None for a span it does
    not hold. The encoder writes a text as nil only when this gives it back (codec._enc_text)."""

    __slots__ = ("lines",)

    def __init__(self, source: str) -> None:
        self.lines = split_lines(source)

    def __call__(self, packed) -> str | None:
        if not packed:  # NO_SPAN
            return None
        line, column, end_line, end_column = unpack_span(packed)
        lines = self.lines
        if not 0 < line <= end_line <= len(lines) or column < 1 or end_column < 1:
            return None
        if line == end_line:
            text = lines[line - 1][column - 1:end_column - 1]
        else:
            text = lines[line - 1][column - 1:] + "".join(lines[line:end_line - 1]) + lines[end_line - 1][:end_column - 1]
        return collapsed(text, 0, len(text))


class SourceText(LazyText):
    """Where the texts of one decoded module are: its file, and the content key its facts
    were cached under (collect._key), which the file's bytes must still give."""

    __slots__ = ("path", "relative", "key", "contents")

    def __init__(self, path: str, relative: str, key: str | None, contents: bytes | None = None) -> None:
        self.path = path
        self.relative = relative
        self.key = key
        self.contents = contents  # an editor's unsaved text (the language server), else None: the file

    def text_of(self, packed) -> str:
        texts = _RECENT.pop(self, False)  # kept for the few modules read last: a rule reads one function's texts together
        if texts is False:
            texts = self._load()
            if len(_RECENT) >= _KEEP:
                del _RECENT[next(iter(_RECENT))]
        _RECENT[self] = texts
        return (texts(packed) if texts is not None else None) or ""

    def _load(self) -> TextsOf | None:
        from .collect import _key
        from .source import decode

        data = self.contents
        if data is None:
            try:
                data = Path(self.path).read_bytes()
            except OSError:
                return None
        if self.key is None or _key(self.relative, data) != self.key:
            return None  # changed since: its texts are gone
        try:
            return TextsOf(decode(data))
        except (SyntaxError, UnicodeDecodeError, LookupError):
            return None

    def __repr__(self) -> str:
        return f"SourceText({self.relative!r})"


_KEEP = 8
_RECENT: dict[SourceText, TextsOf | None] = {}  # oldest first
