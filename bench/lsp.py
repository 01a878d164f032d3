#!/usr/bin/env python3
"""Benchmark `review-lint server`: latency from a didChange to its published diagnostics.

    python bench/lsp.py                  # Django's wheel as one project, 20 edits of each kind
    python bench/lsp.py --edits 30 --write docs/performance.md
    python bench/lsp.py --profile        # where one judgement's time goes (in this process)

Fetches the corpus as bench/run.py does (into ~/.cache/review-lint-bench), starts
the server over stdio with a real LSP client (pygls's), opens the largest module,
waits until the project is loaded (the facts cache warm after the first run), then
makes edits of three kinds, one at a time and each after a quiet spell longer than
the server's debounce (so that none waits for another): a line in a function body,
a new function, a new import. Each edit is timed from the didChange sent to the
publishDiagnostics received for the edited document (the server always republishes
the document just edited). Peak RSS is the server process's high-water mark
(VmHWM); the workers of a cold first load are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon_probe import peak_rss_mb  # noqa: E402
from run import CORPORA, REPO, fetch, machine  # noqa: E402

QUIET = 0.4  # seconds between edits: more than the server's debounce (0.15 s)
KINDS = ("body line", "new function", "new import")


def largest_module(corpus: Path) -> Path:
    return max(corpus.rglob("*.py"), key=lambda p: p.stat().st_size)


def edited(text: str, kind: str, n: int) -> str:
    """The module with edit number `n` of `kind` (each differs from the one before)."""
    lines = text.splitlines(keepends=True)
    if kind == "body line":
        # After the first line of the first function body far enough into the module.
        for index in range(len(lines) // 2, len(lines) - 1):
            header = re.match(r"(\s*)def \w+\(.*\).*:\s*$", lines[index])
            if header:
                indent = header.group(1) + "    "
                return "".join(lines[:index + 1] + [f"{indent}_bench_edit = {n}\n"] + lines[index + 1:])
        raise SystemExit("no single-line function header in the second half of the module")
    if kind == "new function":
        return text + f"\n\ndef _bench_function_{n}():\n    return {n}\n"
    return f"import json as _bench_json_{n}\n" + text


async def measure(corpus: Path, edits: int) -> tuple[dict[str, list[float]], float, int, int]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("review-lint-bench", "1")
    target = largest_module(corpus)
    uri = target.as_uri()
    published: asyncio.Queue = asyncio.Queue()
    loaded = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == uri:
            published.put_nowait(time.perf_counter())

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def on_log(params: types.LogMessageParams) -> None:
        print(f"  server: {params.message.splitlines()[0]}", file=sys.stderr)
        if params.message.startswith("review-lint: loaded"):
            loaded.set()

    await client.start_io(sys.executable, "-m", "review_lint.cli", "server", cwd=str(REPO))
    started = time.perf_counter()
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        workspace_folders=[types.WorkspaceFolder(uri=corpus.as_uri(), name=corpus.name)]))
    client.initialized(types.InitializedParams())
    text = target.read_text()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await loaded.wait()
    await published.get()
    load = time.perf_counter() - started
    print(f"  loaded in {load:.1f} s; editing {target.relative_to(corpus)}", file=sys.stderr)

    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    version = 1
    for n in range(edits):
        for kind in KINDS:
            await asyncio.sleep(QUIET)
            while not published.empty():
                published.get_nowait()
            version += 1
            sent = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited(text, kind, n))]))
            timings[kind].append(await published.get() - sent)
    rss = peak_rss_mb(client._server.pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client._server.wait()
    lines = text.count("\n")
    return timings, load, rss, lines


def profile(corpus: Path) -> None:
    """Where one judgement after a body edit spends its time (cProfile, in this process)."""
    import cProfile
    import pstats

    from review_lint import libcst_patches
    from review_lint.live import LiveProject

    with libcst_patches.applied():  # as the server runs
        _profile(corpus, LiveProject(corpus), cProfile, pstats)


def _profile(corpus: Path, live, cProfile, pstats) -> None:
    live.judge()
    target = largest_module(corpus)
    relative = target.relative_to(corpus).as_posix()
    text = target.read_text()
    for n in range(3):
        live.set_buffer(relative, edited(text, "body line", n))
        started = time.perf_counter()
        live.judge()
        print(f"judge after a body edit: {time.perf_counter() - started:.3f} s", file=sys.stderr)
    live.set_buffer(relative, edited(text, "body line", 99))
    profiler = cProfile.Profile()
    profiler.enable()
    live.judge()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def table(timings: dict[str, list[float]], load: float, rss: int, corpus: Path, lines: int, target: str) -> str:
    files = sum(1 for _ in corpus.rglob("*.py"))
    out = [f"### review-lint server on {corpus.name} ({files} files; edits in `{target}`, {lines:,} lines)", "",
           "| edit | edits | p50 (ms) | p95 (ms) | max (ms) |", "| --- | ---: | ---: | ---: | ---: |"]
    for kind, values in timings.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        out.append(f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.0f} | {p95 * 1000:.0f} | "
                   f"{ordered[-1] * 1000:.0f} |")
    out += ["", f"Warm load (initialize to the first diagnostics, facts cache warm): {load:.1f} s. "
                f"Server peak RSS: {rss} MB."]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=20, help="edits of each kind (default 20: 60 in all)")
    parser.add_argument("--corpus", choices=list(CORPORA), default="django")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "review-lint-bench")
    parser.add_argument("--profile", action="store_true", help="profile one judgement instead")
    parser.add_argument("--write", type=Path, help="also write the table into this Markdown file")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = fetch(args.work, CORPORA[args.corpus])
    if args.profile:
        profile(corpus)
        return
    timings, load, rss, lines = asyncio.run(measure(corpus, args.edits))
    target = largest_module(corpus).relative_to(corpus).as_posix()
    command = "python bench/lsp.py " + " ".join(sys.argv[1:])
    report = (f"Machine: {machine()}.\nCommand: `{command.strip()}`.\n\n"
              + table(timings, load, rss, corpus, lines, target))
    print(report)
    if args.write:
        write(args.write, report)


def write(path: Path, report: str) -> None:
    """Put the report between its markers, before bench/run.py's results (which that
    script replaces up to the end of the file)."""
    begin, end, theirs = "<!-- lsp bench results -->", "<!-- end lsp bench results -->", "<!-- bench results -->"
    text = path.read_text() if path.exists() else ""
    section = f"{begin}\n\n{report}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    elif theirs in text:
        text = text.replace(theirs, section + "\n\n" + theirs, 1)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)

if __name__ == "__main__":
    main()
