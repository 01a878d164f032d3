"""`review-lint server` end to end: a real LSP client (pytest-lsp) over stdio.

The project is written into tmp_path: a FastAPI handler in `routes.py` reaches an
assert in `helpers.py` (RL001), and `build.py` builds the model of `schemas.py`
(RL002 once it fills the Optional field). Edits are sent as didChange and never
saved: the server judges the unsaved text.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from review_lint.server import _guarded, line_edit, suppressed

HELPERS = "def check_user(user):\n    assert user is not None\n    return user\n"
ROUTES = """from fastapi import FastAPI

from .helpers import check_user

app = FastAPI()


@app.get("/users")
def read_user(user: str):
    return check_user(user)
"""
SCHEMAS = """from typing import Optional

from pydantic import BaseModel


class Note(BaseModel):
    text: Optional[str]  # required but nullable: what RL002 judges by default
"""
BUILD = "from .schemas import Note\n\n\ndef make(text: str) -> Note:\n    return Note(text=None)\n"
PROJECT = {".review-lint.yaml": "", "app/__init__.py": "", "app/helpers.py": HELPERS, "app/routes.py": ROUTES,
           "app/schemas.py": SCHEMAS, "app/build.py": BUILD}
WAIT = 15  # seconds: a bound for a stuck server, not a measurement


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


# The bundled rules only (conftest adds the tests' RL900 to each test's environment).
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "review_lint.cli", "server"],
                            server_env={k: v for k, v in os.environ.items() if k != "REVIEW_LINT_RULES_PATH"})


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, project: Path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="project")]))
    yield
    await lsp_client.shutdown_session()


def uri(project: Path, name: str) -> str:
    return (project / name).as_uri()


def open_files(client: LanguageClient, project: Path, *names: str) -> None:
    for name in names:
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri(project, name), language_id="python", version=1, text=(project / name).read_text())))


def change(client: LanguageClient, project: Path, name: str, text: str, version: int = 2) -> None:
    """A whole-document didChange: the edit stays unsaved."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri(project, name), version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def codes(client: LanguageClient, project: Path, name: str) -> list[str]:
    return [d.code for d in client.diagnostics.get(uri(project, name), [])]


async def until(client: LanguageClient, condition) -> None:
    """Wait for published diagnostics (or messages) until `condition()` holds."""
    async def loop():
        while not condition():
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    await asyncio.wait_for(loop(), WAIT)


@pytest.mark.asyncio
async def test_cross_file_diagnostics_follow_unsaved_edits(client: LanguageClient, project: Path):
    open_files(client, project, "app/helpers.py", "app/routes.py", "app/schemas.py", "app/build.py")
    await until(client, lambda: codes(client, project, "app/helpers.py") == ["RL001"])
    [found] = client.diagnostics[uri(project, "app/helpers.py")]
    assert found.range == types.Range(types.Position(1, 4), types.Position(1, 27))
    assert found.source == "review-lint"
    assert found.severity == types.DiagnosticSeverity.Warning
    assert found.code_description.href.startswith("file://")
    assert found.code_description.href.endswith("RL001-assert-in-handler.yaml")
    assert [r.location.uri for r in found.related_information] == [uri(project, "app/routes.py")] * 2
    assert found.related_information[0].location.range.start == types.Position(8, 0)
    assert codes(client, project, "app/schemas.py") == []

    # The handler stops calling the helper: the helper's finding goes, unsaved.
    change(client, project, "app/routes.py", ROUTES.replace("return check_user(user)", "return user"))
    await until(client, lambda: codes(client, project, "app/helpers.py") == [])

    # A construction site in one module fills the Optional field: RL002 in another.
    change(client, project, "app/build.py", BUILD.replace("Note(text=None)", "Note(text=text)"))
    await until(client, lambda: codes(client, project, "app/schemas.py") == ["RL002"])
    [contract] = client.diagnostics[uri(project, "app/schemas.py")]
    assert contract.range.start == types.Position(6, 4)
    assert contract.related_information[0].location.uri == uri(project, "app/build.py")
    assert (project / "app/build.py").read_text() == BUILD  # nothing was written


@pytest.mark.asyncio
async def test_code_actions_fix_and_suppress(client: LanguageClient, project: Path):
    open_files(client, project, "app/helpers.py")
    await until(client, lambda: codes(client, project, "app/helpers.py") == ["RL001"])
    target = uri(project, "app/helpers.py")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=target),
        range=types.Range(types.Position(1, 0), types.Position(1, 0)),
        context=types.CodeActionContext(diagnostics=list(client.diagnostics[target]))))
    by_title = {action.title: action for action in actions}
    assert set(by_title) == {"Fix RL001 (assert-in-handler)", "Suppress RL001 on this line"}

    [fix] = by_title["Fix RL001 (assert-in-handler)"].edit.changes[target]
    assert fix.range == types.Range(types.Position(1, 0), types.Position(2, 0))
    assert fix.new_text == '    if user is None:\n        raise RuntimeError("check failed: user is not None")\n'
    assert by_title["Fix RL001 (assert-in-handler)"].is_preferred

    [suppress] = by_title["Suppress RL001 on this line"].edit.changes[target]
    assert suppress.range == types.Range(types.Position(1, 0), types.Position(2, 0))
    assert suppress.new_text == "    assert user is not None  # review-lint: ignore[RL001]\n"

    # The suppressed text, sent back as the editor would after applying the edit.
    change(client, project, "app/helpers.py", HELPERS.replace("None\n", "None  # review-lint: ignore[RL001]\n", 1))
    await until(client, lambda: codes(client, project, "app/helpers.py") == [])


@pytest.mark.asyncio
async def test_broken_config_is_one_message_and_the_server_lives_on(client: LanguageClient, project: Path):
    open_files(client, project, "app/helpers.py")
    await until(client, lambda: codes(client, project, "app/helpers.py") == ["RL001"])
    config = project / ".review-lint.yaml"
    config.write_text("rules:\n  RL001:\n    severity: loud\n")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)]))

    async def message():
        while not client.messages:
            await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
    await asyncio.wait_for(message(), WAIT)
    [shown] = client.messages
    assert shown.type == types.MessageType.Error
    assert ".review-lint.yaml" in shown.message and "severity" in shown.message
    assert "\n" not in shown.message

    # Still alive and answering, with the last good settings.
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri(project, "app/helpers.py")),
        range=types.Range(types.Position(1, 0), types.Position(1, 0)), context=types.CodeActionContext(diagnostics=[])))
    assert len(actions) == 2
    assert codes(client, project, "app/helpers.py") == ["RL001"]

    # A good configuration, saved: it is in force at once.
    config.write_text("rules:\n  RL001:\n    enabled: false\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=config.as_uri())))
    await until(client, lambda: codes(client, project, "app/helpers.py") == [])
    assert len(client.messages) == 1


@pytest.mark.asyncio
async def test_a_syntax_error_mid_edit_keeps_the_other_modules_findings(client: LanguageClient, project: Path):
    open_files(client, project, "app/helpers.py", "app/routes.py")
    await until(client, lambda: codes(client, project, "app/helpers.py") == ["RL001"])
    change(client, project, "app/routes.py", ROUTES.replace("def read_user(user: str):", "def read_user(user: str"))
    await until(client, lambda: codes(client, project, "app/routes.py") == ["RL000"])
    [error] = client.diagnostics[uri(project, "app/routes.py")]
    assert error.severity == types.DiagnosticSeverity.Error
    assert codes(client, project, "app/helpers.py") == ["RL001"]  # judged with routes.py's last good facts

    # Parsing again, and no longer calling the helper.
    change(client, project, "app/routes.py", ROUTES.replace("return check_user(user)", "return user"), version=3)
    await until(client, lambda: codes(client, project, "app/helpers.py") == [] and
                codes(client, project, "app/routes.py") == [])


# -- the pieces, without a client -------------------------------------------------------

def test_suppress_extends_an_existing_list_and_refuses_to_break_the_file():
    text = "x = f()  # review-lint: ignore[RL002]\ny = 1\n"
    assert suppressed(text, 1, "RL001") == "x = f()  # review-lint: ignore[RL002, RL001]\ny = 1\n"
    assert suppressed(text, 1, "RL002") is None  # already there
    assert suppressed("assert a, '''x\ny'''\n", 1, "RL001") is None  # the line ends inside a string
    assert suppressed("assert a \\\n    and b\n", 1, "RL001") is None  # a backslash continuation
    assert suppressed("assert a", 1, "RL001") == "assert a  # review-lint: ignore[RL001]"


def test_line_edit_replaces_only_the_lines_that_differ():
    edit = line_edit("a\nb\nc\n", "a\nB\nB2\nc\n")
    assert (edit.range.start.line, edit.range.end.line, edit.new_text) == (1, 2, "B\nB2\n")
    last = line_edit("a\nb", "a\nbé")
    assert (last.range.start, last.range.end, last.new_text) == (types.Position(1, 0), types.Position(1, 1), "bé")


def test_a_failing_handler_is_logged_and_answers_nothing():
    class Server:
        failures = []

        def log_failure(self, where):
            self.failures.append(where)

    def handler(server, params):
        raise RuntimeError("boom")

    assert _guarded(handler)(Server(), None) is None
    assert Server.failures == ["handling handler"]


def test_an_edit_re_extracts_its_module_only(project: Path, monkeypatch):
    monkeypatch.delenv("REVIEW_LINT_RULES_PATH")
    from review_lint.live import LiveProject

    live = LiveProject(project, cache=False)
    assert [d.rule for d in live.judge()["app/helpers.py"]] == ["RL001"]
    before = dict(live.source.held)
    live.set_buffer("app/routes.py", ROUTES.replace("return check_user(user)", "return user"))
    assert live.judge() == {}
    assert live.source.extracted == 1
    assert all(live.source.held[path] is facts for path, facts in before.items() if path != "app/routes.py")
    live.set_buffer("app/routes.py", "def broken(:\n")  # keeps routes.py's last good facts
    assert [d.rule for d in live.judge()["app/routes.py"]] == ["RL000"]
    assert live.source.held["app/routes.py"].functions == live.source.good["app/routes.py"].functions


def test_each_judgement_leaves_no_garbage_behind(project: Path, monkeypatch):
    """As the daemon's (test_daemon.py): the cycles a judgement leaves are collected once
    its findings are published, not left to pile up edit after edit in a server whose
    facts are frozen."""
    import gc
    from concurrent.futures import Future

    from review_lint.server import ReviewLintServer

    monkeypatch.delenv("REVIEW_LINT_RULES_PATH")
    server = ReviewLintServer()
    server.root = project.resolve()
    for silent in ("log", "show_error", "publish"):
        monkeypatch.setattr(server, silent, lambda *args: None)

    def judge_once() -> dict:
        done: Future = Future()
        done.set_result(server.worker.submit(server.judgement).result())
        server.judged(done)
        server.worker.submit(lambda: None).result()  # what the worker was given after it, done
        return server.findings

    try:
        assert [d.rule for d in judge_once()["app/helpers.py"]] == ["RL001"]
        server.inbox.append(("text", "app/routes.py", ROUTES.replace("return check_user(user)", "return user")))
        gc.collect()
        assert judge_once() == {}
        assert gc.collect() == 0
    finally:
        server.worker.shutdown()
        gc.unfreeze()  # the first load froze the test process's objects with the facts
