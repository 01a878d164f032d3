"""RL001 assert-in-handler: asserts that run while a request is served.

Handlers and the call graph come from review_lint.knowledge; this module decides
which asserts they reach and words the finding. The rewrite (`--fix`) is in
rl001_fix.py: it needs LibCST, which judging never imports (0.12 s).
"""

from __future__ import annotations

from typing import Any, Iterable

from ..diagnostics import Finding, Related
from ..facts import Function
from ..knowledge.callgraph import CallGraph, FunctionKey, call_graph, chains_to
from ..knowledge.flow import forced_exit, kept_out
from ..knowledge.handlers import Handler, HandlerConfig, find_handlers
from ..project import Project
from ..rule import Rule

FIX_KIND = "assert-to-raise"
MAX_RELATED_HANDLERS = 5


class AssertInHandler(Rule):
    code = "RL001"
    name = "assert-in-handler"
    uses = frozenset({"callgraph", "handlers"})

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
        # Each reached function once, with every key it is reached under (its own, and the
        # bound keys of the subclasses that inherit it: CallGraph.bound_method).
        by_module: dict[str, dict[str, tuple[Function, list[FunctionKey]]]] = {}
        for key in sorted(reached):
            located = graph.function(key)
            if located is not None and not project.is_test(located[0].path):
                entry = by_module.setdefault(located[0].path, {}).setdefault(located[1].qualname, (located[1], []))
                entry[1].append(key)
        modules = [project.by_path[path] for path in sorted(by_module)]

        def judge(module):
            for function, keys in by_module[module.path].values():
                yield from self._function(module, tuple(keys), function, graph, handlers, callers, depth)

        def inputs(module):
            return tuple((qualname, tuple(keys)) for qualname, (_, keys) in by_module[module.path].items())

        # Judged incrementally, an edit almost always touches a module the handler search
        # read, yet rarely changes the handlers or the call edges among what they reach:
        # then each module's verdict needs only its own functions' keys to be the same.
        if self.verdicts is not None:
            self.verdicts.same_state((handlers, callers, depth, runners))
        yield from self.per_module(modules, judge, inputs)

    def _function(self, module, keys, function, graph, handlers, callers, depth) -> Iterable[Finding]:
        if function.in_type_checking:
            return
        asserts = [a for a in function.asserts if not a.in_type_checking]
        if not asserts:
            return
        sources = set(handlers)
        chains = list(chains_to(keys, sources, callers, depth))
        if not chains:
            return
        for fact in asserts:
            # Prefer chains whose literal arguments do not return before the assert.
            passable = list(chains_to(keys, sources, callers, depth, _blocked_before(graph, keys, fact.order, fact.blocks)))
            message = _message(passable or chains, handlers, proven=bool(passable))
            related = _related(graph, passable or chains, handlers)
            yield Finding(module.path, fact.span, message, related, self._fix(fact.test, fact.span))

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


def _message(chains: list[list[tuple[FunctionKey, Any]]], handlers: dict[FunctionKey, Handler],
             proven: bool = True) -> str:
    chain = chains[0]
    handler = _name(chain[0][0])
    role = "per-request hook" if handlers[chain[0][0]].hook else "request handler"
    others = len(chains) - 1
    also = f"; also reached from {others} other handler{'s' if others > 1 else ''}" if others else ""
    if not proven:
        also += "; the literal arguments on this path return before it, so the path is possible, not proven"
    if len(chain) == 1:
        where = f"in {role} `{handler}`" + (f" ({also[2:]})" if also else "")
    else:
        via = " -> ".join(f"`{_name(key)}`" for key, _ in chain[1:])
        where = f"on the request path of `{handler}` (via {via}{also})"
    return f"assert {where} is removed under `python -O`; raise an explicit error"


def _blocked_before(graph: CallGraph, targets: tuple[FunctionKey, ...], order: int, blocks: tuple[int, ...]):
    """chains_to's edge test: a call whose literal arguments make the callee return
    before the next step of the chain (the assert, in one of `targets`), or keep
    execution out of the block holding that step."""

    def blocked(caller: FunctionKey, span, callee: FunctionKey, following) -> bool:
        located = graph.function(callee)
        if located is None:
            return False
        function = located[1]
        if following is None:
            point = (order, blocks) if callee in targets else None
        else:
            point = next(((c.order, c.blocks) for c in function.calls if c.span == following), None)
        if point is None:
            return False
        known = graph.passed_literals(caller, span, callee)
        step, step_blocks = point
        return bool(known) and (forced_exit(function, step, known) or kept_out(function, step_blocks, step, known))

    return blocked


def _related(graph: CallGraph, chains, handlers: dict[FunctionKey, Handler]) -> list[Related]:
    """Each chain's handler, then the calls of the first chain: with its handler, the
    steps of the path to the assert."""
    related = []
    for number, chain in enumerate(chains[:MAX_RELATED_HANDLERS]):
        handler = handlers[chain[0][0]]
        role = "per-request hook" if handler.hook else "request handler"
        related.append(Related(handler.path, handler.span, f"{role} `{handler.name}`: {handler.how}",
                               step=1 if number == 0 else None))
    chain = chains[0]
    for (caller, _), (callee, span) in zip(chain, chain[1:]):
        located = graph.function(caller)
        if located is not None and span is not None:
            related.append(Related(located[0].path, span, f"`{_name(caller)}` calls `{_name(callee)}`",
                                   step=len(related) + 1))
    return related


def fix(module, diagnostics):
    """Rewrite the reported asserts as explicit checks (see rl001_fix)."""
    from .rl001_fix import fix as rewrite

    return rewrite(module, diagnostics)


RULE = AssertInHandler
