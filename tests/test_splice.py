"""Re-extracting one function after an edit inside its body (extract/splice.py, used by
the language server) gives exactly the facts of extracting the whole new text.

Differential: real modules (the standard library's, the fixtures'), each function edited
in many ways (lines added, removed and changed, blocks, asserts, nested functions,
classes and imports, comments and suppressions, a line dedented out of the function, a
bracket left open); every edit that is spliced must equal the full extraction, fact for
fact. `bench/splice_diff.py` runs the same check over Django.
"""

from __future__ import annotations

import random
import sysconfig
from pathlib import Path

import pytest

from review_lint import libcst_patches
from review_lint.engine import facts_for_file
from review_lint.extract.splice import Extraction, splice
from review_lint.live import LiveProject

from splice_edits import Tally, check_module

FIXTURES = Path(__file__).parent / "fixtures"
STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Modules of the standard library with classes, nested functions, try/with/match blocks,
# decorators and long bodies; whichever Python runs the tests.
STDLIB_MODULES = ["textwrap.py", "json/decoder.py", "shlex.py", "contextlib.py", "tomllib/_parser.py"]


@pytest.fixture(autouse=True)
def patched():
    with libcst_patches.applied():  # as the server runs
        yield


def _assert_exact(tally: Tally, at_least: int) -> None:
    assert tally.mismatches == []
    assert sum(tally.spliced.values()) >= at_least, (tally.spliced, tally.fell_back)


@pytest.mark.parametrize("name", STDLIB_MODULES)
def test_body_edits_of_standard_library_modules_equal_a_full_extraction(name):
    path = STDLIB / name
    if not path.is_file():
        pytest.skip(f"{name} is not in this Python's standard library")
    tally = check_module(STDLIB, name, path.read_text(encoding="utf-8"), random.Random(name),
                         per_function=5, max_functions=5)
    _assert_exact(tally, at_least=10)


def test_body_edits_of_every_fixture_module_equal_a_full_extraction():
    tally = Tally()
    for path in sorted(FIXTURES.rglob("*.py")):
        tally.add(check_module(FIXTURES, path.relative_to(FIXTURES).as_posix(), path.read_text(encoding="utf-8"),
                               random.Random(path.name), per_function=2, max_functions=2))
    _assert_exact(tally, at_least=150)
    # The edits that leave the function (or its brackets open) are never spliced wrongly,
    # and most are not spliced at all.
    assert tally.fell_back["unclosed"] > tally.spliced["unclosed"]


def test_edits_one_after_another_each_splice_into_the_last():
    tally = check_module(STDLIB, "textwrap.py", (STDLIB / "textwrap.py").read_text(encoding="utf-8"),
                         random.Random(3), per_function=5, max_functions=6, chain=True)
    _assert_exact(tally, at_least=10)


SOURCE = '''import os


class Store:
    """A store."""

    def load(self, key):
        value = self.cache.get(key)
        if value is None:
            value = fetch(key)
        return value

    def save(self, key, value):
        with self.lock:
            self.cache[key] = value


def helper(items):
    for item in items:
        if item:
            yield item


TOP = helper([1, 2])
'''


def _edited(old: str, new: str, text: str = SOURCE) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("old, new, spliced", [
    # inside one body: spliced
    ("        return value\n", "        assert value is not None\n        return value\n", True),
    ("            value = fetch(key)\n", "            try:\n                value = fetch(key)\n"
                                         "            except KeyError:\n                value = None\n", True),
    ("        value = self.cache.get(key)\n", "", True),
    ("            self.cache[key] = value\n", "            self.cache[key] = value  # review-lint: ignore[RL003]\n", True),
    ("            yield item\n", "            yield item\n    return None\n", True),
    # the signature, a decorator, the class, the module: the whole module again
    ("    def load(self, key):\n", "    def load(self, key, default=None):\n", False),
    ("    def save(", "    @staticmethod\n    def save(", False),
    ('    """A store."""\n', '    """A store."""\n    size = 0\n', False),
    ("import os\n", "import os\nimport re\n", False),
    # leaving the function, or breaking it: the whole module again
    ("        return value\n", "        return value\n    extra = 1\n", False),
    ("        return value\n", "        return (value\n", False),
    ("        return value\n", "\treturn value\n", False),
])
def test_what_is_spliced_and_what_is_extracted_in_full(old, new, spliced):
    previous = Extraction(SOURCE, facts_for_file(Path("."), "store.py", SOURCE.encode()))
    text = _edited(old, new)
    result = splice(previous, Extraction(text))
    assert (result is not None) == spliced
    if result is not None:
        assert result == facts_for_file(Path("."), "store.py", text.encode())


def test_windows_line_ends_are_spliced_exactly():
    crlf = SOURCE.replace("\n", "\r\n")
    previous = Extraction(crlf, facts_for_file(Path("."), "store.py", crlf.encode()))
    text = _edited("        return value\r\n", "        assert value\r\n        return value\r\n", crlf)
    result = splice(previous, Extraction(text))
    assert result is not None
    assert result == facts_for_file(Path("."), "store.py", text.encode())


ROUTES = '''from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{key}")
def read_item(key: str):
    return load(key)


def load(key):
    value = lookup(key)
    return value


def lookup(key):
    return {"a": 1}.get(key)
'''


def test_the_server_splices_body_edits_and_reports_what_a_fresh_load_reports(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "app.py").write_text(ROUTES)
    live = LiveProject(tmp_path, cache=False)
    live.judge()
    live.set_buffer("app.py", ROUTES)
    live.judge()  # the first text of the buffer is extracted in full
    steps = [
        # an assert on the handler's path: RL001 on its line
        ROUTES.replace("    value = lookup(key)\n", "    value = lookup(key)\n    assert value is not None\n"),
        # a line above it moves it down
        ROUTES.replace("    value = lookup(key)\n", "    # why\n    value = lookup(key)\n    assert value is not None\n"),
        # suppressed on its line
        ROUTES.replace("    value = lookup(key)\n",
                       "    # why\n    value = lookup(key)\n    assert value is not None  # review-lint: ignore[RL001]\n"),
        # a syntax error mid-edit: RL000, the last good facts stand for the module
        ROUTES.replace("    value = lookup(key)\n", "    value = lookup(key\n"),
        # fixed again, with the assert back: spliced into the last text that parsed
        ROUTES.replace("    value = lookup(key)\n", "    value = lookup(key)\n    assert value\n"),
    ]
    expected = [[("RL001", 13)], [("RL001", 14)], [], [("RL000", 12)], [("RL001", 13)]]
    for text, wanted in zip(steps, expected):
        live.set_buffer("app.py", text)
        found = [d for d in live.judge().get("app.py", []) if d.rule in ("RL000", "RL001")]
        assert [(d.rule, d.line) for d in found] == wanted
        fresh = LiveProject(tmp_path, cache=False)
        fresh.set_buffer("app.py", text)
        assert fresh.judge().get("app.py", []) == live.findings.get("app.py", [])
    assert live.source.spliced == 4  # every edit but the broken one
