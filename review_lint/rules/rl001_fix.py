"""RL001's fix: each reported assert becomes `if not <test>: raise <exception>(...)`.

Kept apart from the rule so that judging never imports LibCST; the fixer loads it
through the rule module's `fix`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..positions import positions
from .rl001_assert_in_handler import FIX_KIND

_SWAP = {cst.Is: cst.IsNot, cst.IsNot: cst.Is, cst.In: cst.NotIn, cst.NotIn: cst.In}
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)


def _normal(text: str) -> str:
    return " ".join(text.split())


def _same_test(recorded: str, code: str) -> bool:
    code = _normal(code)
    if recorded.endswith("…"):  # facts keep at most 240 characters
        return code.startswith(recorded[:-1])
    return code == recorded


class _NoComments(cst.CSTTransformer):
    def leave_Comment(self, original: cst.Comment, updated: cst.Comment):
        return cst.RemoveFromParent()


def _bare_code(module: cst.Module, test: cst.BaseExpression, comments: bool = True) -> str:
    """The condition's source without its own parentheses (as facts record it)."""
    test = test.with_changes(lpar=[], rpar=[])
    if not comments:
        test = test.visit(_NoComments())
    return _normal(module.code_for_node(test))


def _negate(test: cst.BaseExpression) -> cst.BaseExpression:
    """The condition under which the assert fails, never changing what is evaluated."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and not test.lpar:
        return test.expression
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and not test.lpar:
        target = test.comparisons[0]
        swapped = _SWAP.get(type(target.operator))
        if swapped is not None:
            old = target.operator
            operator = swapped(whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after)
            return test.with_changes(comparisons=[target.with_changes(operator=operator)])
    if isinstance(test, _ATOMS) or test.lpar:
        return cst.UnaryOperation(operator=cst.Not(), expression=test)
    return cst.UnaryOperation(
        operator=cst.Not(), expression=test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    )


def _string(text: str) -> cst.SimpleString:
    if '"' not in text and "\\" not in text:
        return cst.SimpleString(f'"{text}"')
    return cst.SimpleString(repr(text))


def _exception_name(module: cst.Module, dotted: str) -> tuple[str, cst.SimpleStatementLine | None]:
    """The name to raise, and an import to add when the module lacks one."""
    if "." not in dotted:
        return dotted, None
    package, _, name = dotted.rpartition(".")
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                if module.code_for_node(small.module) != package or isinstance(small.names, cst.ImportStar):
                    continue
                for alias in small.names:
                    if isinstance(alias.name, cst.Name) and alias.name.value == name:
                        return (alias.asname.name.value if alias.asname else name), None
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if module.code_for_node(alias.name) == package:
                        local = module.code_for_node(alias.asname.name) if alias.asname else package
                        return f"{local}.{name}", None
    return name, cst.parse_statement(f"from {package} import {name}\n")


def _insert_import(module: cst.Module, statement: cst.SimpleStatementLine) -> cst.Module:
    body = list(module.body)
    index = 0
    for position, node in enumerate(body):
        if isinstance(node, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in node.body):
            index = position + 1
        elif position == 0 and isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1 \
                and isinstance(node.body[0], cst.Expr) and isinstance(node.body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
            index = 1  # after the docstring
        else:
            break
    body.insert(index, statement)
    return module.with_changes(body=body)


class _Asserts(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Assert] = []

    def visit_Assert(self, node: cst.Assert) -> None:
        self.found.append(node)


class _Rewrite(cst.CSTTransformer):
    def __init__(self, module: cst.Module, targets: dict[int, dict[str, Any]], exception: str) -> None:
        self.module = module
        self.targets = targets  # id(Assert) -> fix description
        self.exception = exception

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        if not any(id(small) in self.targets for small in original.body):
            return updated
        statements = self._split(original, updated, updated.trailing_whitespace)
        statements[0] = statements[0].with_changes(leading_lines=updated.leading_lines)
        return statements[0] if len(statements) == 1 else cst.FlattenSentinel(statements)

    def leave_SimpleStatementSuite(self, original: cst.SimpleStatementSuite, updated: cst.SimpleStatementSuite):
        # `if ready: assert x` -> the block gets lines of its own.
        if not any(id(small) in self.targets for small in original.body):
            return updated
        return cst.IndentedBlock(body=self._split(original, updated, updated.trailing_whitespace))

    def _split(self, original, updated, trailing: cst.TrailingWhitespace) -> list[cst.BaseStatement]:
        """The line's small statements, each reported assert as an `if` of its own and
        the others kept together in order; the line's comment stays on its last line."""
        pieces: list[tuple[cst.Assert, dict[str, Any]] | list[cst.BaseSmallStatement]] = []
        for old, new in zip(original.body, updated.body):
            if id(old) in self.targets:
                pieces.append((new, self.targets[id(old)]))
            elif pieces and isinstance(pieces[-1], list):
                pieces[-1].append(new)
            else:
                pieces.append([new])
        statements: list[cst.BaseStatement] = []
        for index, piece in enumerate(pieces):
            end = trailing if index == len(pieces) - 1 else cst.TrailingWhitespace()
            if isinstance(piece, list):
                piece[-1] = piece[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                statements.append(cst.SimpleStatementLine(body=piece, trailing_whitespace=end))
            else:
                statements.append(self._raise_unless(*piece, header=end))
        return statements

    def _raise_unless(self, node: cst.Assert, description: dict[str, Any], header: cst.TrailingWhitespace) -> cst.If:
        if node.msg is not None:
            message = node.msg
        else:
            message = _string("check failed: " + _bare_code(self.module, node.test, comments=False))
        arguments = []
        extra = description.get("extra-arguments") or ""
        if extra.strip():
            arguments.extend(cst.parse_expression(f"f({extra})").args)
        keyword = description.get("message-keyword")
        if keyword:
            arguments.append(cst.Arg(value=message, keyword=cst.Name(keyword),
                                     equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        else:
            arguments.append(cst.Arg(value=message))
        arguments = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in arguments]
        raised = cst.Raise(exc=cst.Call(func=cst.parse_expression(self.exception), args=arguments))
        return cst.If(
            test=_negate(node.test),
            body=cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[raised])], header=header),
        )


def fix(module: cst.Module, diagnostics) -> tuple[cst.Module, list[str]]:
    """Rewrite each diagnosed assert into `if <failed>: raise <Exception>(<message>)`.

    Returns the new module and one line per diagnostic left alone.
    """
    wanted = {}
    for diagnostic in diagnostics:
        description = diagnostic.fix or {}
        if description.get("kind") == FIX_KIND:
            wanted[(diagnostic.line, diagnostic.column)] = description
    if not wanted:
        return module, []
    finder = _Asserts()
    module.visit(finder)
    spans = positions(module, finder.found)
    targets: dict[int, dict[str, Any]] = {}
    refused: list[str] = []
    found = set()
    exception = None
    for node in finder.found:
        span = spans.get(id(node))
        if span is None or (span[0], span[1]) not in wanted:
            continue
        description = wanted[(span[0], span[1])]
        if not _same_test(description.get("test", ""), _bare_code(module, node.test)):
            continue
        found.add((span[0], span[1]))
        targets[id(node)] = description
        exception = exception or description.get("exception") or "RuntimeError"
    for position in sorted(set(wanted) - found):
        refused.append(f"line {position[0]}: the assert is no longer there (the file changed since it was checked)")
    if not targets:
        return module, refused
    name, new_import = _exception_name(module, exception)
    fixed = module.visit(_Rewrite(module, targets, name))
    if new_import is not None:
        fixed = _insert_import(fixed, new_import)
    return fixed, refused

