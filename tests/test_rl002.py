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
        "    x: Optional[int] = None\n\n\n"
        "def build() -> M:\n"
        "    return M(x=1)\n"
    )
    def run() -> int:
        engine = Engine(Options(paths=[str(tmp_path)], select=["RL002"], root=str(tmp_path)), cwd=tmp_path)
        return len(engine.run().diagnostics)

    assert run() == 1
    (tmp_path / ".review-lint.yaml").write_text("rules:\n  RL002:\n    min-sites: 2\n")
    assert run() == 0
