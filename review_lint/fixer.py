"""Autofix: `review-lint check --fix` / `--diff`, for any rule that offers fixes.

A diagnostic is fixable when its `fix` is a dict. The rule module that owns it
offers a module-level function

    fix(module: libcst.Module, diagnostics: list[Diagnostic]) -> libcst.Module
                                                         | tuple[libcst.Module, list[str]]

returning the rewritten module (and, optionally, one line per diagnostic it left
alone, e.g. "line 12: the assert shares its line with other statements").

For each file: re-read and re-parse it, let every owning rule transform it in
turn, refuse the result unless it re-parses (LibCST and CPython) and a second
application changes nothing, and when writing, write through a temporary file in
the same folder and `os.replace`, keeping the file's mode, encoding, BOM and line
endings; a file that changed since it was read is never written.
"""

from __future__ import annotations

import difflib
import io
import os
import stat
import sys
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import libcst as cst

from . import registry
from .files import write_atomically
from .source import decode, refusal

if TYPE_CHECKING:
    from .diagnostics import Diagnostic
    from .engine import RunResult

Transform = Callable[..., object]


@dataclass
class FixReport:
    changed: list[str] = field(default_factory=list)  # root-relative paths
    diff: str = ""
    failures: list[str] = field(default_factory=list)  # "path: why the fix was refused"
    fixed: dict[str, bytes] = field(default_factory=dict)  # root-relative path -> its fixed content


class _Refused(Exception):
    pass


def _transformer(specs: dict, code: str) -> Transform | None:
    spec = specs.get(code)
    if spec is None:
        return None
    try:
        rule_class = registry.load_rule_class(spec)
    except Exception:  # noqa: BLE001 - a rule that cannot load offers no fix
        return None
    module = sys.modules.get(rule_class.__module__)
    fix = getattr(module, "fix", None)
    return fix if callable(fix) else None


def _encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _apply(transforms, module: cst.Module, by_rule: dict[str, list["Diagnostic"]]) -> tuple[cst.Module, list[str]]:
    notes: list[str] = []
    for code, transform in transforms:
        outcome = transform(module, by_rule[code])
        if isinstance(outcome, tuple):
            outcome, refused = outcome
            notes.extend(f"{code} {line}" for line in refused)
        if not isinstance(outcome, cst.Module):
            raise _Refused(f"{code}: the fix did not return a module")
        module = outcome
    return module, notes


def _fix_file(result: "RunResult", path: str, diagnostics: list["Diagnostic"],
              transforms_for: Callable[[str], Transform | None]) -> tuple[bytes, str, str, list[str]]:
    """(original bytes, original text, new text, notes); raises _Refused."""
    try:
        data = result.read_bytes(path)
    except OSError as error:
        raise _Refused(f"cannot read the file: {error.strerror or error}") from None
    return (data, *_fix_data(data, path, diagnostics, transforms_for))


def _fix_data(data: bytes, path: str, diagnostics: list["Diagnostic"],
              transforms_for: Callable[[str], Transform | None]) -> tuple[str, str, list[str]]:
    """(original text, new text, notes) of one file's content; raises _Refused."""
    try:
        source = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        raise _Refused(f"cannot decode the file: {error}") from None
    refused = refusal(source)  # the file may have changed since the check: never hand LibCST a crash
    if refused is not None:
        raise _Refused(f"the file no longer parses: {refused[0]}")
    try:
        module = cst.parse_module(source)
    except Exception as error:  # noqa: BLE001 - ParserSyntaxError, RecursionError
        raise _Refused(f"the file no longer parses: {' '.join(str(error).split())[:200]}") from None
    by_rule: dict[str, list] = defaultdict(list)
    for diagnostic in diagnostics:
        by_rule[diagnostic.rule].append(diagnostic)
    transforms = []
    for code in sorted(by_rule):
        transform = transforms_for(code)
        if transform is not None:
            transforms.append((code, transform))
    if not transforms:
        return source, source, []
    try:
        fixed, notes = _apply(transforms, module, by_rule)
        new_source = fixed.code
    except _Refused:
        raise
    except Exception as error:  # noqa: BLE001 - a failing fix refuses this file only
        raise _Refused(f"the fix failed: {type(error).__name__}: {' '.join(str(error).split())[:200]}") from None
    if new_source == source:
        return source, source, notes
    try:
        reparsed = cst.parse_module(new_source)
        compile(new_source, path, "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
    except Exception as error:  # noqa: BLE001
        raise _Refused(f"the fixed file does not parse ({' '.join(str(error).split())[:160]}); left untouched") from None
    try:
        again, _ = _apply(transforms, reparsed, by_rule)
        stable = again.code == new_source
    except Exception:  # noqa: BLE001
        stable = False
    if not stable:
        raise _Refused("a second application of the fix changes the file again; left untouched")
    return source, new_source, notes


def _diff_path(root, path: str, cwd: Path | None) -> str:
    if cwd is None:
        return path
    shown = Path(os.path.relpath(Path(root) / path, cwd)).as_posix()
    return path if shown.startswith("../") else shown  # outside cwd: the project's own name


def _diff(path: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        _lines(old), _lines(new), fromfile=f"a/{path}", tofile=f"b/{path}"
    )
    return "".join(lines)


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return [line if line.endswith("\n") else line + "\n" for line in lines]


def _write(target: Path, original: bytes, content: bytes) -> None:
    """Atomically replace `target` with `content`, unless it changed since it was read."""
    info = target.stat()

    def unchanged() -> None:
        if target.read_bytes() != original:
            raise _Refused("the file changed since it was read; left untouched")

    unchanged()
    write_atomically(target, content, mode=stat.S_IMODE(info.st_mode), durable=True, before_replace=unchanged)


def _transforms(specs: dict) -> Callable[[str], Transform | None]:
    """Each rule's `fix`, looked up once."""
    cache: dict[str, Transform | None] = {}

    def transforms_for(code: str) -> Transform | None:
        if code not in cache:
            cache[code] = _transformer(specs, code)
        return cache[code]

    return transforms_for


def fix_text(specs: dict, path: str, data: bytes, diagnostics: list["Diagnostic"]) -> tuple[str, str]:
    """(text, fixed text) of one file's content (an editor's unsaved buffer) under the
    same rewrite and checks as `--fix`; ValueError says why a fix was refused."""
    try:
        old, new, _ = _fix_data(data, path, [d for d in diagnostics if d.fixable], _transforms(specs))
    except _Refused as refused:
        raise ValueError(str(refused)) from None
    return old, new


def apply_fixes(result: "RunResult", write: bool, cwd: Path | None = None) -> FixReport:
    """Apply every fixable diagnostic of `result`; write the files when `write`.

    The diff names files relative to `cwd` (as the text report does), so that
    `git apply` or `patch -p1` takes it from the folder the command ran in."""
    report = FixReport()
    by_path: dict[str, list] = defaultdict(list)
    for diagnostic in result.diagnostics:
        if diagnostic.fixable:
            by_path[diagnostic.path].append(diagnostic)
    transforms_for = _transforms(result.specs)
    diffs = []
    for path in sorted(by_path):
        try:
            original, old, new, notes = _fix_file(result, path, by_path[path], transforms_for)
        except _Refused as refused:
            report.failures.append(f"{path}: {refused}")
            continue
        report.failures.extend(f"{path}: {note}" for note in notes)
        if new == old:
            continue
        try:
            content = new.encode(_encoding(original))
        except (UnicodeEncodeError, LookupError) as error:
            report.failures.append(f"{path}: the fixed text cannot be encoded like the original: {error}")
            continue
        if write:
            try:
                _write(Path(result.root) / path, original, content)
            except _Refused as refused:
                report.failures.append(f"{path}: {refused}")
                continue
            except OSError as error:
                report.failures.append(f"{path}: cannot write: {error.strerror or error}")
                continue
        report.changed.append(path)
        report.fixed[path] = content
        diffs.append(_diff(_diff_path(result.root, path, cwd), old, new))
    report.diff = "".join(diffs)
    return report
