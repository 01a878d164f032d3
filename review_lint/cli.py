"""The `review-lint` command."""

from __future__ import annotations

if __name__ == "__main__":  # `python -m review_lint.cli`: Ctrl-C during the imports below is one line
    from review_lint import _starting

    _starting.guard()

import gc
import os
import sys
import textwrap
import time
from pathlib import Path

import click

from . import __version__, registry
from .config import DOC_SECTIONS, ConfigError, rule_code
from .engine import Engine, Options, UsageError
from .collect import CACHE_DIR_NAME, Collector, clean
from .files import write_atomically
from .report import REPORTERS
from .baseline import DEFAULT_BASELINE, load_baseline, narrow
from .changed_lines import changes_since

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_CONFIG_HELP = ("Configuration file: YAML, or the [tool.review-lint] table of a .toml file (default: .review-lint.yaml, "
                "else pyproject.toml's table, at the project root).")


def _split_codes(value: tuple[str, ...]) -> list[str]:
    return [c.strip() for item in value for c in item.split(",") if c.strip()]


def _colour(stream) -> bool:
    """Colour on a terminal; NO_COLOR (no-color.org) always wins, FORCE_COLOR asks
    for it in a pipe (CI logs that render ANSI)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="review-lint")
def cli() -> None:
    """Catch the review mistakes that need to know what a request handler,
    a protocol model and a database session are."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config", type=click.Path(), help=_CONFIG_HELP)
@click.option("--select", multiple=True, help="Only these rules (comma-separated codes or names).")
@click.option("--ignore", multiple=True, help="Skip these rules (comma-separated codes or names).")
@click.option("--format", "output_format", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report to this file instead of stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--diff-base", metavar="REF", help="Report only findings on lines changed since `git merge-base REF HEAD`.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), help="Hide the findings recorded in this baseline file (see `review-lint baseline`).")
@click.option("--verbose", "-v", is_flag=True, help="Tracebacks for internal errors; which configuration is read; whether LibCST's speed patches are active.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes for parsing (default: CPU count).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the facts cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help=f"Cache folder (default: {CACHE_DIR_NAME} at the project root).")
@click.option("--fix", is_flag=True, help="Apply the safe autofixes of the reported findings, then report what remains.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the autofixes as a unified diff; change nothing.")
@click.option("--daemon", "use_daemon", is_flag=True, envvar="REVIEW_LINT_DAEMON",
              help="Judge in the project's background process, which keeps every fact and the last judgement in "
              "memory (started on first use, like mypy's dmypy; it stops after 30 idle minutes or with `review-lint "
              "daemon stop`): a run after a small edit judges again only what the edit can change.")
@click.option("--stdin-filename", metavar="PATH", help="Judge the text on stdin (the path `-`) as this file of its "
              "project; with --fix, print the fixed text (the report goes to stderr).")
def check(paths, config, select, ignore, output_format, output, exit_zero, quiet, statistics, verbose, jobs, no_cache,
          cache_dir, diff_base=None, baseline_file=None, fix=False, show_diff=False, use_daemon=False,
          stdin_filename=None) -> None:
    """Check PATHS (default: the current folder; `-` with --stdin-filename: stdin)."""
    stdin = _read_stdin(paths, stdin_filename)
    options = Options(
        paths=[stdin_filename] if stdin is not None else list(paths) or ["."],
        config=config,
        select=_split_codes(select),
        ignore=_split_codes(ignore),
        verbose=verbose,
        stdin=stdin,
    )
    # Facts and parse trees are acyclic and the process is short-lived: the cyclic
    # garbage collector only costs time here (1.6x on the parse, 3x on cache loads).
    gc.disable()
    engine = Engine(options)
    if verbose:
        for note in engine.notes:
            click.echo(f"review-lint: {note}", err=True)
    changes = changes_since(engine.root, diff_base) if diff_base is not None else None
    if baseline_file is not None:
        load_baseline(engine, baseline_file)  # a bad baseline fails before the analysis, not after
    collector = Collector(
        jobs=jobs or os.cpu_count() or 1,
        cache_dir=None if no_cache else _cache_folder(engine, cache_dir),
        patch_libcst=True,  # this process is review-lint's own
        contents=engine.contents,
    )
    use_daemon = use_daemon and stdin is None  # stdin's text is this run's own
    if not use_daemon:
        collector.prewarm()
    with _Progress(enabled=not quiet) as progress:
        collector.progress = progress.advance
        try:
            result = _judge(engine, collector, use_daemon)
        finally:
            collector.close()
    if verbose:
        from . import libcst_patches  # imports no LibCST: a warm run parses nothing

        click.echo(f"review-lint: {libcst_patches.status(parsed_elsewhere=collector.stats.parsed > 0)}", err=True)
    baseline_note = narrow(result, engine, changes, baseline_file)
    # With stdin, --fix prints the fixed text on stdout: the report goes to stderr.
    fixed_stdin = stdin is not None and fix and not show_diff
    stream = sys.stderr if fixed_stdin else sys.stdout
    if show_diff or fix:
        from . import libcst_patches
        from .fixer import apply_fixes

        with libcst_patches.applied():  # this process is review-lint's own: its rewrites parse faster
            fixed = apply_fixes(result, write=fix and not show_diff and stdin is None, cwd=engine.cwd)
        for failure in fixed.failures:
            click.echo(f"review-lint: fix not applied: {failure}", err=True)
        if show_diff:
            stream.write(fixed.diff)
            raise SystemExit(EXIT_FINDINGS if fixed.diff and not exit_zero else EXIT_CLEAN)
        if fixed.changed:
            fixed_count = len(result.diagnostics)
            engine.contents.update(fixed.fixed if stdin is not None else {})  # the collector's too
            result = _judge(engine, collector, use_daemon)  # what remains, judged afresh
            baseline_note = narrow(result, engine, changes, baseline_file)
            fixed_count -= len(result.diagnostics)
            if not quiet:
                files = "file" if len(fixed.changed) == 1 else "files"
                click.echo(f"Fixed {fixed_count} finding(s) in {len(fixed.changed)} {files}.", err=True)
    if result.files == 0:
        click.echo(f"review-lint: warning: no Python files to check in {' '.join(options.paths)}", err=True)
    for skipped in engine.skipped:
        click.echo(f"review-lint: warning: {skipped}: not checked: not a Python file (no .py suffix or python "
                   "shebang)", err=True)
    report = REPORTERS[output_format](result, engine.cwd, output is None and _colour(stream), statistics, quiet)
    if baseline_note and not quiet:
        if output_format == "text":
            report += baseline_note + "\n"
        else:
            click.echo(baseline_note, err=True)
    if output:
        _write_atomically(Path(output), report)
    else:
        stream.write(report)
    if fixed_stdin:
        sys.stdout.flush()
        sys.stdout.buffer.write(next(iter(engine.contents.values())))
    if result.internal_errors:
        raise SystemExit(EXIT_ERROR)
    raise SystemExit(EXIT_FINDINGS if result.diagnostics and not exit_zero else EXIT_CLEAN)


def _read_stdin(paths: tuple[str, ...], stdin_filename: str | None) -> bytes | None:
    """The text to judge from stdin, when the path is `-` (or absent, with --stdin-filename)."""
    if "-" not in paths and not (stdin_filename is not None and not paths):
        if stdin_filename is not None:
            raise UsageError("--stdin-filename names the text read from stdin: give `-` as the only path")
        return None
    if stdin_filename is None:
        raise UsageError("`-` reads the file from stdin: name it with --stdin-filename PATH")
    if len(paths) > 1:
        raise UsageError("`-` (stdin) cannot be combined with other paths")
    return sys.stdin.buffer.read()


def _judge(engine: Engine, collector: Collector, use_daemon: bool = False):
    result = _judge_in_daemon(engine, collector) if use_daemon else None
    if result is None:
        result = engine.run(source=collector)
    result.contents = engine.contents  # fixes and fingerprints read the text from stdin, not the disk
    if _EXIT_WITHOUT_TEARDOWN:
        _RETAINED.append(result)  # its project holds every fact: freeing them all costs 0.05 s on Django
    return result


def _judge_in_daemon(engine: Engine, collector: Collector):
    """The run's result from the project's daemon (daemon.py), or None (after one warning
    line) when there is none to be had: the run then judges in this process."""
    try:
        from . import daemon
    except ImportError as missing:  # no Unix sockets or fcntl (Windows)
        click.echo(f"review-lint: warning: no daemon on this system ({missing}); judging in this process", err=True)
        return None
    everything, reported = engine.files()
    try:
        judged = daemon.judge(engine, everything, collector.cache_dir)
    except daemon.DaemonUnavailable as why:
        click.echo(f"review-lint: warning: {why}; judging in this process", err=True)
        return None
    # Baselines and fixes may ask for the project itself: built here, from the facts cache.
    return engine.result(judged, reported, lambda: engine.build_project(collector.gather(engine.root, everything).facts()))


def _cache_folder(engine: Engine, cache_dir: str | None) -> Path:
    if cache_dir:
        path = Path(cache_dir)
        return path if path.is_absolute() else engine.cwd / path
    return engine.root / CACHE_DIR_NAME


class _Progress:
    """A progress bar on stderr for runs longer than a second, only on a terminal
    and never in CI: pipes and logs get no control characters."""

    DELAY = 1.0

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty() and not os.environ.get("CI")
        self.started = time.monotonic()
        self.done = 0
        self.total: int | None = None
        self.bar = None

    def advance(self, files: int, total: int) -> None:
        self.done += files
        self.total = total
        if not self.enabled:
            return
        if self.bar is None and time.monotonic() - self.started >= self.DELAY:
            self.bar = click.progressbar(length=self.total or 0, label="Analysing", file=sys.stderr,
                                         show_pos=True, show_percent=False)
            self.bar.__enter__()
            self.bar.update(self.done)
        elif self.bar is not None:
            self.bar.update(files)

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


@cli.command(name="server")
def language_server() -> None:
    """Run the language server on stdin/stdout (for an editor's LSP client; see docs/editors.md)."""
    from .server import serve

    serve()


@cli.group(name="daemon")
def daemon_group() -> None:
    """The background process `check --daemon` keeps per project."""


@daemon_group.command(name="status")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False))
def daemon_status(path: str) -> None:
    """Say whether a daemon serves the project at PATH."""
    from . import daemon
    from .collect import code_fingerprint

    engine = Engine(Options(paths=[path]))
    reply = daemon.request(engine.root, {"status": True, "fingerprint": code_fingerprint()})
    if reply is None:
        click.echo(f"No daemon for {engine.root}")
        raise SystemExit(EXIT_FINDINGS)
    version = "" if reply.get("current") else " (another version of review-lint: the next check replaces it)"
    click.echo(f"Daemon {reply.get('pid')} serves {reply.get('root')}, {reply.get('files')} files in memory{version}")


@daemon_group.command(name="stop")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False))
def daemon_stop(path: str) -> None:
    """Stop the daemon of the project at PATH."""
    from . import daemon

    engine = Engine(Options(paths=[path]))
    stopped = daemon.request(engine.root, {"stop": True}) is not None
    click.echo(f"Stopped the daemon of {engine.root}" if stopped else f"No daemon for {engine.root}")


@cli.command(name="clean")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False))
@click.option("--cache-dir", type=click.Path(file_okay=False), help="The cache folder to remove.")
def clean_cache(path: str, cache_dir: str | None) -> None:
    """Remove the facts cache."""
    engine = Engine(Options(paths=[path]))
    folder = _cache_folder(engine, cache_dir)
    click.echo(f"Removed {folder}" if clean(folder) else f"No cache at {folder}")


@cli.command(name="baseline")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=DEFAULT_BASELINE, show_default=True,
              help="The baseline file to write.")
@click.option("--config", "config", type=click.Path(), help=_CONFIG_HELP)
@click.option("--select", multiple=True, help="Only these rules (comma-separated codes or names).")
@click.option("--ignore", multiple=True, help="Skip these rules (comma-separated codes or names).")
def write_baseline(paths, output, config, select, ignore) -> None:
    """Record the current findings of PATHS, so that `check --baseline` reports only new ones."""
    from . import baseline as baselines

    engine = Engine(Options(paths=list(paths) or ["."], config=config, select=_split_codes(select),
                            ignore=_split_codes(ignore)))
    target = Path(output) if Path(output).is_absolute() else engine.cwd / output
    old = baselines.load(target, output) if target.exists() else []
    result = engine.run(source=Collector(jobs=os.cpu_count() or 1, cache_dir=_cache_folder(engine, None)))
    if result.internal_errors:
        raise UsageError(f"not writing {output}: {result.internal_errors} internal error(s); see `review-lint check`")
    _write_atomically(target, baselines.document(result))
    recorded = sum(1 for d in result.diagnostics if d.rule != "RL999")
    pruned = baselines.stale_after_rewrite(old, result)
    click.echo(f"Recorded {recorded} finding{'' if recorded == 1 else 's'} in {output}"
               + (f"; pruned {pruned} stale entr{'y' if pruned == 1 else 'ies'}." if pruned else "."))


@cli.command(name="rules")
def list_rules() -> None:
    """List every rule."""
    specs = registry.load_specs()
    rows = [("CODE", "NAME", "SEVERITY", "ENABLED", "SUMMARY")]
    for code, spec in specs.items():
        rows.append((code, spec.name, spec.severity, "yes" if spec.enabled else "no", spec.summary))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])


@cli.command(name="rule")
@click.argument("code_or_name")
def show_rule(code_or_name: str) -> None:
    """Print a rule's documentation."""
    specs = registry.load_specs()
    try:
        spec = specs[rule_code(code_or_name, specs)]
    except KeyError:
        raise UsageError(f"unknown rule {code_or_name!r} (see `review-lint rules`)") from None
    click.echo(f"{spec.code} {spec.name}\n")
    click.echo(f"{spec.summary}\n")
    click.echo(f"Default severity: {spec.severity}; enabled by default: {'yes' if spec.enabled else 'no'}\n")
    titles = {"what-it-does": "What it does", "why-it-matters": "Why it matters", "example": "Example",
              "use-instead": "Use instead"}
    for section in DOC_SECTIONS:
        if section in spec.docs:
            click.echo(f"## {titles[section]}\n")
            click.echo(textwrap.indent(spec.docs[section], "    ") if section in ("example", "use-instead")
                       else spec.docs[section])
            click.echo()
    own = [option for option in spec.options.values() if option.group is None]
    if own:
        click.echo("## Options\n")
        _echo_options(own)
    for group in spec.groups:
        sharing = [other.code for other in specs.values() if group in other.groups and other.code != spec.code]
        click.echo(f"\n## Options of the `{group}` group\n")
        click.echo(f"Shared with {', '.join(sharing) or 'no other rule'}: set them once under `{group}:` in the "
                   f"configuration (a setting under `rules: {spec.code}:` applies to {spec.code} alone).\n")
        _echo_options([option for option in spec.options.values() if option.group == group])


def _echo_options(options: list) -> None:
    for option in options:
        click.echo(f"- {option.name} ({option.type}, default {option.default!r}): {option.description}")


def _write_atomically(path: Path, content: str) -> None:
    try:
        write_atomically(path, content.encode("utf-8"))
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure the user can cause is one line on stderr and exit 2."""
    try:
        cli.main(args=argv, prog_name="review-lint", standalone_mode=False)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else EXIT_CLEAN
        sys.exit(code)
    except click.exceptions.Abort:
        click.echo("review-lint: aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as error:
        click.echo(f"review-lint: error: {error.format_message()}", err=True)
        sys.exit(EXIT_ERROR)
    except (UsageError, ConfigError) as error:
        click.echo(f"review-lint: error: {error}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("review-lint: interrupted", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_CLEAN)


# Set by `entry`: the process ends with os._exit, so the results are kept alive
# until then instead of being freed when `check` returns.
_EXIT_WITHOUT_TEARDOWN = False
_RETAINED: list = []


def entry() -> None:
    """The `review-lint` command: `main`, then exit without the interpreter's teardown.

    Teardown frees every fact of a large project one object at a time (0.1 s on
    Django, 2% of a cold run); so would `check` returning, which is why it keeps
    its result alive here. By then the report is written, the cache replaced
    atomically and every worker joined, so only the output needs flushing; mypy's
    command ends the same way. Embedders calling `main` keep its SystemExit, and
    nothing is retained for them.
    """
    global _EXIT_WITHOUT_TEARDOWN
    _EXIT_WITHOUT_TEARDOWN = True
    try:
        main()
        code = EXIT_CLEAN
    except SystemExit as done:
        code = done.code
    if not isinstance(code, int):
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # a closed pipe: Python reports it as it always has
    os._exit(code)


if __name__ == "__main__":
    _starting.release()
    entry()
