"""Who calls whom, resolved statically across the project.

A function is named by its key `(module name, qualname)`. `CallGraph.callees`
resolves the calls recorded in a function's facts to project functions:

- a plain name: a function nested in the caller (or in the caller's enclosing
  functions), else whatever the project model resolves the name to in the
  caller's module (same-module definitions, `from .helpers import f`);
- a dotted name: `h.f()` with `import pkg.helpers as h`, `pkg.helpers.f()`,
  `Class.method()`;
- `self.m()` / `cls.m()` inside a class: `m` in the class or its project bases;
- `Foo(...)`: `Foo.__init__`, and `Foo(...).m()`: `m` in `Foo` or its project bases;
- `x.m()`, `x.a.b.m()` and `self.client.m()` where the type layer knows the class
  (types.Types.class_of, dotted_class): a parameter's annotation, `x = Foo(...)`,
  a read of `Foo` (`session.get(Foo, pk)`), a call annotated to return `Foo`; then
  each attribute's class as its owner declares or assigns it (`client: Client`,
  `self.client = Client(...)` or a factory annotated to return one, in `__init__`).
  The call graph asks the type layer and keeps no copy of its rules.
- `with C(...):` / `async with x:` (or `stack.enter_context(x)`) where the type layer
  knows the class: its `__enter__` and `__exit__` (`__aenter__`, `__aexit__`);
- `x.m()` where the class of `x` is unknown: inside `if isinstance(x, C):` as on a `C`;
  on a value project code made, as on the one project class family defining `m`
  (types.Types.dispatch: only what must run, never a guess among overrides).

Anything else (callbacks, attributes of attributes, `super()`) is not followed.
"""

from __future__ import annotations

import ast
from collections import deque
from typing import Callable, Iterator

from ..facts import Call, Class, Function, Span, Value
from ..project import Module, Project, last_name
from .types import is_abstract_method, types_of

# An interface with more implementations than this is a registry whose entries are chosen by
# data at run time (pgAdmin's ~60 node modules), not a few pluggable backends.
_MOST_BACKENDS = 3

FunctionKey = tuple[str, str]  # (module name, function qualname)
_CONTEXT_METHODS = ("__enter__", "__exit__", "__aenter__", "__aexit__")
_STACK_ENTRIES = frozenset({"enter_context", "enter_async_context"})


def key_of(module: Module, function: Function) -> FunctionKey:
    return (module.name, function.qualname)


class CallGraph:
    def __init__(self, project: Project) -> None:
        self.project = project
        # By function and set of runners: dotted names of functions that run the function
        # given as their first argument before returning (RL001's `runner-functions`).
        # A project memo: its entries remember what they were computed from, and outlive
        # an edit that changes none of it (project.Memo, incremental.py).
        self._callees: dict[tuple[FunctionKey, frozenset[str]], list[tuple[FunctionKey, Span]]] = project.memo(
            "callees", kept=True)
        self.types = types_of(project)
        # (class, inherited method) -> whether run on the class it reaches an override (bound_method).
        self._overrides: dict[tuple[str, str, str, str], bool] = project.memo("reaches override")

    # -- lookups -----------------------------------------------------------
    def function(self, key: FunctionKey) -> tuple[Module, Function] | None:
        """The function a key names; a bound key (see `bound_method`) names the inherited one."""
        return self._locate(key)[0]

    def _locate(self, key: FunctionKey) -> tuple[tuple[Module, Function] | None, tuple[Module, Class] | None]:
        """The function a key names, and for a bound key the class `self` is an instance of."""
        module = self.project.modules.get(key[0])
        function = module.functions.get(key[1]) if module is not None else None
        if function is not None:
            return (module, function), None
        bound = self._bound(key)
        return (bound[0], bound[1]) if bound is not None else (None, None)

    def _bound(self, key: FunctionKey) -> tuple[tuple[Module, Function], tuple[Module, Class]] | None:
        """A bound key (module of `Sub`, "Sub.m") names `m`, which `Sub` inherits, run on an
        instance of `Sub`: the inherited function, and `Sub` (what `self` is in it)."""
        module = self.project.modules.get(key[0])
        owner, _, name = key[1].rpartition(".")
        cls = module.classes.get(owner) if module is not None and owner else None
        if cls is None:
            return None
        found = self.types.method(module, cls, name)
        return (found, (module, cls)) if found is not None else None

    def bound_method(self, module: Module, cls: Class, name: str) -> FunctionKey | None:
        """`method`, but for a method `cls` inherits whose `self.x()` calls reach an
        override in `cls` (a template method's hooks: the base's `run` calls
        `self._get_sql()`, which each subclass defines), a bound key: the inherited
        method run with `self` a `cls`, so those calls reach `cls`'s overrides."""
        found = self.types.method(module, cls, name)
        if found is None:
            return None
        owner_module, function = found
        if owner_module is module and function.class_qualname == cls.qualname:
            return key_of(*found)
        if self._reaches_override(module, cls, owner_module, function):
            return (module.name, f"{cls.qualname}.{name}")
        return key_of(*found)

    def _reaches_override(self, module: Module, cls: Class, owner_module: Module, function: Function) -> bool:
        """Whether `function`, inherited by `cls`, calls through `self` (directly or through
        other inherited methods) a method that `cls` resolves to another function than
        the class defining `function` does."""
        key = (module.name, cls.qualname, owner_module.name, function.qualname)
        if key in self._overrides:
            return self._overrides[key]
        answer = self._overridden_below(module, cls, owner_module, function, set())
        self._overrides[key] = answer
        return answer

    def _overridden_below(self, module: Module, cls: Class, owner_module: Module, function: Function,
                          seen: set[tuple[str, str]]) -> bool:
        if (owner_module.name, function.qualname) in seen or function.class_qualname is None:
            return False
        seen.add((owner_module.name, function.qualname))
        owner = owner_module.classes.get(function.class_qualname)
        if owner is None:
            return False
        for call in function.calls:
            receiver = call.receiver
            if call.method is None or receiver is None or receiver.kind != "name" or receiver.ref not in ("self", "cls"):
                continue
            in_cls = self.types.method(module, cls, call.method)
            if in_cls is None:
                continue
            in_owner = self.types.method(owner_module, owner, call.method)
            if in_owner is None or in_owner[1] is not in_cls[1]:
                return True
            if in_cls[1].class_qualname != cls.qualname and self._overridden_below(module, cls, *in_cls, seen):
                return True
        return False

    def mro(self, module: Module, cls: Class) -> list[tuple[Module, Class]]:
        """The class, then its project ancestors (see types.Types.mro)."""
        return self.types.mro(module, cls)

    def method(self, module: Module, cls: Class, name: str) -> FunctionKey | None:
        """`name` looked up on the class as Python would, within the project."""
        found = self.types.method(module, cls, name)
        return key_of(*found) if found is not None else None

    def resolve_class(self, module: Module, ref: str | None) -> tuple[Module, Class] | None:
        return self.types.class_at(module, ref)

    def local_function(self, module: Module, scope: str, name: str) -> FunctionKey | None:
        """A function named `name` nested in `scope` or in the functions enclosing it."""
        found = self.types.local_function(module, scope, name)
        return key_of(module, found) if found is not None else None

    # -- calls -------------------------------------------------------------
    def callees(self, key: FunctionKey, runners: frozenset[str] = frozenset()) -> list[tuple[FunctionKey, Span]]:
        """The project functions `key` calls, each with the span of the call."""
        cached = self._callees.get((key, runners))
        if cached is not None:
            return cached
        found: list[tuple[FunctionKey, Span]] = []
        located, this = self._locate(key)
        if located is not None:
            module, function = located
            seen: set[FunctionKey] = set()
            for target, span in (*self._wrappers(module, function), *self._context_managers(module, function)):
                if target not in seen:
                    seen.add(target)
                    found.append((target, span))
            for call in function.calls:
                # A runner defined in the project is called too, and runs what it is handed.
                for target in (*self.properties(module, function, call), *self.targets(module, function, call, this),
                               self.callback(module, function, call, runners)):
                    if target is not None and target not in seen:
                        seen.add(target)
                        found.append((target, call.span))
        self._callees[(key, runners)] = found
        return found

    def properties(self, module: Module, function: Function, call: Call) -> list[FunctionKey]:
        """The `@property` getters a call's receiver reads on its way (`event.cache.clear()`
        runs `Event.cache` first): reading a property is a call."""
        receiver = call.receiver
        if receiver is None or receiver.kind != "attr" or not receiver.ref:
            return []
        parts = receiver.ref.split(".")
        found = []
        for end in range(1, len(parts)):
            owner = self.types.dotted_class(module, function, ".".join(parts[:end]))
            getter = self.types.getter(owner[0], owner[1], parts[end]) if owner is not None else None
            if getter is not None:
                found.append(key_of(*getter))
        return found

    def callback(
        self, module: Module, function: Function, call: Call, runners: frozenset[str] = frozenset()
    ) -> FunctionKey | None:
        """The project function a runner is handed to run now (see `handed_call`)."""
        reference = handed_call(self.project, module, call, runners)
        return self.target(module, function, reference) if reference is not None else None

    def _context_managers(self, module: Module, function: Function) -> list[tuple[FunctionKey, Span]]:
        """`with Lock(name):` / `async with Client() as c:` runs the project class's
        `__enter__` and `__exit__` (`__aenter__`, `__aexit__`) around the block."""
        entered = [(item, block.span) for block in function.blocks if block.kind == "with" for item in block.items]
        # `stack.enter_context(cm)` / `await stack.enter_async_context(cm)` (contextlib.ExitStack):
        # entered now, exited when the stack closes.
        entered += [(call.args[0], call.span) for call in function.calls
                    if call.method in _STACK_ENTRIES and len(call.args) == 1]
        found = []
        for item, span in entered:
            located = self.types.instance_class(module, function, item)
            if located is None:
                continue
            for name in _CONTEXT_METHODS:
                key = self.bound_method(located[0], located[1], name)
                if key is not None:
                    found.append((key, span))
        return found

    def _wrappers(self, module: Module, function: Function) -> list[tuple[FunctionKey, Span]]:
        """The wrappers a project decorator puts around `function`: they run on every call.

        `@deco` runs the functions nested directly in `deco`; `@deco(...)` (a
        factory) runs those nested one level deeper. The decorator's own body runs
        once, at definition time, and is not an edge.
        """
        found: list[tuple[FunctionKey, Span]] = []
        for decorator in function.decorators:
            factory = decorator.kind == "call" and decorator.call is not None
            ref = decorator.call.callee if factory else decorator.ref
            if not ref:
                continue
            target = self.local_function(module, function.qualname.rpartition(".")[0], ref) if "." not in ref else None
            if target is None:
                symbol = self.project.resolve(module, ref)
                if symbol is None or symbol.kind != "function":
                    continue
                target = (symbol.module, symbol.qualname)
            owner = self.project.modules.get(target[0])
            if owner is None:
                continue
            levels = 2 if factory else 1
            prefix = target[1] + "."
            span = decorator.call.span if factory else function.span
            for qualname in owner.functions:
                if qualname.startswith(prefix) and qualname[len(prefix):].count(".") == levels - 1:
                    found.append(((owner.name, qualname), span))
        return found

    def passed_literals(self, caller: FunctionKey, span: Span, callee: FunctionKey) -> dict[str, str]:
        """The callee's parameters that the call at `span` in `caller` sets to a literal,
        passed or left to their default: name -> "none", "false" (falsy) or "true".
        Positional arguments count for plain functions only (a method's first
        parameter may or may not be bound)."""
        located, target = self.function(caller), self.function(callee)
        if located is None or target is None:
            return {}
        function = target[1]
        call = next((c for c in located[1].calls if c.span == span), None)
        if call is None or (call.method or last_name(call.callee)) not in (function.name, function.class_qualname and
                                                                           last_name(function.class_qualname)):
            return {}  # a wrapper or a callback edge: the call's arguments are not the callee's
        passed: dict[str, Value | None] = {}
        positional = [p for p in function.params if p.kind == "positional"]
        unknown: set[str] = set()
        if function.class_qualname is None and not call.star_args:
            for param, argument in zip(positional, call.args):
                passed[param.name] = argument
        elif call.args:
            # `obj.m(a, b)` binds `self` first, `Cls.m(obj, a)` does not: the first
            # parameters may hold any of the arguments, so none of them is its default.
            unknown = {p.name for p in positional[:len(call.args) + 1]}
        for name, argument in call.kwargs:
            passed[name] = argument
        known = {}
        for param in function.params:
            if param.kind in ("star", "starstar"):
                continue
            if param.name in passed:
                value = passed[param.name]
            elif call.star_args or call.star_kwargs or param.name in unknown:
                continue  # may be among the unpacked or positional arguments
            else:
                value = param.default
            literal = _literal(value)
            if literal is not None:
                known[param.name] = literal
        return known

    def _instance(self, module: Module, function: Function, name: str) -> tuple[Module, Class] | None:
        """The project class a local name other than `self`/`cls` holds (types.class_of)."""
        return None if name in ("self", "cls") else self.types.class_of(module, function, name)

    def targets(self, module: Module, function: Function, call: Call,
                this: tuple[Module, Class] | None = None) -> list[FunctionKey]:
        """The project functions a call may run: the method of each class a declared union
        admits for the receiver, else its `target`, else the methods a receiver of unknown
        class may dispatch to (types.Types.dispatch)."""
        union = self._union(module, function, call, 2)
        if union:
            return union
        found = self.target(module, function, call, this)
        if found is not None:
            return self._concrete(found, call)
        known = self._union(module, function, call, 1)  # `ev = wle.subevent or request.event`: the one known
        if known:
            return known
        return [key_of(*f) for f in self.types.dispatch(module, function, call)]

    def _union(self, module: Module, function: Function, call: Call, least: int) -> list[FunctionKey]:
        """`x.m()` where the code admits at least `least` project classes for `x`
        (types.Types.receiver_classes): each one's `m`; any of them may run."""
        receiver = call.receiver
        if call.method is None or receiver is None or receiver.kind not in ("name", "attr") or (
                not receiver.ref or receiver.ref in ("self", "cls")):
            return []
        classes = self.types.receiver_classes(module, function, receiver.ref)
        if len(classes) < least:
            return []
        found: list[FunctionKey] = []
        for located in classes:
            key = self.method(located[0], located[1], call.method)
            if key is not None and key not in found:
                found.append(key)
        return found

    def _concrete(self, key: FunctionKey, call: Call) -> list[FunctionKey]:
        """A method call on a typed receiver that lands on an abstract method runs an override:
        the few concrete ones of the method's class (an interface's pluggable backends,
        `storage: StorageBase` with a memory and a PostgreSQL one), else the abstract one.
        Calls on `self` are left to the bound keys (`bound_method`)."""
        receiver = call.receiver
        if call.method is None or receiver is None or (receiver.kind == "name" and receiver.ref in ("self", "cls")):
            return [key]
        located = self.function(key)
        cls = located[0].classes.get(located[1].class_qualname or "") if located is not None else None
        if cls is None or not is_abstract_method(located[1]):
            return [key]
        found = self.types.implementations(located[0], cls, call.method, most=_MOST_BACKENDS)
        return [key_of(*f) for f in found] or [key]

    def target(self, module: Module, function: Function, call: Call,
               this: tuple[Module, Class] | None = None) -> FunctionKey | None:
        """The project function `call` runs; `this`: the class `self` is an instance of, when
        `function` is an inherited method run on a subclass's instance (a bound key)."""
        callee = call.callee
        if callee is not None and "." not in callee:
            local = self.local_function(module, function.qualname, callee)
            if local is not None:
                return local
        if call.method is not None and call.receiver is not None:
            receiver = call.receiver
            if receiver.kind == "name" and receiver.ref in ("self", "cls") and function.class_qualname is not None:
                if this is not None:
                    return self.bound_method(this[0], this[1], call.method)
                cls = module.classes.get(function.class_qualname)
                return self.bound_method(module, cls, call.method) if cls is not None else None
            instance = self._instance(module, function, receiver.ref) if receiver.kind == "name" else None
            if instance is not None:
                return self.bound_method(instance[0], instance[1], call.method)
            if receiver.kind == "call" and receiver.ref:
                located = self.resolve_class(module, receiver.ref)
                if located is not None:
                    return self.bound_method(located[0], located[1], call.method)
                return None
            if receiver.kind == "attr" and receiver.ref:
                located = self.types.dotted_class(module, function, receiver.ref)
                if located is not None:
                    return self.method(located[0], located[1], call.method)
                if receiver.ref.startswith(("self.", "cls.")) or self._instance(module, function, receiver.ref.split(".")[0]):
                    return None
        if callee is None:
            return None
        symbol = self.project.resolve(module, callee)
        if symbol is None:
            return None
        if symbol.kind == "function":
            return (symbol.module, symbol.qualname)
        if symbol.kind == "class":
            located = self.project.class_(symbol)
            return self.method(located[0], located[1], "__init__") if located is not None else None
        if symbol.kind == "variable" and "." in symbol.qualname:
            # `Class.method` where the method is inherited from a project base.
            owner, _, member = symbol.qualname.rpartition(".")
            target_module = self.project.modules.get(symbol.module)
            cls = target_module.classes.get(owner) if target_module is not None else None
            if cls is not None:
                return self.method(target_module, cls, member)
        return None

    def calling(self, name: str) -> list[tuple[Module, Function]]:
        """The functions with a call whose last name is `name` (`name(...)`, `x.name(...)`):
        the candidates among which the callers of a function of that name are."""
        index = self.project.index("callgraph-functions-by-called-name", _functions_by_called_name)
        by_path = self.project.by_path
        return [(by_path[path], function) for path, function in index.located(name)]

    # -- reach -------------------------------------------------------------
    def reach(
        self, sources: list[FunctionKey], depth: int | None = None, runners: frozenset[str] = frozenset()
    ) -> dict[FunctionKey, int]:
        """Every function reachable from `sources` with its shortest distance."""
        distance: dict[FunctionKey, int] = {}
        queue: deque[FunctionKey] = deque()
        for source in sources:
            if source not in distance:
                distance[source] = 0
                queue.append(source)
        while queue:
            current = queue.popleft()
            if depth is not None and distance[current] >= depth:
                continue
            for target, _ in self.callees(current, runners):
                if target not in distance:
                    distance[target] = distance[current] + 1
                    queue.append(target)
        return distance

    def callers_within(
        self, reached: dict[FunctionKey, int], runners: frozenset[str] = frozenset()
    ) -> dict[FunctionKey, list[tuple[FunctionKey, Span]]]:
        """The reverse edges among the reached functions."""
        callers: dict[FunctionKey, list[tuple[FunctionKey, Span]]] = {}
        for source in reached:
            for target, span in self.callees(source, runners):
                if target in reached:
                    callers.setdefault(target, []).append((source, span))
        return callers


def chains_to(
    targets: tuple[FunctionKey, ...],
    sources: set[FunctionKey],
    callers: dict[FunctionKey, list[tuple[FunctionKey, Span]]],
    depth: int | None = None,
    blocked: Callable[[FunctionKey, Span, FunctionKey, Span | None], bool] | None = None,
) -> Iterator[list[tuple[FunctionKey, Span | None]]]:
    """Shortest call chains from each source that reaches one of `targets` (the keys of
    one function: its own, and its bound keys), nearest first.

    Each chain is `[(source, None), (f1, span of the call in source), ..., (target, span)]`.
    Cycles are harmless: every function is visited once. `blocked(caller, span, callee,
    next_span)` may refuse an edge: the call at `span` cannot get to the callee's call
    at `next_span` (None: to the target's event).
    """
    previous: dict[FunctionKey, tuple[FunctionKey, Span] | None] = {target: None for target in targets}
    distance = {target: 0 for target in targets}
    queue: deque[FunctionKey] = deque(targets)
    while queue:
        current = queue.popleft()
        if current in sources:
            chain: list[tuple[FunctionKey, Span | None]] = [(current, None)]
            step = current
            while previous[step] is not None:
                following, span = previous[step]
                chain.append((following, span))
                step = following
            yield chain
        if depth is not None and distance[current] >= depth:
            continue
        following = previous[current][1] if previous[current] is not None else None
        for caller, span in callers.get(current, ()):
            if caller not in previous and not (blocked is not None and blocked(caller, span, current, following)):
                previous[caller] = (current, span)
                distance[caller] = distance[current] + 1
                queue.append(caller)


def _functions_by_called_name(module: Module) -> Iterator[tuple[str, Function]]:
    """A module's functions by the last name of each name they call (Project.index). The
    function alone: the index knows its module, and a (module, function) pair for each
    function was 8 MB at 10,000 files, for some seventy questions a judgement asks."""
    for function in module.facts.functions:
        for called in dict.fromkeys(last_name(c.callee or c.method or "") for c in function.calls):
            if called:
                yield called, function


def _literal(value: Value | None) -> str | None:
    """"none", "false" or "true" for a literal argument; None for anything else."""
    if value is None:
        return None
    if value.kind == "none":
        return "none"
    if value.kind != "const" or not value.text:
        return None
    text = value.text
    if text in ("True", "False"):
        return "true" if text == "True" else "false"
    try:
        evaluated = ast.literal_eval(text) if len(text) < 200 else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if evaluated is None or isinstance(evaluated, (list, dict, tuple, set)):
        return None
    return "true" if evaluated else "false"


__all__ = ["CallGraph", "FunctionKey", "chains_to", "key_of"]


def call_graph(project: Project) -> CallGraph:
    """The project's call graph, built once however many rules ask."""
    memo = project.memo("callgraph")
    if "graph" not in memo:
        memo["graph"] = CallGraph(project)
    return memo["graph"]


# Runners that return what the function they are handed returns (`await asyncio.to_thread(f, x)`
# is `f(x)`'s result); `sync_to_async(f)` returns a wrapper instead.
RESULT_RUNNERS = frozenset({"asyncio.to_thread", "starlette.concurrency.run_in_threadpool",
                            "fastapi.concurrency.run_in_threadpool", "anyio.to_thread.run_sync"})


def handed_call(project: Project, module: Module, call: Call, runners: frozenset[str]) -> Call | None:
    """The call a runner makes of the function it is handed, with the arguments it passes on:
    `run_in_threadpool(f, x)`, `asyncio.to_thread(f)`, `loop.run_in_executor(None, f, x)`,
    `sync_to_async(f)` (when `runners` names them), each also through
    `functools.partial(f, ...)`; None for any other call."""
    if call.method == "run_in_executor" and len(call.args) >= 2:
        handed, passed = call.args[1], call.args[2:]
    elif runners and call.args and call.callee and (
        project.qualified(project.resolve(module, call.callee)) in runners
    ):
        handed, passed = call.args[0], call.args[1:]
    else:
        return None
    if handed.kind == "call" and handed.call is not None and handed.call.args and handed.call.callee and (
        project.qualified(project.resolve(module, handed.call.callee)) == "functools.partial"
    ):
        handed = handed.call.args[0]
    if handed.kind not in ("name", "attr") or not handed.ref:
        return None
    receiver, _, method = handed.ref.rpartition(".")
    return Call(handed.ref, method or None, Value("name", receiver, ref=receiver) if receiver else None,
                tuple(passed), call.kwargs, False, False, call.span)
