"""RL001 assert-in-handler: asserts that run while a request is served.

Handlers and the call graph come from review_lint.knowledge; this module decides
which asserts they reach, words the finding, and rewrites the assert (`fix`).
"""

from __future__ import annotations

from typing import Any, Iterable

import libcst as cst

from ..diagnostics import Finding, Related
from ..knowledge.callgraph import CallGraph, FunctionKey, call_graph, chains_to
from ..knowledge.handlers import Handler, HandlerConfig, find_handlers
from ..positions import positions
from ..project import Project
from ..rule import Rule

FIX_KIND = "assert-to-raise"
MAX_RELATED_HANDLERS = 5


class AssertInHandler(Rule):
    code = "RL001"
    name = "assert-in-handler"

    def check(self, project: Project) -> Iterable[Finding]:
        # Shared with every rule that asks (RL002 asks which functions are handlers).
        graph = call_graph(project)
        runners = frozenset(self.options.get("runner-functions") or ())
        handlers = find_handlers(project, HandlerConfig.from_options(self.options))
        if not handlers:
            return
        depth = self.options.get("depth")
        reached = graph.reach(sorted(handlers), depth, runners)
        callers = graph.callers_within(reached, runners)
        by_module: dict[str, list] = {}
        for key in sorted(reached):
            located = graph.function(key)
            if located is not None and not project.is_test(located[0].path):
                by_module.setdefault(located[0].path, []).append((key, located[1]))
        modules = [project.by_path[path] for path in sorted(by_module)]

        def judge(module):
            for key, function in by_module[module.path]:
                yield from self._function(module, key, function, graph, handlers, callers, depth)

        yield from self.per_module(modules, judge)

    def _function(self, module, key, function, graph, handlers, callers, depth) -> Iterable[Finding]:
        if function.in_type_checking:
            return
        asserts = [a for a in function.asserts if not a.in_type_checking]
        if not asserts:
            return
        chains = list(chains_to(key, set(handlers), callers, depth))
        if not chains:
            return
        message = _message(chains)
        related = _related(graph, chains, handlers)
        for fact in asserts:
            yield Finding(module.path, fact.span, message, list(related), self._fix(fact.test, fact.span))

    def _fix(self, test: str, span) -> dict[str, Any]:
        exception = self.options.get("fix-exception") or "RuntimeError"
        return {
            "kind": FIX_KIND,
            "description": f"replace the assert with an explicit check raising `{exception}`",
            "line": span[0],
            "column": span[1],
            "test": test,
            "exception": exception,
            "message-keyword": self.options.get("fix-message-keyword"),
            "extra-arguments": self.options.get("fix-extra-arguments") or "",
        }


def _name(key: FunctionKey) -> str:
    return key[1]


def _message(chains: list[list[tuple[FunctionKey, Any]]]) -> str:
    chain = chains[0]
    handler = _name(chain[0][0])
    others = len(chains) - 1
    also = f"; also reached from {others} other handler{'s' if others > 1 else ''}" if others else ""
    if len(chain) == 1:
        where = f"in request handler `{handler}`" + (f" ({also[2:]})" if also else "")
    else:
        via = " -> ".join(f"`{_name(key)}`" for key, _ in chain[1:])
        where = f"on the request path of `{handler}` (via {via}{also})"
    return f"assert {where} is removed under `python -O`; raise an explicit error"


def _related(graph: CallGraph, chains, handlers: dict[FunctionKey, Handler]) -> list[Related]:
    related = []
    for chain in chains[:MAX_RELATED_HANDLERS]:
        handler = handlers[chain[0][0]]
        related.append(Related(handler.path, handler.span, f"request handler `{handler.name}`: {handler.how}"))
    chain = chains[0]
    for (caller, _), (callee, span) in zip(chain, chain[1:]):
        located = graph.function(caller)
        if located is not None and span is not None:
            related.append(Related(located[0].path, span, f"`{_name(caller)}` calls `{_name(callee)}`"))
    return related


# -- the fix -----------------------------------------------------------------
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
        self.lines: list[tuple[cst.SimpleStatementLine | cst.SimpleStatementSuite, cst.Assert]] = []
        self._line = None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._line = node

    def visit_Assert(self, node: cst.Assert) -> None:
        self.lines.append((self._line, node))


class _Rewrite(cst.CSTTransformer):
    def __init__(self, module: cst.Module, targets: dict[int, dict[str, Any]], exception: str) -> None:
        self.module = module
        self.targets = targets  # id(SimpleStatementLine) -> fix description
        self.exception = exception

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        description = self.targets.get(id(original))
        if description is None:
            return updated
        node: cst.Assert = updated.body[0]
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
            body=cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[raised])], header=updated.trailing_whitespace),
            leading_lines=updated.leading_lines,
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
    spans = positions(module, [node for _, node in finder.lines])
    targets: dict[int, dict[str, Any]] = {}
    refused: list[str] = []
    found = set()
    exception = None
    for line, node in finder.lines:
        span = spans.get(id(node))
        if span is None or (span[0], span[1]) not in wanted:
            continue
        description = wanted[(span[0], span[1])]
        if not _same_test(description.get("test", ""), _bare_code(module, node.test)):
            continue
        found.add((span[0], span[1]))
        if not isinstance(line, cst.SimpleStatementLine):
            refused.append(f"line {span[0]}: the assert shares its line with the statement that opens its block")
            continue
        if len(line.body) != 1:
            refused.append(f"line {span[0]}: the assert shares its line with other statements")
            continue
        targets[id(line)] = description
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


RULE = AssertInHandler
