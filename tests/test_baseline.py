"""`review-lint baseline` and `check --baseline`: adopting the tool without fixing everything first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitrepo import make_repo, run

APP = """\
def handler(x, y):
    assert x
    assert x
    total = y + 1
    return total


class Service:
    def run(self, z):
        assert z is not None, "no z"
        return z
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/app.py": APP})
    done = run(repo, "baseline", ".", "--select", "RL900")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Recorded 3 findings in .review-lint-baseline.json.\n"
    return repo


def check(repo: Path, *args: str):
    return run(repo, "check", ".", "--select", "RL900", "--no-cache", "-j", "1", "--baseline",
               ".review-lint-baseline.json", *args)


def reported(repo: Path) -> list[tuple[str, int, str]]:
    done = check(repo, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    return [(d["path"], d["line"], d["message"]) for d in json.loads(done.stdout)["diagnostics"]]


def app(repo: Path) -> Path:
    return repo / "pkg" / "app.py"


def test_the_baseline_file(repo: Path) -> None:
    data = json.loads((repo / ".review-lint-baseline.json").read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["tool"]["name"] == "review-lint"
    entries = data["findings"]
    assert [(e["path"], e["line"], e["rule"]) for e in entries] == [
        ("pkg/app.py", 2, "RL900"), ("pkg/app.py", 3, "RL900"), ("pkg/app.py", 10, "RL900")]
    # Two identical asserts in one function: an occurrence index tells them apart.
    assert len({e["fingerprint"] for e in entries}) == 3


def test_baselined_findings_are_hidden(repo: Path) -> None:
    done = check(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All clear" in done.stdout


def test_baseline_survives_inserted_lines_and_unrelated_edits(repo: Path) -> None:
    text = app(repo).read_text(encoding="utf-8")
    text = '"""A new module docstring."""\n\nimport os\n\n\n' + text  # every finding moves down 5 lines
    text = text.replace("total = y + 1", "total = y + 2  # an unrelated edit in the same function")
    text = text.replace("        return z", "        assert   z\n        return z")  # a new finding
    app(repo).write_text(text, encoding="utf-8")
    assert reported(repo) == [("pkg/app.py", 16, "assert statement: z")]


def test_a_third_duplicate_is_new(repo: Path) -> None:
    app(repo).write_text(APP.replace("    assert x\n", "    assert x\n    assert x\n", 1), encoding="utf-8")
    assert len(reported(repo)) == 1


def test_statistics_count_hidden_and_stale(repo: Path) -> None:
    app(repo).write_text(APP.replace('        assert z is not None, "no z"\n', ""), encoding="utf-8")
    done = check(repo, "--statistics")
    assert done.returncode == 0
    assert ("Baseline .review-lint-baseline.json: 2 findings hidden, 1 stale entry "
            "(re-run `review-lint baseline` to prune them).") in done.stdout
    # Machine formats keep stdout clean: the note goes to stderr.
    done = check(repo, "--statistics", "--format", "sarif")
    assert "2 findings hidden" in done.stderr and json.loads(done.stdout)
    # Re-running `baseline` prunes the stale entry.
    rerun = run(repo, "baseline", ".", "--select", "RL900")
    assert rerun.stdout == "Recorded 2 findings in .review-lint-baseline.json; pruned 1 stale entry.\n"
    assert "0 stale entries." in check(repo, "--statistics").stdout


def test_entries_of_unchecked_files_and_rules_are_not_stale(repo: Path) -> None:
    (repo / "pkg" / "other.py").write_text("x = 1\n", encoding="utf-8")
    done = run(repo, "check", "pkg/other.py", "--select", "RL900", "--no-cache", "--baseline",
               ".review-lint-baseline.json", "--statistics")
    assert "0 findings hidden, 0 stale entries." in done.stdout
    done = run(repo, "check", ".", "--select", "RL901", "--no-cache", "--baseline", ".review-lint-baseline.json",
               "--statistics")
    assert "0 findings hidden, 0 stale entries." in done.stdout


def test_baseline_in_sarif_and_changed_lines_together(repo: Path) -> None:
    app(repo).write_text(APP + "\n\ndef later(w):\n    assert w\n", encoding="utf-8")
    done = check(repo, "--format", "sarif", "--diff-base", "HEAD")
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [15]


@pytest.mark.parametrize("content, message", [
    (None, "baseline file not found: .review-lint-baseline.json (create it with `review-lint baseline`)"),
    ("{not json", "baseline .review-lint-baseline.json is not valid JSON"),
    ('{"version": 99, "findings": []}', "baseline .review-lint-baseline.json is not a review-lint baseline"),
    ('{"version": 1, "findings": [{"rule": "RL900"}]}', "entry 1 needs fingerprint, rule and path"),
])
def test_bad_baselines_are_usage_errors(repo: Path, content: str | None, message: str) -> None:
    path = repo / ".review-lint-baseline.json"
    if content is None:
        path.unlink()
    else:
        path.write_text(content, encoding="utf-8")
    done = check(repo)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("review-lint: error: ") and message in lines[0]


def test_unreadable_baseline_is_a_usage_error(repo: Path) -> None:
    path = repo / ".review-lint-baseline.json"
    path.write_bytes(b"\xff\xfe not text")
    done = check(repo)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "baseline .review-lint-baseline.json is not valid JSON" in done.stderr
    path.unlink()
    path.mkdir()
    done = check(repo)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "review-lint: error: Invalid value for '--baseline': File '.review-lint-baseline.json' is a directory."]


def test_baseline_survives_rewrapping_and_comments(repo: Path) -> None:
    app(repo).write_text(APP + "\n\ndef later(w):\n    assert valid(w, 'strict')\n", encoding="utf-8")
    assert run(repo, "baseline", ".", "--select", "RL900").returncode == 0
    app(repo).write_text(APP + "\n\ndef later(w):\n    assert valid(  # re-wrapped, with a comment\n"
                         "        w,\n        'strict',\n    )\n", encoding="utf-8")
    assert reported(repo) == []


def test_normalise() -> None:
    from review_lint.baseline import normalise

    assert normalise("call(a, b)") == normalise("call(\n    a,\n    b,\n)  # a comment")
    assert normalise("assert   x  is not None") == "assert x is not None"
    assert normalise('x = "# not a comment"  # a comment') == 'x="#not a comment"'  # consistent, if not pretty
    assert normalise("assert x") != normalise("assert y")
