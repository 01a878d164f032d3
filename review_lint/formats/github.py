"""GitHub Actions workflow commands: one annotation per finding.

    ::error file=pkg/app.py,line=3,endLine=3,col=5,endColumn=15,title=RL001 assert-in-handler::message

GitHub shows at most 10 error and 10 warning annotations per step, so when
GITHUB_STEP_SUMMARY is set every finding is also appended to the job summary as
a Markdown table: nothing is silently dropped.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..diagnostics import Diagnostic
from ..engine import RunResult
from . import repo_path

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
SUMMARY_BYTES = 900_000  # GitHub rejects a step summary over 1 MiB; leave room for other steps


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF are encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _message(result: RunResult, d: Diagnostic) -> str:
    lines = [d.message]
    for related in d.related:
        lines.append(f"{repo_path(result, related.path)}:{related.span[0]}: {related.message}")
    return "\n".join(lines)


def annotation(result: RunResult, d: Diagnostic) -> str:
    properties = [("file", repo_path(result, d.path)), ("line", str(max(d.line, 1)))]
    end_line = max(d.end_line, d.line, 1)
    properties.append(("endLine", str(end_line)))
    if end_line == max(d.line, 1) and d.column >= 1:
        # GitHub's columns are inclusive; ours end one past the last character.
        properties.append(("col", str(d.column)))
        properties.append(("endColumn", str(max(d.end_column - 1, d.column))))
    properties.append(("title", f"{d.rule} {d.name}"))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{LEVELS.get(d.severity, 'warning')} {rendered}::{escape_data(_message(result, d))}"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>").replace(
        "\r", "<br>")


def summary(result: RunResult) -> str:
    findings = len(result.diagnostics)
    files = "file" if result.files == 1 else "files"
    lines = ["## review-lint", ""]
    if not findings:
        lines.append(f"No findings in {result.files} {files} checked.")
        return "\n".join(lines) + "\n\n"
    noun = "finding" if findings == 1 else "findings"
    lines += [f"{findings} {noun} in {result.files} {files} checked.", "",
              "| Rule | Severity | Location | Message |", "| --- | --- | --- | --- |"]
    size = sum(len(line.encode("utf-8")) + 1 for line in lines)
    for number, d in enumerate(result.diagnostics):
        where = f"`{repo_path(result, d.path)}:{d.line}`".replace("|", "\\|")
        row = f"| {d.rule} {d.name} | {d.severity} | {where} | {_cell(_message(result, d))} |"
        size += len(row.encode("utf-8")) + 1
        if size > SUMMARY_BYTES:
            left = findings - number
            lines += ["", f"{left} more finding{'' if left == 1 else 's'} not listed: GitHub refuses a step summary "
                          "over 1 MiB. Run `review-lint check --format json` for all of them."]
            break
        lines.append(row)
    return "\n".join(lines) + "\n\n"


def report(result: RunResult, cwd: Path, colour: bool, statistics: bool, quiet: bool) -> str:
    lines = [annotation(result, d) for d in result.diagnostics]
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as stream:
                stream.write(summary(result))
        except OSError as error:
            print(f"review-lint: warning: cannot write the step summary {step_summary}: "
                  f"{error.strerror or error}", file=sys.stderr)
    if not quiet:
        findings = len(result.diagnostics)
        lines.append(f"review-lint: {findings} finding{'' if findings == 1 else 's'} in {result.files} "
                     f"file{'' if result.files == 1 else 's'} checked.")
    return "\n".join(lines) + ("\n" if lines else "")
