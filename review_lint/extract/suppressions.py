"""Suppression comments: `# review-lint: ignore[...]`, `# noqa[: ...]` on a line, and
`# review-lint: skip-file` on a line of its own. Read from the source text, not the tree."""

from __future__ import annotations

import io
import re
import tokenize

from ..facts import WHOLE_FILE

_NEWLINE = re.compile(r"\r\n|\r|\n")
_SUPPRESS = re.compile(
    r"#\s*(?:review-lint:\s*ignore(?P<rl>\[[^\]]*\])?|noqa(?P<nq>:\s*[A-Za-z0-9_, -]+)?)", re.IGNORECASE
)
# A comment on its own line, anywhere in the file (Fixit's name; Ruff's `# ruff: noqa`).
_SKIP_FILE = re.compile(r"#[ \t]*review-lint:[ \t]*skip-file(?![\w\[-])", re.IGNORECASE)


def suppressions(source: str) -> dict[int, frozenset[str] | None]:
    """Line -> suppressed codes (None: every code) from inline comments; WHOLE_FILE
    when a `# review-lint: skip-file` comment stands on a line of its own."""
    if "noqa" not in source and "review-lint" not in source and "NOQA" not in source:
        return {}
    found: dict[int, frozenset[str] | None] = {}
    if _skips_file(source):
        found[WHOLE_FILE] = None
    for number, line in enumerate(_NEWLINE.split(source), start=1):
        if "#" not in line:
            continue
        match = _SUPPRESS.search(line)
        if match is None:
            continue
        codes = match.group("rl") or match.group("nq")
        if codes is None:
            found[number] = None
        else:
            parsed = frozenset(c.strip().upper() for c in re.split(r"[,\s]+", codes.strip("[]: ")) if c.strip())
            found[number] = parsed or None
    return found


def _skips_file(source: str) -> bool:
    """Whether a skip-file comment stands on a line of its own (not in a string, not after code)."""
    if _SKIP_FILE.search(source) is None:
        return False
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if (token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip()
                    and _SKIP_FILE.match(token.string)):
                return True
    except (tokenize.TokenError, SyntaxError):
        pass
    return False
