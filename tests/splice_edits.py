"""Edits inside function bodies, and the check that re-extracting one function
(extract/splice.py) gives exactly the facts of a full extraction.

Shared by tests/test_splice.py and bench/splice_diff.py (which runs it over a real corpus).
"""

from __future__ import annotations

import pickle
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from review_lint.engine import facts_for_file
from review_lint.extract.splice import Extraction, _header_end, splice, split_lines

_CALL = re.compile(r"\b([A-Za-z_]\w*)\(")
_NUMBER = re.compile(r"\b\d+\b")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" "))]


def body_edits(source: str, facts, rng: random.Random, per_function: int | None = None):
    """(function qualname, edit name, new source) for edits inside the bodies of the
    module's functions: lines added, removed and changed, blocks, asserts, nested
    functions, classes and imports, comments, and edits that must not be spliced
    (a line dedented out of the function, a syntax error)."""
    lines = split_lines(source)
    for function in facts.functions:
        if function.qualname == "<module>":
            continue
        line, column, end_line, _ = function.span
        header = _header_end(lines, line - 1, end_line)
        if header is None or header >= end_line:
            continue  # a one-line function: no body lines to edit
        body = [index for index in range(header, end_line) if lines[index].strip()]
        if not body:
            continue
        ind = _indent(lines[body[0]])
        outer = " " * (column - 1)
        if len(ind) <= column - 1 or "\t" in ind:
            continue
        newline = "\r\n" if lines[line - 1].endswith("\r\n") else "\n"
        middle = body[len(body) // 2]
        mid_ind = _indent(lines[middle])

        def insert(at: int, *added: str) -> str:
            return "".join(lines[:at] + [text + newline for text in added] + lines[at:])

        def replace(at: int, text: str | None) -> str:
            return "".join(lines[:at] + ([] if text is None else [text]) + lines[at + 1:])

        candidates = [
            ("line first", insert(header, f"{ind}_spliced = fetch(1)")),
            ("assert last", insert(end_line, f"{ind}assert _spliced is not None, 'x'")),
            ("line middle", insert(middle, f"{mid_ind}_spliced = session.get(Model, key)")),
            ("delete", replace(middle, None) if len(body) > 1 else None),
            ("change call", replace(middle, _CALL.sub(r"\1_x(", lines[middle], count=1))
             if _CALL.search(lines[middle]) else None),
            ("change number", replace(middle, _NUMBER.sub("7", lines[middle], count=1))
             if _NUMBER.search(lines[middle]) else None),
            ("block first", insert(header, f"{ind}if _flag is None:", f"{ind}    _other = load(_flag)",
                                   f"{ind}else:", f"{ind}    raise ValueError(_flag)")),
            ("try last", insert(end_line, f"{ind}try:", f"{ind}    _x = make()", f"{ind}except KeyError:",
                                f"{ind}    pass", f"{ind}finally:", f"{ind}    done()")),
            ("nested last", insert(end_line, f"{ind}@wrap(1)", f"{ind}def _inner(a=make(), *, b: 'Optional[int]' = None):",
                                   f"{ind}    import os.path as _p", f"{ind}    class _Local(Base):",
                                   f"{ind}        x: int = 1", f"{ind}    return a")),
            ("comment middle", insert(middle, f"{mid_ind}# review-lint: ignore[RL001]")),
            ("blank middle", insert(middle, "")),
            ("suppressed", replace(middle, lines[middle].rstrip("\r\n") + "  # noqa: RL003" + newline)
             if "#" not in lines[middle] and '"""' not in lines[middle] and "'''" not in lines[middle] else None),
            ("delete block", _without_first_block(lines, header, end_line, ind)),
            ("dedented", insert(end_line, f"{outer}_outside = 1")),
            ("unclosed", insert(middle, f"{mid_ind}_broken = (")),
        ]
        candidates = [(name, text) for name, text in candidates if text is not None and text != source]
        if per_function is not None:
            candidates = rng.sample(candidates, min(per_function, len(candidates)))
        for name, text in candidates:
            yield function.qualname, name, text


def _without_first_block(lines: list[str], header: int, end_line: int, ind: str) -> str | None:
    """The body without its first `if`/`for`/`with`/`try` statement at the body's indentation."""
    for index in range(header, end_line):
        text = lines[index]
        if _indent(text) == ind and re.match(r"\s*(if|for|with|try|while)\b.*:\s*$", text):
            stop = index + 1
            while stop < end_line and (not lines[stop].strip() or len(_indent(lines[stop])) > len(ind)
                                        or re.match(r"\s*(else|elif|except|finally)\b", lines[stop])):
                stop += 1
            if stop >= end_line:
                return None  # the function's last statement: its end would move
            return "".join(lines[:index] + lines[stop:])
    return None


@dataclass
class Tally:
    spliced: Counter = field(default_factory=Counter)  # edit name -> edits spliced (and equal)
    fell_back: Counter = field(default_factory=Counter)  # edit name -> edits extracted in full
    mismatches: list = field(default_factory=list)  # (path, qualname, edit name)

    def add(self, other: "Tally") -> None:
        self.spliced.update(other.spliced)
        self.fell_back.update(other.fell_back)
        self.mismatches.extend(other.mismatches)


def check_module(root, path: str, source: str, rng: random.Random | None = None,
                 per_function: int | None = None, max_functions: int | None = None, chain: bool = False) -> Tally:
    """Every body edit of the module, spliced from the facts of `source` and extracted in
    full: each splice must equal the full extraction. With `chain`, the edits of each
    function are applied one after another, each spliced into the last result."""
    rng = rng or random.Random(0)
    tally = Tally()
    base = facts_for_file(root, path, source.encode("utf-8"))
    if base.problems:
        return tally
    blob = pickle.dumps(base)  # each edit splices into a copy of its own: a splice spends its input
    edits = list(body_edits(source, base, rng, per_function))
    if max_functions is not None:
        names = sorted({qualname for qualname, _, _ in edits})
        keep = set(rng.sample(names, min(max_functions, len(names))))
        edits = [edit for edit in edits if edit[0] in keep]
    previous = Extraction(source, pickle.loads(blob))
    for qualname, name, text in edits:
        if not chain:
            previous = Extraction(source, pickle.loads(blob))
        new = Extraction(text)
        spliced = splice(previous, new)
        full = facts_for_file(root, path, text.encode("utf-8"))
        if spliced is None:
            tally.fell_back[name] += 1
            if chain:
                previous = Extraction(text, full) if not full.problems else previous
            continue
        if spliced == full:
            tally.spliced[name] += 1
        else:
            tally.mismatches.append((path, qualname, name))
        previous = new
    return tally
