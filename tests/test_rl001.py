"""RL001 beyond the fixture marks: the autofix (before/after pairs, idempotence,
atomic writes keeping mode, encoding and line endings), the generic fixer's
refusals, the shared handler knowledge, and the rule's documentation."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from review_lint import fixer
from review_lint.cli import cli
from review_lint.engine import Engine, Options
from review_lint.fixer import apply_fixes
from review_lint.knowledge import handlers

FIX_CASES = Path(__file__).resolve().parent / "fixtures" / "RL001" / "_fix"
RULE_YAML = Path(__file__).resolve().parent.parent / "rules" / "RL001-assert-in-handler.yaml"


def run(root: Path):
    return Engine(Options(paths=[str(root)], select=["RL001"], root=str(root)), cwd=root).run()


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", sorted(p.name for p in FIX_CASES.iterdir()))
def test_fix_turns_before_into_after_and_is_idempotent(case: str, tmp_path: Path) -> None:
    root = tmp_path / case
    shutil.copytree(FIX_CASES / case / "before", root)
    result = run(root)
    assert result.diagnostics and all(d.fix for d in result.diagnostics)
    report = apply_fixes(result, write=True)
    assert files(root) == files(FIX_CASES / case / "after")
    assert report.changed and report.diff.startswith("--- a/")
    # A second --fix changes nothing: what is left is only what the fix refused.
    again = run(root)
    second = apply_fixes(again, write=True)
    assert second.changed == [] and second.diff == ""
    assert files(root) == files(FIX_CASES / case / "after")
    def reasons(failures):
        return sorted(f.split(": ", 1)[0] + ":" + f.rsplit(":", 1)[-1] for f in failures)

    assert reasons(second.failures) == reasons(report.failures)


def test_forms_case_gives_asserts_that_share_a_line_lines_of_their_own() -> None:
    root = FIX_CASES / "forms" / "before"
    report = apply_fixes(run(root), write=False)
    assert report.failures == []
    # The statements around the assert keep their order; the line's comment stays on its last line.
    assert ("-    x = 1; assert x; y = x  # shares its line\n"
            "-    if x: assert flags\n"
            "-    assert x; assert item\n") in report.diff
    assert ("+    x = 1\n"
            "+    if not x:\n"
            '+        raise RuntimeError("check failed: x")\n'
            "+    y = x  # shares its line\n"
            "+    if x:\n"
            "+        if not flags:\n"
            '+            raise RuntimeError("check failed: flags")\n'
            "+    if not x:\n"
            '+        raise RuntimeError("check failed: x")\n'
            "+    if not item:\n"
            '+        raise RuntimeError("check failed: item")\n') in report.diff


def test_diff_mode_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(FIX_CASES / "http_exception" / "before", root)
    before = files(root)
    report = apply_fixes(run(root), write=False)
    assert files(root) == before
    assert report.changed == ["api/imported.py", "api/routes.py"]
    assert "+from fastapi import HTTPException\n" in report.diff
    assert "-    assert user is not None\n" in report.diff


HANDLER = 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/")\ndef index(x=None):\n    assert x\n    return x\n'


def write_project(tmp_path: Path, data: bytes) -> tuple[Path, Path]:
    root = tmp_path / "p"
    root.mkdir()
    (root / ".review-lint.yaml").write_text("")
    path = root / "app.py"
    path.write_bytes(data)
    return root, path


def test_fix_keeps_mode_bom_encoding_and_line_endings(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n" + HANDLER.replace("return x", "return 'caf\xe9'")
    data = b"\xef\xbb\xbf" + HANDLER.replace("\n", "\r\n").encode()
    root, path = write_project(tmp_path, data)
    os.chmod(path, 0o750)
    report = apply_fixes(run(root), write=True)
    assert report.changed == ["app.py"] and report.failures == []
    written = path.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in written.replace(b"\r\n", b"")
    assert b"    if not x:\r\n        raise RuntimeError(\"check failed: x\")\r\n" in written
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert [p.name for p in root.iterdir() if "review-lint-tmp" in p.name] == []

    latin = tmp_path / "latin"
    latin.mkdir()
    root, path = write_project(latin, source.encode("latin-1"))
    assert apply_fixes(run(root), write=True).changed == ["app.py"]
    text = path.read_bytes().decode("latin-1")
    assert "caf\xe9" in text and "if not x:" in text


def test_a_file_changed_since_the_check_is_left_alone(tmp_path: Path) -> None:
    root, path = write_project(tmp_path, HANDLER.encode())
    result = run(root)
    edited = HANDLER.replace("    assert x\n", "    assert x is not None\n")
    path.write_text(edited)
    report = apply_fixes(result, write=True)
    assert report.changed == []
    assert report.failures == ["app.py: RL001 line 8: the assert is no longer there (the file changed since it was checked)"]
    assert path.read_text() == edited


def test_refuses_a_result_that_does_not_parse_or_is_not_stable(tmp_path: Path) -> None:
    root, path = write_project(tmp_path, HANDLER.encode())
    result = run(root)

    def broken(module, diagnostics):
        return module.with_changes(body=[*module.body, cst.SimpleStatementLine([cst.Expr(cst.Name("class"))])])

    def growing(module, diagnostics):
        return module.with_changes(body=[*module.body, cst.parse_statement("x = 1\n")])

    for transform, why in ((broken, "does not parse"), (growing, "second application")):
        original = fixer._transformer
        fixer._transformer = lambda result, code, t=transform: t
        try:
            report = apply_fixes(result, write=True)
        finally:
            fixer._transformer = original
        assert report.changed == [] and len(report.failures) == 1 and why in report.failures[0]
        assert path.read_text() == HANDLER


def test_other_rules_can_ask_what_a_handler_is() -> None:
    case = Path(__file__).resolve().parent / "fixtures" / "RL001" / "cross_module"
    engine = Engine(Options(paths=[str(case)], root=str(case)), cwd=case)
    project = engine.build_project(
        [__import__("review_lint.engine", fromlist=["x"]).facts_for_file(case, p)
         for p in ("shop/__init__.py", "shop/api.py", "shop/orders.py")]
    )
    config = handlers.HandlerConfig.from_options(engine.settings.rules["RL002"].options)
    found = handlers.find_handlers(project, config)
    assert sorted(found) == [("shop.api", "delete_order"), ("shop.api", "place_order"), ("shop.api", "show_order")]
    assert handlers.find_handlers(project, config) is found  # memoised per project


def test_rule_doc_is_complete() -> None:
    out = CliRunner().invoke(cli, ["rule", "RL001"]).output
    for title in ("What it does", "Why it matters", "Example", "Use instead", "Options", "fix-exception"):
        assert title in out


def run_cli(args: list[str], cwd: Path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "review_lint.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_diff_then_fix(tmp_path: Path) -> None:
    root = tmp_path / "forms"
    shutil.copytree(FIX_CASES / "forms" / "before", root)
    before = files(root)
    shown = run_cli(["check", ".", "--select", "RL001", "--diff", "--no-cache"], root)
    assert shown.returncode == 1, shown.stderr
    assert shown.stdout == apply_fixes(run(root), write=False).diff
    assert "fix not applied" not in shown.stderr
    assert files(root) == before

    fixed = run_cli(["check", ".", "--select", "RL001", "--fix", "--no-cache"], root)
    assert files(root) == files(FIX_CASES / "forms" / "after")
    assert "RL001" not in fixed.stdout and fixed.returncode == 0  # nothing left to report
    again = run_cli(["check", ".", "--select", "RL001", "--diff", "--no-cache"], root)
    assert again.stdout == "" and again.returncode == 0


def test_the_chain_cited_is_one_whose_literal_arguments_reach_the_assert() -> None:
    root = Path(__file__).resolve().parent / "fixtures" / "RL001" / "literal_arguments"
    messages = {d.path + ":" + str(d.line): d.message for d in run(root).diagnostics}
    # `ping` calls resolve_worker(session, wid): return_worker defaults to False, which returns first.
    assert messages["hub/workers.py:8"] == ("assert on the request path of `ready` (via `resolve_worker`) is removed "
                                            "under `python -O`; raise an explicit error")
    # The only chain passes strict=None, whose branch returns: reported, and said to be unproven.
    assert messages["hub/workers.py:15"] == (
        "assert on the request path of `settings` (via `load_settings`; the literal arguments on this path return "
        "before it, so the path is possible, not proven) is removed under `python -O`; raise an explicit error")
    # `if datasource or query or viz`: `table_metadata` passes none of them, so the chain is `datasource_access`'s.
    assert messages["hub/workers.py:22"] == (
        "assert on the request path of `datasource_access` (via `check_access`) is removed under `python -O`; raise an explicit error")
    # A method's parameter given positionally is not left at its default.
    assert messages["hub/workers.py:36"] == (
        "assert on the request path of `history_exports` (via `ExportService.exports`) is removed under "
        "`python -O`; raise an explicit error")
    # `if history is None and job is not None`: `build_tool` leaves job None.
    assert messages["hub/workers.py:29"] == (
        "assert on the request path of `job_tool` (via `tool_json`) is removed under `python -O`; raise an explicit error")


def test_a_hook_of_a_class_built_per_request_is_named_as_such() -> None:
    root = Path(__file__).resolve().parent / "fixtures" / "RL001" / "built_per_request"
    found = {d.path + ":" + str(d.line): d for d in run(root).diagnostics}
    validate = found["shop/serializers.py:33"]
    assert validate.message == ("assert in per-request hook `OrderSerializer.validate_lines` is removed under "
                                "`python -O`; raise an explicit error")
    # The related information says who builds it: the view class's `serializer_class`.
    assert any("`OrderSerializer`, the `serializer_class` of view class `OrderViewSet`" in r.message
               for r in validate.related)
    # A field declared by the serializer: DRF runs its hook while it validates.
    assert "per-request hook `TagField.get_queryset`" in found["shop/serializers.py:9"].message
