"""The `review-lint` command."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import click

from . import __version__, registry
from .config import DOC_SECTIONS, ConfigError, rule_code
from .engine import Engine, Options, UsageError
from .report import REPORTERS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split_codes(value: tuple[str, ...]) -> list[str]:
    return [c.strip() for item in value for c in item.split(",") if c.strip()]


def _colour(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="review-lint")
def cli() -> None:
    """Catch the review mistakes that need to know what a request handler,
    a protocol model and a database session are."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config", type=click.Path(), help="Configuration file (default: .review-lint.yaml at the project root).")
@click.option("--select", multiple=True, help="Only these rules (comma-separated codes or names).")
@click.option("--ignore", multiple=True, help="Skip these rules (comma-separated codes or names).")
@click.option("--format", "output_format", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="Write the report to this file instead of stdout.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option("--statistics", is_flag=True, help="Count findings per rule.")
@click.option("--verbose", "-v", is_flag=True, help="Tracebacks for internal errors.")
def check(paths, config, select, ignore, output_format, output, exit_zero, quiet, statistics, verbose) -> None:
    """Check PATHS (default: the current folder)."""
    options = Options(
        paths=list(paths) or ["."],
        config=config,
        select=_split_codes(select),
        ignore=_split_codes(ignore),
        verbose=verbose,
    )
    engine = Engine(options)
    result = engine.run()
    stream = sys.stdout
    report = REPORTERS[output_format](result, engine.cwd, output is None and _colour(stream), statistics, quiet)
    if output:
        _write_atomically(Path(output), report)
    else:
        stream.write(report)
    if result.internal_errors:
        raise SystemExit(EXIT_ERROR)
    raise SystemExit(EXIT_FINDINGS if result.diagnostics and not exit_zero else EXIT_CLEAN)


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
    if spec.options:
        click.echo("## Options\n")
        for option in spec.options.values():
            click.echo(f"- {option.name} ({option.type}, default {option.default!r}): {option.description}")


def _write_atomically(path: Path, content: str) -> None:
    temporary = path.with_name(f".{path.name}.review-lint-tmp")
    try:
        temporary.write_text(content, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
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


if __name__ == "__main__":
    main()
