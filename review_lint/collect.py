"""Phase 1 at scale: a content-addressed cache, a cheap prefilter, worker processes.

Facts are plain data, so they cross process boundaries and sit in the cache as
they are; CST nodes never leave the function that parsed them. The cache is
untrusted input (a repository may commit it, a CI cache may come from another
branch's run): it is read only through `codec`, which builds nothing but facts.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import re
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, NamedTuple

from . import __version__, codec
from .files import write_atomically
from .engine import facts_and_source, facts_for_file
from .facts import ModuleFacts, Problem
from .texts import SourceText

CACHE_DIR_NAME = ".review-lint-cache"
# Both files are only ever reused by the same code: see code_fingerprint().
_CACHE_FILE = "facts.msgpack"
_JUDGEMENT_FILE = "verdicts.msgpack"

# A file none of whose bytes match holds no call, definition, import, assert,
# binding (`=`, an annotation's `:`), block (every compound statement has a `:`)
# or raise: only expressions of names and literals, `pass`, `del`, `global`. Its
# facts are empty, as extraction would make them (tests/test_fuzz.py checks that
# on generated programs). A module of constants (`DEFAULT = None`) is parsed:
# another module's site may pass its None.
_MAY_CONTRIBUTE = re.compile(rb"[(=:@]|\bimport\b|\bdef\b|\bclass\b|\bassert\b|\blambda\b|\braise\b")

JUDGEMENTS_KEPT = 4
KEYS_PER_JUDGEMENT = 8
CHUNK_FILES = 16  # at most, per chunk sent to a worker
# A parse of this many files or more leaves the workers' facts encoded until the parse is
# done, as a parse in this process does (Collector.gather): decoded as they arrived, they
# sat beside every file's encoded facts, which the cache holds until it is written (at
# 10,000 files, 184 MB more at the peak; 382 -> 329 MB of PSS at 2,753). Below, decoding
# while the workers parse is worth its memory: cold, both cores, Django's 885 files take
# 3.91 s of wall time against 4.00 s with the decoding after the parse (four runs each).
DEFER_DECODING_FROM = 1_000
CHUNKS_PER_WORKER = 12  # chunks of equal bytes: more balance the load, fewer cost less to send


@dataclass
class CollectStats:
    parsed: int = 0
    cached: int = 0
    prefiltered: int = 0
    worker_failures: int = 0
    seconds: float = 0.0


@dataclass
class Collector:
    """Produces ModuleFacts for a list of root-relative paths."""

    jobs: int = 1
    cache_dir: Path | None = None  # None: no cache
    prefilter: bool = True
    progress: Callable[[int, int], None] | None = None  # (files just finished, files in all)
    warn: Callable[[str], None] | None = None  # one line for the user; default: stderr
    # LibCST's speed patches while this process parses (the command asks; a program
    # embedding review-lint is left unpatched unless it does). Workers always apply them.
    patch_libcst: bool = False
    # Root-relative path -> the content to judge instead of the disk's (stdin). The cache
    # is keyed by content, so this content never stands for the file on disk.
    contents: dict[str, bytes] = field(default_factory=dict)
    # How workers start: "fork" (cheap: they inherit LibCST's import), or "spawn" for a
    # process that runs threads (the language server), where a fork can inherit a lock
    # another thread holds and hang.
    start_method: str = "fork"
    stats: CollectStats = field(default_factory=CollectStats)
    _pool: ProcessPoolExecutor | None = field(default=None, init=False, repr=False)
    _helper: "_Helper | None" = field(default=None, init=False, repr=False)
    _warned: set[str] = field(default_factory=set, init=False, repr=False)  # damaged cache files said once
    _verdicts: "VerdictCache | None" = field(default=None, init=False, repr=False)
    _memo: tuple | None = field(default=None, init=False, repr=False)  # (root and files, what _read read)
    _keys: dict[str, str] = field(default_factory=dict, init=False, repr=False)  # of the files gather read
    _shared: codec.Shared | None = field(default=None, init=False, repr=False)  # the gather's decoded values

    def prewarm(self) -> None:
        """Start worker processes now, so that they import LibCST (0.13 s) while this
        process reads the configuration and the files, instead of after: on a cold
        run every worker; on a warm run one helper for the few files an edit changes."""
        if self.jobs < 2 or self._pool is not None or self._helper is not None or not sys.platform.startswith("linux"):
            return
        if self.cache_dir is not None and (self.cache_dir / _CACHE_FILE).exists():
            self._helper = _Helper()
            return
        self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=get_context("fork"),
                                         initializer=_ignore_interrupts)
        for _ in range(self.jobs):
            self._pool.submit(_warm_up)

    def close(self) -> None:
        """Stop workers started by `prewarm` that no parse used (the verdicts were kept)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._helper is not None:
            self._helper.stop()
            self._helper = None

    def forget(self) -> None:
        """Drop the contents read for the previous run (a --fix changed them)."""
        self._memo = None

    def _read(self, root: Path, files: list[str]) -> dict[str, tuple[bytes | None, str | None]]:
        """path -> (content, cache key); content None when unreadable, key None when prefiltered."""
        memo = self._memo
        if memo is not None and memo[0] == (root, tuple(files)):
            return memo[1]
        read: dict[str, tuple[bytes | None, str | None]] = {}
        for relative in files:
            try:
                data = self.contents[relative] if relative in self.contents else (root / relative).read_bytes()
            except OSError:
                read[relative] = (None, None)  # facts_for_file reports it as RL000
                continue
            if self.prefilter and not _MAY_CONTRIBUTE.search(data) and _valid_python(data):
                read[relative] = (data, None)
            else:
                read[relative] = (data, _key(relative, data))
        self._memo = ((root, tuple(files)), read)
        return read

    # -- what the engine keys verdicts by ----------------------------------------
    @property
    def verdicts(self) -> "VerdictCache | None":
        """The verdicts kept beside the facts (None without a cache folder)."""
        if self.cache_dir is None:
            return None
        if self._verdicts is None or self._verdicts.folder != self.cache_dir:
            self._verdicts = VerdictCache(self.cache_dir, self._warn_damaged, self._warn_unwritable)
        return self._verdicts

    def contents_key(self, root: Path, files: list[str]) -> str | None:
        """A digest of what every file holds, read once for this run (None when a
        file cannot be read: that is never a settled verdict)."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"prefilter={self.prefilter}\0".encode())
        for relative, (data, key) in self._read(root, files).items():
            if data is None:
                return None
            digest.update(f"{relative}\0{key}\0".encode("utf-8", "surrogateescape"))
        return "files:" + digest.hexdigest()

    def _warn_damaged(self, path: Path, error: Exception) -> None:
        """One line per damaged file per run: it is then rebuilt."""
        if path.name in self._warned:
            return
        self._warned.add(path.name)
        self._say(f"review-lint: warning: ignoring the cache file {path}: {error}; it will be rebuilt")

    def _warn_unwritable(self, folder: Path, error: OSError) -> None:
        """One line per run when the cache cannot be saved (a read-only or full folder):
        the run goes on and its findings are complete; the next run parses again."""
        if "\0unwritable" in self._warned:
            return
        self._warned.add("\0unwritable")
        self._say(f"review-lint: warning: cannot write the cache in {folder}: {error.strerror or error}; "
                  "this run's results are not cached")

    def _say(self, message: str) -> None:
        if self.warn is not None:
            self.warn(message)
        else:
            print(message, file=sys.stderr)

    # -- facts -----------------------------------------------------------------
    def __call__(self, root: Path, files: list[str]) -> list[ModuleFacts]:
        return self.gather(root, files).facts()

    def gather(self, root: Path, files: list[str]) -> "Gathered":
        """Facts for every file: parsed where the cache has none, else left encoded
        until someone asks (an unchanged verdict never needs them).

        A file parsed in this process is kept as the bytes the cache stores, and decoded
        with the cached ones (`Gathered.facts`): the decoded form is the smaller one (each
        string once per file), and decoding after the whole parse keeps the kept facts out
        of the heap pages LibCST's garbage leaves between them, and apart from every file's
        encoded facts, which the cache holds until it is written (cold `--jobs 1` on the
        whole scale tree: 1,836 -> 1,592 MB of RSS). Workers' facts are decoded as they
        arrive, while the other workers parse, unless the parse is large (DEFER_DECODING_FROM);
        after a large parse, every file's facts are decoded from the cache file written
        (_read_back). Facts are encoded with the source they came from, which keeps the
        texts it gives back out of the bytes and out of the decoded facts (texts.py)."""
        started = time.perf_counter()
        cache = (_Cache.load(self.cache_dir, self._warn_damaged, self._warn_unwritable)
                 if self.cache_dir is not None else None)
        results: dict[str, ModuleFacts | bytes] = {}
        todo: list[tuple[str, bytes | None]] = []
        keys: dict[str, str] = {}
        read, self._memo = self._read(root, files), None  # the files' bytes: held below only where parsed
        for relative, (data, key) in read.items():
            if data is None:
                todo.append((relative, None))
                continue
            if key is None:
                results[relative] = ModuleFacts(path=relative, suppressions={})
                self.stats.prefiltered += 1
                continue
            keys[relative] = key
            cached = cache.entries.get(key) if cache is not None else None
            if cached is not None:
                results[relative] = cached
                self.stats.cached += 1
            else:
                todo.append((relative, data))
        del read
        # The files' bytes are garbage now; the keys, kept for the texts the decoded facts
        # leave in their files (texts.py), would hold the C heap's top above them.
        _give_back_free_memory()
        self._keys = keys
        self._shared = codec.Shared()  # this gather's decoding, through Gathered.facts
        self._total = len(files)
        if self.progress:
            self.progress(len(results), self._total)
        blobs: dict[str, bytes] = {}
        idle = self._decode_while_waiting(root, results, blobs) if self._overlap(todo, results) else None
        for facts, blob in self._extract(root, todo, idle):
            encoded = isinstance(facts, _Parsed)  # a worker's, left encoded: see DEFER_DECODING_FROM
            path = facts.path
            if cache is not None and path in keys and not (facts.transient if encoded else _is_transient(facts)):
                cache.put(keys[path], facts, blob)
                blobs[path] = cache.entries[keys[path]]
                if blob is None or encoded:  # parsed here: see below
                    facts = blobs[path]
            elif encoded:
                facts = self._load(root, path, blob)
            results[path] = facts
        self.stats.parsed = len(todo)
        digests: dict[str, bytes] = {}
        if cache is not None:
            cache.save(keep=set(keys.values()))
            digests = {relative: cache.digest(key) for relative, key in keys.items() if key in cache.entries}
            if len(todo) >= DEFER_DECODING_FROM:
                _read_back(cache, keys, results, blobs)
                del cache
                _give_back_free_memory()
        self.stats.seconds = time.perf_counter() - started
        shared, self._shared = self._shared, None
        return Gathered(root, [(relative, results[relative]) for relative in files], blobs, digests, self.prefilter,
                        self.contents, keys, shared)

    def _extract(self, root: Path, files: list[tuple[str, bytes | None]], idle=None):
        if idle is not None and self._helper is not None:
            yield from self._in_helper(root, files, idle)
            return
        if idle is None and self._pool is None and (self.jobs <= 1 or len(files) < 2 * CHUNK_FILES):
            yield from _serial(root, files, self.progress, self._total, self.patch_libcst, self.cache_dir is not None)
            return
        yield from self._parallel(root, files, idle)

    def _in_helper(self, root: Path, files: list[tuple[str, bytes | None]], idle):
        """The changed files, parsed by the helper `prewarm` started, while this process
        decodes the cached facts. If the helper dies, each file is parsed again in a
        process of its own, so that only the one that kills its process is lost."""
        helper, self._helper = self._helper, None
        try:
            blobs = helper.parse(str(root), files, idle)
        finally:
            helper.stop()  # also when interrupted: it ignores Ctrl-C
        if blobs is None:
            context = get_context("fork")
            for relative, data in files:
                self.stats.worker_failures += 1
                yield _extract_isolated(root, relative, data, context), None
                if self.progress:
                    self.progress(1, self._total)
            return
        if self.progress:
            self.progress(len(blobs), self._total)
        for parsed, blob in blobs:
            yield self._load(root, parsed.path, blob), blob

    def _load(self, root: Path, relative: str, blob: bytes) -> ModuleFacts:
        return codec.load_facts(blob, source_text(root, relative, self._keys, self.contents), self._shared)

    def _overlap(self, todo: list, results: dict) -> bool:
        """Whether to parse the few changed files in a worker while this process loads
        the other files' cached facts, which judging them again will need: on two
        cores the parse (and LibCST's import) then costs no time of its own."""
        return (self.jobs > 1 and 0 < len(todo) < 2 * CHUNK_FILES and sys.platform.startswith("linux")
                and any(isinstance(item, _BLOB) for item in results.values()))

    def _decode_while_waiting(self, root: Path, results: dict, blobs: dict[str, bytes]):
        """Decode cached facts one file per step (the caller stops when the worker is
        done: an edit that changes no fact needs none of them)."""
        for relative, item in list(results.items()):
            if isinstance(item, _BLOB):
                try:
                    facts = self._load(root, relative, item)
                except codec.CodecError:  # left as bytes: Gathered re-extracts it
                    continue
                results[relative], blobs[relative] = facts, item
                yield

    def _parallel(self, root: Path, files: list[tuple[str, bytes | None]], idle=None):
        chunks = _chunks(files, self.jobs)
        pending = {i: chunk for i, chunk in enumerate(chunks)}
        context = get_context(self.start_method) if sys.platform.startswith("linux") else get_context()
        prewarmed, self._pool = self._pool, None
        try:
            with prewarmed or ProcessPoolExecutor(max_workers=min(self.jobs, len(chunks)), mp_context=context,
                                                  initializer=_ignore_interrupts) as pool:
                try:
                    futures = {pool.submit(_extract_chunk, str(root), chunk): i for i, chunk in enumerate(chunks)}
                    for _ in idle or ():
                        if all(future.done() for future in futures):
                            break
                    defer = len(files) >= DEFER_DECODING_FROM
                    for future in _as_completed(futures):
                        index = futures[future]
                        # Workers send each file's facts encoded once: the same bytes go
                        # into the cache, so the parent never encodes them again.
                        blobs = future.result()
                        del pending[index]
                        if self.progress:
                            self.progress(len(blobs), self._total)
                        for parsed, blob in blobs:
                            yield (parsed if defer else self._load(root, parsed.path, blob)), blob
                except KeyboardInterrupt:
                    _stop_now(pool)  # rather than wait for every chunk under way
                    raise
        except BrokenProcessPool:
            pass
        # A worker died (a signal, the native parser crashing): only the files of the
        # chunks it left unfinished are at risk. Each runs alone so the one that kills
        # its process is named; the others are judged as usual.
        for chunk in pending.values():
            for relative, data in chunk:
                self.stats.worker_failures += 1
                yield _extract_isolated(root, relative, data, context), None
                if self.progress:
                    self.progress(1, self._total)


def _chunks(files: list[tuple[str, bytes | None]], jobs: int) -> list[list[tuple[str, bytes | None]]]:
    """Chunks of about equal size in bytes, largest files first.

    Parsing time follows file size, so equal-byte chunks keep the workers equally
    busy, and the small chunks at the end let them finish together (results are
    keyed by path: order is free).
    """
    ordered = sorted(files, key=lambda item: -len(item[1] or b""))
    target = max(sum(len(data or b"") for _, data in files) // (jobs * CHUNKS_PER_WORKER), 1)
    chunks: list[list[tuple[str, bytes | None]]] = []
    current: list[tuple[str, bytes | None]] = []
    size = 0
    for item in ordered:
        current.append(item)
        size += len(item[1] or b"")
        if size >= target or len(current) >= CHUNK_FILES:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


class Gathered:
    """Each file's facts, as objects or as the encoded bytes the cache holds."""

    def __init__(self, root: Path, items: list[tuple[str, ModuleFacts | bytes]], blobs: dict[str, bytes],
                 digests: dict[str, bytes] | None = None, prefilter: bool = False,
                 contents: dict[str, bytes] | None = None, keys: dict[str, str] | None = None,
                 shared: codec.Shared | None = None) -> None:
        self.root = root
        self.shared = shared  # the values decoded so far, until `facts` has decoded the rest
        self.prefilter = prefilter
        self.contents = contents or {}  # as Collector.contents
        self.keys = keys or {}  # each file's content key (collect._key), which its texts are read by
        self.items = items
        self.blobs = blobs  # the encoded facts of the files parsed in this run
        self.digests = digests or {}  # a digest of each file's encoded facts, where the cache keeps one
        self._facts: list[ModuleFacts] | None = None
        self._fingerprint: str | None | bool = False  # False: not computed yet

    @property
    def fingerprint(self) -> str | None:
        """A digest of every file's facts (None when some file's facts have no bytes:
        a read failure or a crash, never a settled verdict)."""
        if self._fingerprint is False:
            self._fingerprint = self._digest_of_facts()
        return self._fingerprint

    def _digest_of_facts(self) -> str | None:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"prefilter={self.prefilter}\0".encode())
        for relative, item in self.items:
            blob = item if isinstance(item, _BLOB) else self.blobs.get(relative)
            if blob is not None:
                known = self.digests.get(relative) or _digest(blob)
                digest.update(f"{relative}\0".encode("utf-8", "surrogateescape") + known)
            elif not item.problems and not item.functions and not item.classes and not item.imports:
                digest.update(f"{relative}\0prefiltered\0".encode("utf-8", "surrogateescape"))
            else:
                return None
        return "facts:" + digest.hexdigest()

    def facts(self) -> list[ModuleFacts]:
        """Every file's facts, decoded once. The encoded bytes are dropped as they are
        decoded (the fingerprint, which reads them, is taken first): a view of the cache
        file keeps all of it alive, and the facts decoded from it are several times its size."""
        if self._facts is None:
            self.fingerprint  # noqa: B018 - taken now: it reads the bytes dropped below
            items, self.items, self.blobs = self.items, [], {}
            decoded = 0  # bytes of the mapped cache file decoded since its pages were last given back
            item = last = None
            for index, (relative, item) in enumerate(items):
                items[index] = (relative, self._decoded(relative, item))
                if isinstance(item, memoryview):
                    decoded += len(item)
                    if decoded >= RELEASE_EVERY_BYTES:
                        codec.release_pages(item)
                        decoded = 0
                    last = item
            if decoded:
                codec.release_pages(last)
            del item, last  # the last view would keep the whole mapping alive
            self.items = items
            self._facts = [facts for _, facts in items]
            self.shared = None
            _give_back_free_memory()
        return self._facts

    def _decoded(self, relative: str, item: ModuleFacts | bytes) -> ModuleFacts:
        if not isinstance(item, _BLOB):
            return item
        try:
            return codec.load_facts(item, source_text(self.root, relative, self.keys, self.contents), self.shared)
        except codec.CodecError:  # a damaged cache entry is only a miss
            return facts_for_file(self.root, relative, self.contents.get(relative))


def _as_completed(futures):
    from concurrent.futures import as_completed

    return as_completed(futures)


def _raise_recursion_limit() -> None:
    if sys.getrecursionlimit() < 10_000:
        sys.setrecursionlimit(10_000)


def _serial(root: Path, files: list[tuple[str, bytes | None]], progress, total: int, patch_libcst: bool,
            encode: bool):
    """Each file's facts, parsed in this process: encoded for the cache when there is one
    (see gather), else as extracted (encoding and decoding them again would cost a tenth
    of the parse, Django's cold `--no-cache --jobs 1`: 6.5 -> 7.3 s CPU)."""
    _raise_recursion_limit()
    from . import libcst_patches

    with libcst_patches.applied() if patch_libcst else contextlib.nullcontext():
        parsed = 0
        for index, (relative, data) in enumerate(files):
            files[index] = (relative, None)  # its bytes are garbage once parsed (the whole tree's are 110 MB)
            yield _encoded(root, relative, data) if encode else (facts_for_file(root, relative, data), None)
            parsed = _trimmed_after(parsed, data)
            if progress:
                progress(1, total)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the process that started them, which stops them:
    otherwise each prints a traceback of the import or parse it was in."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _warm_up() -> bool:
    """Import LibCST in a worker before its first chunk arrives."""
    from . import libcst_patches

    libcst_patches.prepare()
    return True


class _Helper:
    """One forked process that imports LibCST at once, then parses one list of files
    sent to it (a warm run's changed files) and exits."""

    def __init__(self) -> None:
        context = get_context("fork")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_help, args=(theirs, self.connection), daemon=True)
        self.process.start()
        theirs.close()

    def parse(self, root: str, files: list[tuple[str, bytes | None]], idle) -> list[tuple[_Parsed, bytes]] | None:
        """Each file's encoded facts (as _extract_chunk gives them), or None if the helper
        died; `idle` is stepped while waiting."""
        try:
            self.connection.send((root, files))
            for _ in idle:
                if self.connection.poll():
                    break
            return self.connection.recv()
        except (EOFError, OSError):
            return None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()  # unused, or done: nothing of value is lost
        self.process.join()
        self.connection.close()


def _help(connection, parents_end) -> None:
    _ignore_interrupts()
    parents_end.close()  # so that a parent gone without a word is an EOF here, not a wait forever
    _warm_up()
    try:
        root, files = connection.recv()
        connection.send(_extract_chunk(root, files))
    except (EOFError, OSError):
        return


class _Parsed(NamedTuple):
    """A file parsed, its facts still encoded."""

    path: str
    transient: bool  # never cached (_is_transient)


def _encoded(root: Path, relative: str, data: bytes | None) -> tuple[_Parsed, bytes]:
    """A file's facts, parsed and encoded with the texts its source gives back left out
    (texts.py): the decoded facts are smaller, and so are the bytes cached."""
    facts, source = facts_and_source(root, relative, data)
    blob, stored = codec.dump_facts_or_failure(facts, source)
    return _Parsed(facts.path, not stored or _is_transient(facts)), blob


def source_text(root: Path, relative: str, keys: dict[str, str], contents: dict[str, bytes]) -> SourceText:
    """Where the texts of `relative`'s decoded facts are: the file whose bytes gave `keys[relative]`."""
    return SourceText(str(root / relative), relative, keys.get(relative), contents.get(relative))


def _extract_chunk(root: str, chunk: list[tuple[str, bytes | None]]) -> list[tuple[_Parsed, bytes]]:
    """Each file's facts, encoded (_encoded)."""
    _raise_recursion_limit()
    base = Path(root)
    from . import libcst_patches

    global _parsed_in_worker
    parsed = []
    with libcst_patches.applied():  # a worker process: review-lint's own
        for relative, data in chunk:
            parsed.append(_encoded(base, relative, data))
            _parsed_in_worker = _trimmed_after(_parsed_in_worker, data)
    return parsed


_parsed_in_worker = 0  # bytes a worker parsed since it last gave memory back: chunks are small


def _extract_one(root: str, relative: str, data: bytes | None, connection) -> None:
    _ignore_interrupts()
    _raise_recursion_limit()
    from . import libcst_patches

    with libcst_patches.applied():  # a process of its own, as a worker's
        facts = facts_and_source(Path(root), relative, data)[0]
    connection.send(facts)
    connection.close()


def _extract_isolated(root: Path, relative: str, data: bytes | None, context) -> ModuleFacts:
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_extract_one, args=(str(root), relative, data, sender))
    process.start()
    sender.close()
    facts = None
    try:
        if receiver.poll(600):
            facts = receiver.recv()
    except (EOFError, OSError):
        facts = None
    except KeyboardInterrupt:
        process.terminate()
        raise
    process.join()
    if facts is not None:
        return facts
    failed = ModuleFacts(path=relative)
    how = f"signal {-process.exitcode}" if process.exitcode and process.exitcode < 0 else f"exit {process.exitcode}"
    failed.problems.append(Problem("RL999", f"the worker analysing this file died ({how}); the file was not judged"))
    return failed


def _valid_python(data: bytes) -> bool:
    """Whether CPython accepts the file: a prefiltered file still owes its RL000
    (Python 2 `print x`, a bad coding declaration). These files are small and
    flat, so CPython's parser costs next to nothing here."""
    try:
        compile(data, "<prefilter>", "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
    except (SyntaxError, ValueError, MemoryError, RecursionError, UnicodeError):
        return False
    return True


def _key(relative: str, data: bytes) -> str:
    digest = hashlib.blake2b(data, digest_size=16)
    digest.update(b"\0" + relative.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _is_transient(facts: ModuleFacts) -> bool:
    """Read failures and crashes are not properties of the content: never cache them."""
    return any(p.code == "RL999" or p.message.startswith("cannot read") for p in facts.problems)


class VerdictCache:
    """The verdicts of recent runs, each under the keys of the project it judged.

    A key is what the files say (Collector.contents_key, or Gathered.fingerprint
    when only their facts are known), with the code and settings that judged them.
    """

    def __init__(self, folder: Path, warn_damaged: Callable[[Path, Exception], None],
                 warn_unwritable: Callable[[Path, OSError], None] | None = None) -> None:
        self.folder = folder
        self._warn_damaged = warn_damaged
        self._warn_unwritable = warn_unwritable

    @staticmethod
    def key(contents: str | None, settings: str) -> str | None:
        """The key of a project whose files are `contents`, judged with `settings`."""
        if contents is None:
            return None
        digest = hashlib.blake2b(digest_size=16)
        digest.update(code_fingerprint().encode() + b"\0" + settings.encode() + b"\0" + contents.encode())
        return contents.split(":", 1)[0] + ":" + digest.hexdigest()

    def recall(self, key: str | None):
        """The verdicts stored under `key`, decoded; None when there are none."""
        if key is None:
            return None
        for entry in self._entries():
            if key in entry["keys"]:
                try:
                    return codec.load_judgement(entry["judgement"])
                except codec.CodecError as error:
                    self._warn_damaged(self.folder / _JUDGEMENT_FILE, error)
                    return None
        return None

    def remember(self, keys: list[str | None], judgement) -> None:
        """Keep the verdicts under each key, beside the few most recent others (switching
        branches, or an edit undone, finds its verdicts again)."""
        keys = [k for k in keys if k]
        if not keys or judgement[1]:
            return  # internal errors are not verdicts worth keeping
        older, same = [], []
        for entry in self._entries():
            # Equal keys mean equal verdicts: an entry that shares one is the same verdict.
            (same if set(entry["keys"]) & set(keys) else older).append(entry)
        for entry in same:
            keys += [k for k in entry["keys"] if k not in keys]
        entries = [{"keys": keys[:KEYS_PER_JUDGEMENT], "judgement": codec.dump_judgement(judgement)},
                   *older][:JUDGEMENTS_KEPT]
        _write_atomically(self.folder, _JUDGEMENT_FILE, codec.seal({"schema": code_fingerprint(), "entries": entries}),
                          self._warn_unwritable)

    def _entries(self) -> list[dict]:
        """The stored verdicts, each still encoded (only the one a run uses is decoded)."""
        stored = _read_sealed(self.folder / _JUDGEMENT_FILE, self._warn_damaged)
        if not isinstance(stored, dict) or stored.get("schema") != code_fingerprint():
            return []
        entries = stored.get("entries")
        if not isinstance(entries, tuple):
            return []
        return [{"keys": list(e["keys"]), "judgement": e["judgement"]} for e in entries
                if isinstance(e, dict) and isinstance(e.get("keys"), tuple) and "judgement" in e
                and all(isinstance(k, str) for k in e["keys"])]


class _Cache:
    """All facts of a project in one file, replaced atomically after each run.

    Each entry is encoded on its own, so a run that re-parsed one file encodes
    one file's facts and writes the others' bytes as they were. Keys are content
    hashes (plus the path), so an entry is valid wherever it came from; two runs
    sharing the folder at worst each write a complete file.
    """

    def __init__(self, folder: Path, entries: dict[str, bytes], digests: dict[str, bytes] | None = None,
                 warn_unwritable: Callable[[Path, OSError], None] | None = None) -> None:
        self.folder = folder
        self.warn_unwritable = warn_unwritable
        self.entries = entries
        # Each entry's digest, kept so that a warm run's facts key hashes only new facts.
        self.digests = digests if digests is not None else {}
        self.dirty = False

    @classmethod
    def load(cls, folder: Path, warn_damaged: Callable[[Path, Exception], None],
             warn_unwritable: Callable[[Path, OSError], None] | None = None) -> "_Cache":
        path = folder / _CACHE_FILE
        try:
            data = _read_mapped(path)
        except OSError:
            return cls(folder, {}, {}, warn_unwritable)
        try:
            head, entries = codec.unseal_entries(data)
        except codec.CodecError as error:
            warn_damaged(path, error)
            return cls(folder, {}, {}, warn_unwritable)
        if head.get("schema") != code_fingerprint():
            return cls(folder, {}, {}, warn_unwritable)  # written by another version: rebuilt
        digests = head.get("digests")
        if not _maps_str_to_bytes(digests):
            warn_damaged(path, codec.CodecError("its digests are not digests"))
            return cls(folder, {}, {}, warn_unwritable)
        return cls(folder, entries, digests, warn_unwritable)

    def put(self, key: str, facts: ModuleFacts, blob: bytes | None = None) -> None:
        self.entries[key] = blob if blob is not None else codec.dump_facts(facts)
        self.digests[key] = _digest(self.entries[key])
        self.dirty = True

    def digest(self, key: str) -> bytes:
        known = self.digests.get(key)
        if known is None:
            known = self.digests[key] = _digest(self.entries[key])
        return known

    def save(self, keep: set[str]) -> None:
        stale = set(self.entries) - keep
        if not self.dirty and not stale:
            return
        for key in stale:
            del self.entries[key]
            self.digests.pop(key, None)
        _write_atomically(self.folder, _CACHE_FILE,
                          codec.sealed_entries_parts({"schema": code_fingerprint(), "digests": self.digests},
                                                     self.entries),
                          self.warn_unwritable)


# Encoded facts decoded between two returns of a mapped cache file's pages (Gathered.facts).
RELEASE_EVERY_BYTES = 8 << 20
# A cache file this large is mapped rather than read (below, a read costs less than a mapping).
MAP_AT_LEAST = 1 << 20


def _read_mapped(path: Path) -> bytes | mmap.mmap:
    """The file's bytes, as a read-only mapping when it is large: the pages of the entries
    already decoded can then be given back while the others are (codec.release_pages),
    where a buffer read whole stays whole until its last entry is decoded (at 10,000
    files, 184 MB beside the decoded facts). Review-lint replaces the file by renaming
    another over it, which leaves a mapping of the old one intact."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < MAP_AT_LEAST or not sys.platform.startswith("linux"):
            return file.read()
        try:
            return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # a file system that cannot map: read it
            return file.read()


def _read_back(cache: _Cache, keys: dict[str, str], results: dict, blobs: dict[str, bytes]) -> None:
    """After a large parse, take the facts it encoded from the cache file just written, a
    mapping whose pages decoding gives back as it goes (Gathered.facts), and let the
    copies in this process's heap go: otherwise all of them stay until the last is
    decoded (cold `--jobs 2` on the whole scale tree: 135 MB of facts, and a decoding
    peak 230 MB above the decoded facts). An entry the file does not hold as written
    here (another run replaced the file) keeps its copy."""
    written = _Cache.load(cache.folder, lambda path, error: None)
    for relative, blob in blobs.items():
        key = keys[relative]
        view = written.entries.get(key)
        if view is None or written.digests.get(key) != cache.digest(key):
            continue
        if results[relative] is blob:  # still encoded: decoded from the file
            results[relative] = view
        blobs[relative] = view


def _give_back_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc's `malloc_trim`), once the
    parse trees and the encoded facts are garbage and before judging allocates: the
    heap keeps them otherwise, between the blocks still in use (cold `--jobs 1` on the
    quarter scale tree: 574 -> 537 MB peak, for about 10 ms)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # a C library without it (musl): the pages stay
        pass


# Source bytes parsed between two returns of free memory while parsing (_trimmed_after).
TRIM_EVERY_BYTES = 2_000_000


def _trimmed_after(parsed: int, data: bytes | None) -> int:
    """Count a parsed file's bytes; past TRIM_EVERY_BYTES, give the C heap's free pages back.
    LibCST's native parser allocates each file's tokens and tree with malloc and frees them
    in between the facts kept, so the heap keeps growing with pages that are mostly free."""
    parsed += len(data) if data else 0
    if parsed < TRIM_EVERY_BYTES:
        return parsed
    _give_back_free_memory()
    return 0


_BLOB = (bytes, memoryview)  # a file's encoded facts: parsed in this run, or a view of the cache file


def _digest(blob: bytes) -> bytes:
    return hashlib.blake2b(blob).digest()


def _maps_str_to_bytes(value) -> bool:
    return isinstance(value, dict) and all(type(k) is str and type(v) is bytes for k, v in value.items())


def _read_sealed(path: Path, warn_damaged: Callable[[Path, Exception], None]):
    """A cache file's payload: None when there is none or it does not decode (then
    with a warning: it is rebuilt). Never anything but strings, numbers, bytes,
    tuples and dicts."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        return codec.unseal(data)
    except codec.CodecError as error:
        warn_damaged(path, error)
        return None


def _write_atomically(folder: Path, name: str, content: bytes | list[bytes | memoryview],
                      warn_unwritable: Callable[[Path, OSError], None] | None = None) -> None:
    """Replace the file whole (a reader, a concurrent run or a run killed half-way
    never leaves it half-written). A folder that cannot be written (read-only, full)
    only costs time on the next run: one warning, and the run goes on."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            write_atomically(ignore, b"# Created by review-lint: the whole folder is a cache.\n*\n")
        write_atomically(folder / name, content)
    except OSError as error:
        if warn_unwritable is not None:
            warn_unwritable(folder, error)
        return
    _remove_stale_temporaries(folder)


STALE_TEMPORARY_SECONDS = 3600  # a write under way (another run's) takes far less


def _remove_stale_temporaries(folder: Path) -> None:
    """A run killed while writing leaves its temporary file (never read: only a
    rename makes a cache file). Remove those an hour old, not a concurrent run's."""
    now = time.time()
    for path in folder.glob(".*.review-lint-tmp"):
        try:
            if now - path.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                path.unlink()
        except OSError:
            pass


_FINGERPRINTS: dict[tuple[Path, ...], str] = {}


def code_fingerprint() -> str:
    """A hash of review-lint's own code and rule definitions (and any team rules):
    facts and verdicts made by other code are never reused. Kept per set of rule
    folders: REVIEW_LINT_RULES_PATH may change within one process (an embedder, tests)."""
    from .registry import rule_dirs

    folders = tuple(rule_dirs())
    found = _FINGERPRINTS.get(folders)
    if found is None:
        digest = hashlib.blake2b(__version__.encode(), digest_size=16)
        package = Path(__file__).resolve().parent
        sources = sorted(package.rglob("*.py"))
        for folder in folders:
            sources += sorted(folder.glob("*.yaml")) + sorted(folder.glob("groups/*.yaml")) + sorted(folder.glob("*.py"))
        for path in sources:
            try:
                digest.update(path.name.encode() + path.read_bytes())
            except OSError:
                pass
        found = _FINGERPRINTS[folders] = digest.hexdigest()
    return found


def clean(folder: Path) -> bool:
    """Remove a cache folder made by review-lint; False when there was none."""
    if not (folder / ".gitignore").is_file() and not (folder / _CACHE_FILE).is_file():
        return False
    for path in folder.iterdir():
        if path.is_file():
            path.unlink()
    folder.rmdir()
    return True
