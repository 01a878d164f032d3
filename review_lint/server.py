"""`review-lint server`: a Language Server over stdio (pygls, lsprotocol).

One thread runs the protocol (pygls's event loop); one worker thread owns the
project in memory (live.LiveProject) and does every load, re-extraction and
judgement, so that the protocol keeps answering while a judgement runs. The
protocol thread hands the worker what changed (buffer texts, closes, files changed
on disk, configuration reloads) through an inbox, and publishes what comes back:
diagnostics, only for the open documents whose findings changed (and always for
the documents just edited), and configuration errors as one `window/showMessage`.

Edits are debounced: the first change after a quiet spell is judged at once, a
burst of changes (each within DEBOUNCE of the last) is judged once when it
pauses, and at most one judgement waits while another runs.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import io
import logging
import re
import threading
import tokenize
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from . import __version__
from .config import ConfigError
from .diagnostics import Diagnostic
from .engine import UsageError
from .live import LiveProject
from .project import find_root

DEBOUNCE = 0.15  # seconds
SOURCE = "review-lint"
_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
             "info": types.DiagnosticSeverity.Information}
# An existing suppression comment that the "suppress" action extends (extract.py reads them).
_IGNORE = re.compile(r"#\s*review-lint:\s*ignore\[(?P<codes>[^\]]*)\]", re.IGNORECASE)
_UNSUPPRESSIBLE = ("RL000", "RL999")


class ReviewLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(SOURCE, __version__)
        self.root: Path | None = None
        self.live: LiveProject | None = None  # the worker thread's alone
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-lint-judge")
        self.lock = threading.Lock()
        self.inbox: list[tuple[str, str | None, str | None]] = []  # (what, root-relative path, text)
        self.sent: dict[str, str] = {}  # path -> the last text put in the inbox
        self.uris: dict[str, str] = {}  # open documents: root-relative path -> the client's URI
        self.shown: dict[str, list[Diagnostic]] = {}  # path -> the findings last published for it
        self.findings: dict[str, list[Diagnostic]] = {}  # path -> the last judgement's findings
        self.specs: dict = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._running = False
        self._pending = False
        self._last_change = float("-inf")

    # -- messages to the client ---------------------------------------------------
    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def log_failure(self, where: str) -> None:
        self.log(f"review-lint: {where} failed:\n{traceback.format_exc()}", types.MessageType.Error)

    def show_error(self, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"review-lint: {message}"))

    # -- paths --------------------------------------------------------------------
    def relative(self, uri: str) -> str | None:
        """The document's root-relative path, when it is a file of the project."""
        if self.root is None:
            return None
        path = to_fs_path(uri)
        if path is None:
            return None
        return LiveProject.relative_to(self.root, Path(path))

    def uri_of(self, relative: str) -> str:
        return self.uris.get(relative) or from_fs_path(str(self.root / relative)) or (self.root / relative).as_uri()

    # -- the inbox and the debounce --------------------------------------------------
    def post(self, what: str, relative: str | None = None, text: str | None = None, urgent: bool = False) -> None:
        if what == "text":
            if self.sent.get(relative) == text:
                return  # a save of what was already judged
            self.sent[relative] = text
        elif what == "close":
            self.sent.pop(relative, None)
        with self.lock:
            self.inbox.append((what, relative, text))
        self.schedule(urgent)

    def schedule(self, urgent: bool = False) -> None:
        loop = self.loop or asyncio.get_running_loop()
        now = loop.time()
        quiet = now - self._last_change >= DEBOUNCE
        self._last_change = now
        if self._timer is not None:
            self._timer.cancel()
        delay = 0.0 if (urgent or quiet) and not self._running else DEBOUNCE
        self._timer = loop.call_later(delay, self.start_judgement)

    def start_judgement(self) -> None:
        self._timer = None
        if self._running:
            self._pending = True
            return
        self._running = True
        future = self.worker.submit(self.judgement)
        loop = self.loop or asyncio.get_running_loop()
        future.add_done_callback(lambda done: loop.call_soon_threadsafe(self.judged, done))

    # -- the worker thread ---------------------------------------------------------
    def judgement(self) -> tuple[dict[str, list[Diagnostic]], set[str], list[str], list[str]]:
        """(findings by path, paths edited, configuration errors, log lines)."""
        errors: list[str] = []
        notes: list[str] = []
        with self.lock:
            inbox, self.inbox = self.inbox, []
        if self.live is None:
            self.live = self.load(errors, notes)
        live = self.live
        edited = set()
        for what, relative, text in inbox:
            if what == "text":
                live.set_buffer(relative, text)
                edited.add(relative)
            elif what == "close":
                live.close_buffer(relative)
            elif what == "disk":
                live.disk_changed(relative)
            elif what == "config":
                error = live.load_settings()
                if error:
                    errors.append(f"{error}; the last good settings stay in force")
                else:
                    notes.append(f"review-lint: settings reloaded from {live.engine.settings.source or 'the defaults'}")
        findings = live.judge()
        for internal in live.internal:
            notes.append(f"review-lint: {internal.rule} {internal.message}")
        return findings, edited, errors, notes

    def load(self, errors: list[str], notes: list[str]) -> LiveProject:
        live = LiveProject(self.root)
        if live.config_error:
            errors.append(f"{live.config_error}; the default settings are in force")
        live.judge()  # the first load: every file's facts, from the cache where it has them
        # The facts live as long as the server: keep them out of every later collection.
        gc.collect()
        gc.freeze()
        self.specs = live.engine.specs
        notes.append(f"review-lint: loaded {len(live.files)} files under {live.root} "
                     f"({live.source.collector.stats.cached} from the cache)")
        return live

    # -- back on the protocol thread ----------------------------------------------------
    def judged(self, done: Future) -> None:
        self._running = False
        try:
            findings, edited, errors, notes = done.result()
        except Exception:  # noqa: BLE001 - the server outlives any failure
            self.log_failure("judging the project")
        else:
            if self.live is not None:
                self.specs = self.live.engine.specs
            for note in notes:
                self.log(note)
            for error in errors:
                self.show_error(error)
            self.findings = findings
            self.publish(edited)
            # The judgement's cycles, once its findings are out (see daemon._answer).
            self.worker.submit(gc.collect)
        if self._pending:
            self._pending = False
            self.start_judgement()

    def publish(self, edited: set[str]) -> None:
        for relative, uri in self.uris.items():
            now = self.findings.get(relative, [])
            if relative not in edited and self.shown.get(relative, []) == now:
                continue
            self.shown[relative] = now
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[self.to_lsp(d, uri) for d in now]))

    # -- LSP shapes ---------------------------------------------------------------------
    def to_range(self, span, uri: str) -> types.Range:
        """A 1-based span (exclusive end column, in characters) as an LSP range, in the
        client's units where the document is open (else in characters)."""
        line, column, end_line, end_column = (max(value - 1, 0) for value in span)
        start, end = types.Position(line, column), types.Position(end_line, end_column)
        document = self.workspace.text_documents.get(uri)
        if document is None:
            return types.Range(start, end)
        lines = len(document.lines)
        return types.Range(document.position_to_client_units(start) if line < lines else start,
                           document.position_to_client_units(end) if end_line < lines else end)

    def to_lsp(self, diagnostic: Diagnostic, uri: str) -> types.Diagnostic:
        span = (diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column)
        spec = self.specs.get(diagnostic.rule)
        related = []
        for place in diagnostic.related:
            where = self.uri_of(place.path)
            related.append(types.DiagnosticRelatedInformation(
                location=types.Location(uri=where, range=self.to_range(place.span, where)), message=place.message))
        return types.Diagnostic(
            range=self.to_range(span, uri),
            message=diagnostic.message,
            severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Error),
            code=diagnostic.rule,
            # The rule's documentation is its YAML in the installed package (there is no site).
            code_description=types.CodeDescription(href=Path(spec.source).resolve().as_uri()) if spec else None,
            source=SOURCE,
            related_information=related or None,
        )

    # -- code actions ------------------------------------------------------------------------
    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        relative = self.relative(uri)
        document = self.workspace.text_documents.get(uri)
        if relative is None or document is None:
            return []
        first, last = params.range.start.line + 1, params.range.end.line + 1
        here = [d for d in self.shown.get(relative, []) if d.line <= last and d.end_line >= first]
        actions = []
        fixable = [d for d in here if d.fixable]
        if fixable:
            actions += self._fix_action(uri, relative, document.source, fixable)
        seen = set()
        for diagnostic in here:
            if diagnostic.rule in _UNSUPPRESSIBLE or (diagnostic.rule, diagnostic.line) in seen:
                continue
            seen.add((diagnostic.rule, diagnostic.line))
            new = suppressed(document.source, diagnostic.line, diagnostic.rule)
            if new is not None:
                actions.append(types.CodeAction(
                    title=f"Suppress {diagnostic.rule} on this line", kind=types.CodeActionKind.QuickFix,
                    diagnostics=[self.to_lsp(diagnostic, uri)],
                    edit=types.WorkspaceEdit(changes={uri: [line_edit(document.source, new)]})))
        return actions

    def _fix_action(self, uri: str, relative: str, text: str, fixable: list[Diagnostic]) -> list[types.CodeAction]:
        from . import libcst_patches
        from .fixer import fix_text

        try:
            with libcst_patches.applied():
                old, new = fix_text(self.specs, relative, text.encode("utf-8", "surrogatepass"), fixable)
        except ValueError as refused:
            self.log(f"review-lint: no fix offered for {relative}: {refused}")
            return []
        if new == old:
            return []
        codes = sorted({d.rule for d in fixable})
        names = sorted({d.name for d in fixable})
        return [types.CodeAction(
            title=f"Fix {', '.join(codes)} ({', '.join(names)})", kind=types.CodeActionKind.QuickFix,
            diagnostics=[self.to_lsp(d, uri) for d in fixable], is_preferred=True,
            edit=types.WorkspaceEdit(changes={uri: [line_edit(old, new)]}))]


def suppressed(text: str, line: int, code: str) -> str | None:
    """The text with `code` suppressed on its 1-based `line` (a new `# review-lint:
    ignore[...]` comment, or the code added to the line's existing one); None when the
    code is there already, or a comment cannot end the line (it ends inside a string,
    or in a backslash)."""
    lines = text.splitlines(keepends=True)
    if not 0 < line <= len(lines) or _inside_token(text, line):
        return None
    current = lines[line - 1]
    body = current.rstrip("\r\n")
    ending = current[len(body):]
    found = _IGNORE.search(body)
    if found:
        codes = [c.strip() for c in found.group("codes").split(",") if c.strip()]
        if code in (c.upper() for c in codes):
            return None
        body = body[:found.start("codes")] + ", ".join([*codes, code]) + body[found.end("codes"):]
    else:
        body = body.rstrip() + f"  # review-lint: ignore[{code}]"
    new = "".join(lines[:line - 1]) + body + ending + "".join(lines[line:])
    if _parses(text) and not _parses(new):
        return None
    return new


def _inside_token(text: str, line: int) -> bool:
    """Whether the end of the 1-based line falls inside a token (a string over several lines)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.start[0] <= line < token.end[0]:
                return True
            if token.start[0] > line:
                return False
    except (tokenize.TokenError, SyntaxError):
        pass  # the text does not tokenize to the end: what was read says nothing more
    return False


def _parses(text: str) -> bool:
    try:
        compile(text, "<suppress>", "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
    except (SyntaxError, ValueError):
        return False
    return True


def line_edit(old: str, new: str) -> types.TextEdit:
    """One edit replacing the lines where `old` and `new` differ (whole lines: no
    column needs converting to the client's units)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    last = len(a) - end
    if end == 0 and a and not a[-1].endswith(("\n", "\r")):
        # The change reaches the last line, which has no line break: end at its end.
        stop = types.Position(len(a) - 1, len(a[-1].encode("utf-16-le")) // 2)
    else:
        stop = types.Position(last, 0)
    return types.TextEdit(range=types.Range(types.Position(start, 0), stop), new_text="".join(b[start:len(b) - end]))


def _guarded(handler):
    """Any exception in a handler is logged (window/logMessage); the server goes on."""

    @functools.wraps(handler)
    def guarded(server: ReviewLintServer, params):
        try:
            return handler(server, params)
        except Exception:  # noqa: BLE001 - the server never dies of one message
            server.log_failure(f"handling {handler.__name__}")
            return None

    return guarded


def make_server() -> ReviewLintServer:
    server = ReviewLintServer()

    @server.feature(types.INITIALIZE)
    @_guarded
    def initialize(ls: ReviewLintServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        folder = None
        if params.workspace_folders:
            folder = to_fs_path(params.workspace_folders[0].uri)
        elif params.root_uri:
            folder = to_fs_path(params.root_uri)
        elif params.root_path:
            folder = params.root_path
        if folder:
            ls.root = find_root(Path(folder), Path(folder))

    @server.feature(types.INITIALIZED)
    @_guarded
    def initialized(ls: ReviewLintServer, params: types.InitializedParams) -> None:
        watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watched and watched.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=pattern)
                        for pattern in ("**/*.py", "**/*.pyi", "**/.review-lint.yaml", "**/pyproject.toml")]
            ls.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="review-lint-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))
        if ls.root is not None:
            ls.post("load", urgent=True)

    def opened_or_changed(ls: ReviewLintServer, uri: str, urgent: bool) -> None:
        if ls.root is None:  # no workspace folder: the project of the first file opened
            path = to_fs_path(uri)
            if path is None:
                return
            ls.root = find_root(Path(path), Path(path).parent)
        relative = ls.relative(uri)
        if relative is None or not relative.endswith((".py", ".pyi")):
            return
        ls.uris[relative] = uri
        ls.post("text", relative, ls.workspace.get_text_document(uri).source, urgent)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @_guarded
    def did_open(ls: ReviewLintServer, params: types.DidOpenTextDocumentParams) -> None:
        opened_or_changed(ls, params.text_document.uri, urgent=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @_guarded
    def did_change(ls: ReviewLintServer, params: types.DidChangeTextDocumentParams) -> None:
        opened_or_changed(ls, params.text_document.uri, urgent=False)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @_guarded
    def did_save(ls: ReviewLintServer, params: types.DidSaveTextDocumentParams) -> None:
        path = to_fs_path(params.text_document.uri)
        if path and ls.root is not None and LiveProject.is_config_of(ls.root, Path(path)):
            ls.post("config", urgent=True)
        else:
            opened_or_changed(ls, params.text_document.uri, urgent=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @_guarded
    def did_close(ls: ReviewLintServer, params: types.DidCloseTextDocumentParams) -> None:
        relative = ls.relative(params.text_document.uri)
        if relative is None or ls.uris.pop(relative, None) is None:
            return
        if ls.shown.pop(relative, None):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))
        ls.post("close", relative)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @_guarded
    def did_change_watched_files(ls: ReviewLintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if ls.root is None:
            return
        for change in params.changes:
            path = to_fs_path(change.uri)
            if path is None:
                continue
            if LiveProject.is_config_of(ls.root, Path(path)):
                ls.post("config", urgent=True)
            elif (relative := ls.relative(change.uri)) is not None and relative.endswith((".py", ".pyi")):
                ls.post("disk", relative)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    @_guarded
    def code_action(ls: ReviewLintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.code_actions(params)

    @server.feature(types.SHUTDOWN)
    @_guarded
    def shutdown(ls: ReviewLintServer, params: None) -> None:
        ls.worker.shutdown(wait=False, cancel_futures=True)

    return server


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING)  # pygls's own logging: stderr, never stdout
    from . import libcst_patches

    # This process is review-lint's own: LibCST with the speed patches for its lifetime.
    with libcst_patches.applied():
        make_server().start_io()
