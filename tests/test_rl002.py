"""RL002's message and related locations, beyond the line marks the fixtures check."""

from __future__ import annotations

from pathlib import Path

from review_lint.engine import Engine, Options

CASE = Path(__file__).resolve().parent / "fixtures" / "RL002" / "key_case"


def test_message_names_the_field_every_site_and_the_internal_id() -> None:
    engine = Engine(Options(paths=[str(CASE)], select=["RL002"], root=str(CASE)), cwd=CASE)
    [finding] = engine.run().diagnostics
    assert (finding.path, finding.line) == ("hub/protocol.py", 11)
    assert "`ReadyPayload.worker_id` is declared `UUID | None`" in finding.message
    assert "the only construction site" in finding.message
    assert "`worker.id` may expose an internal identifier" in finding.message
    assert [(r.path, r.span[0], r.message) for r in finding.related] == [
        ("hub/frames.py", 9, "`ReadyPayload` built here sets `worker_id` to `worker.id`")
    ]


def test_min_sites_option_is_read_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "m.py").write_text(
        "from typing import Optional\n"
        "from pydantic import BaseModel\n\n\n"
        "class M(BaseModel):\n"
        "    x: Optional[int]\n\n\n"
        "def build() -> M:\n"
        "    return M(x=1)\n"
    )
    def run() -> int:
        engine = Engine(Options(paths=[str(tmp_path)], select=["RL002"], root=str(tmp_path)), cwd=tmp_path)
        return len(engine.run().diagnostics)

    assert run() == 1
    (tmp_path / ".review-lint.yaml").write_text("rules:\n  RL002:\n    min-sites: 2\n")
    assert run() == 0


DEFAULTED = Path(__file__).resolve().parent / "fixtures" / "RL002" / "defaulted_fields"


def _fields_reported(tmp_path: Path, setting: str | None) -> set[str]:
    import shutil

    project = tmp_path / "project"
    shutil.copytree(DEFAULTED, project)
    if setting is not None:
        (project / ".review-lint.yaml").write_text(f"rules:\n  RL002:\n    defaulted-fields: {setting}\n")
    engine = Engine(Options(paths=[str(project)], select=["RL002"], root=str(project)), cwd=project)
    return {d.message.split("`")[1] for d in engine.run().diagnostics}


def test_defaulted_fields_option_chooses_which_defaults_are_judged(tmp_path: Path) -> None:
    forced = _fields_reported(tmp_path / "forced", None)
    assert "ActionContext.selection" in forced and "ProviderError.provider" in forced
    assert "ReadyFrame.trace_id" not in forced and "ExportOptions.stdout" not in forced
    # skip: only fields without a default (required TypedDict keys).
    skip = _fields_reported(tmp_path / "skip", "skip")
    assert skip == forced - {"ActionContext.selection", "ProviderError.provider"}
    # judge: every Optional field, the rule's behaviour before the criterion.
    judge = _fields_reported(tmp_path / "judge", "judge")
    assert {"ReadyFrame.trace_id", "WorkerFilter.name", "ExportOptions.stdout", "KeywordRequest.stderr"} <= judge
    assert forced < judge
