"""What is a request handler: the functions a web framework calls to serve a request.

Recognised statically, from facts alone, for the shapes of FastAPI/Starlette,
Flask/Quart, Django/DRF, aiohttp, Litestar and Sanic. Everything that names a
framework is data (`HandlerConfig`), so a team can add its own framework in
configuration: the `web` option group (`rules/groups/web.yaml`), which every
rule asking about handlers takes whole, so all of them agree on what one is.

Shapes:
- decorators `@X.<decorator-method>(...)` (or bare `@X.before_request`) where X
  is an instance of an `app-classes` class (or a subclass in the project); when
  X cannot be resolved to a class, its last name must match `router-names`;
- registration calls `X.<registration-method>(..., fn)` on such an X: the
  positional arguments and the `handler-keywords` that name a function, a class
  or `View.as_view()`;
- `route-functions` calls anywhere (`Route(path, fn)`, `path("x/", view)`,
  `web.get(path, fn)`): the same arguments;
- functions decorated with a `handler-decorators` callable (`@litestar.get`,
  DRF `@action`, `@api_view`);
- `handler-methods` of classes deriving from `handler-base-classes` (Django and
  DRF views, MethodView, HTTPEndpoint), and of classes registered as views;
- `dependency-functions` (`Depends(fn)`, `Security(fn)`) anywhere, including in
  parameter annotations: FastAPI runs them per request.

A qualified name ending in "." in any of these lists is a prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Callable

from ..facts import Call, Class, Function, Span, Value
from ..project import Module, Project, last_name
from .callgraph import CallGraph, FunctionKey, call_graph, key_of


@dataclass(frozen=True)
class HandlerConfig:
    app_classes: tuple[str, ...]
    decorator_methods: tuple[str, ...]
    registration_methods: tuple[str, ...]
    handler_keywords: tuple[str, ...]
    route_functions: tuple[str, ...]
    handler_decorators: tuple[str, ...]
    handler_base_classes: tuple[str, ...]
    handler_methods: tuple[str, ...]
    dependency_functions: tuple[str, ...]
    router_names: tuple[str, ...]

    # The option names of RL001's YAML, in the order of the fields above.
    OPTION_NAMES = (
        "app-classes", "decorator-methods", "registration-methods", "handler-keywords", "route-functions",
        "handler-decorators", "handler-base-classes", "handler-methods", "dependency-functions", "router-names",
    )

    def __hash__(self) -> int:
        # Part of the key of every module's entry in the kept handler memo: hashed for
        # each module after every edit in the language server, so once per object.
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash(tuple(getattr(self, name) for name in self.__dataclass_fields__))
            object.__setattr__(self, "_hash", found)
        return found

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> "HandlerConfig":
        """From a rule's options; a rule that does not take the `web` group is a KeyError."""
        config = cls(*(tuple(options[option]) for option in cls.OPTION_NAMES))
        # One object per distinct settings: memo keys holding it then compare by identity.
        return _CONFIGS.setdefault(config, config)


_CONFIGS: dict[HandlerConfig, HandlerConfig] = {}


@dataclass(frozen=True)
class Handler:
    key: FunctionKey
    path: str
    span: Span
    how: str  # "route decorator `router.websocket`", "view class `ItemView`", ...

    @property
    def name(self) -> str:
        return self.key[1]


class _Names:
    """Qualified-name matching with "prefix." entries and a last-part prefilter."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.exact = {n for n in names if not n.endswith(".")}
        self.prefixes = tuple(n for n in names if n.endswith("."))
        self.last_parts = {n.rsplit(".", 1)[-1] for n in self.exact}

    def __contains__(self, name: str | None) -> bool:
        return bool(name) and (name in self.exact or name.startswith(self.prefixes))

    def maybe(self, dotted: str | None) -> bool:
        return bool(dotted) and (bool(self.prefixes) or dotted.rsplit(".", 1)[-1] in self.last_parts)




class HandlerFinder:
    def __init__(self, project: Project, config: HandlerConfig, graph: CallGraph | None = None) -> None:
        self.project = project
        self.config = config
        self.graph = graph or call_graph(project)
        self.app_classes = _Names(config.app_classes)
        self.route_functions = _Names(config.route_functions)
        self.handler_decorators = _Names(config.handler_decorators)
        self.base_classes = _Names(config.handler_base_classes)
        self.dependencies = _Names(config.dependency_functions)
        self.decorator_methods = set(config.decorator_methods)
        self.registration_methods = set(config.registration_methods)
        self.handler_methods = set(config.handler_methods)
        self.keywords = set(config.handler_keywords)
        self.handlers: dict[FunctionKey, Handler] = {}
        self._may_register = self._register_test()
        # Names of module-level aliases with Annotated markers: the only annotations worth resolving.
        self._marked_aliases = {name for m in project.all_modules for name, alias in m.facts.aliases.items()
                                if alias.markers}

    # -- results -----------------------------------------------------------
    def find(self) -> dict[FunctionKey, Handler]:
        # What each module registers, in order: a project memo whose entries outlive an
        # edit that changes none of what they read (incremental.py).
        registered = self.project.memo("handlers-by-module", kept=True)
        context = (self.config, frozenset(self._marked_aliases))
        for module in self.project.judged_modules():
            key = (context, module.path)
            found = registered.get(key)
            if found is None:
                found = registered[key] = self._registered_in(module)
            for function_key, how in found:
                self._register(function_key, how)
        return self.handlers

    def _registered_in(self, module: Module) -> list[tuple[FunctionKey, str]]:
        """(function, how) for each handler one module registers."""
        self._found: list[tuple[FunctionKey, str]] = []
        may_call = self._may_register
        for function in module.facts.functions:
            if function.in_type_checking:
                continue
            if function.qualname != "<module>":
                self._decorators(module, function)
                self._annotations(module, function)
            for call in function.calls:
                if may_call(call):
                    self._call(module, function, call)
        for cls in module.facts.classes:
            bases = self.project.base_names(module, cls)
            matched = sorted(b for b in bases if b in self.base_classes)
            if matched:
                self._view_class(module, cls, f"view class `{cls.qualname}` ({matched[0]})")
        return self._found

    def _add(self, key: FunctionKey | None, how: str) -> None:
        if key is not None:
            self._found.append((key, how))

    def _register(self, key: FunctionKey, how: str) -> None:
        if key in self.handlers:
            return
        located = self.graph.function(key)
        if located is None:
            return
        module, function = located
        if self.project.is_test(module.path):
            return
        self.handlers[key] = Handler(key, module.path, function.span, how)

    def _view_class(self, module: Module, cls: Class, how: str) -> None:
        for owner_module, owner in self.graph.mro(module, cls):
            for name, qualname in owner.methods.items():
                if name in self.handler_methods:
                    self._add((owner_module.name, qualname), how)

    # -- decorators ----------------------------------------------------------
    def _decorators(self, module: Module, function: Function) -> None:
        key = key_of(module, function)
        for decorator in function.decorators:
            call = decorator.call if decorator.kind == "call" else None
            if call is not None and call.method in self.decorator_methods:
                receiver = call.receiver
                if self.is_app(module, function, receiver.ref if receiver is not None else None, outer=True):
                    self._add(key, f"route decorator `{call.callee or call.method}`")
                    continue
            if decorator.kind == "attr" and decorator.ref:
                receiver, _, method = decorator.ref.rpartition(".")
                if method in self.decorator_methods and self.is_app(module, function, receiver, outer=True):
                    self._add(key, f"decorator `{decorator.ref}`")
                    continue
            ref = call.callee if call is not None else decorator.ref
            if self.handler_decorators.maybe(ref) and self._qualified(module, ref) in self.handler_decorators:
                self._add(key, f"decorator `{ref}`")

    def _annotations(self, module: Module, function: Function) -> None:
        """`Annotated[T, Depends(fn)]` in a signature, spelled out or through a module-level
        alias (`CurrentUser = Annotated[User, Depends(current_user)]`, FastAPI's idiom)."""
        for param in function.params:
            annotation = param.annotation
            if annotation is None:
                continue
            markers = [(module, function, marker) for marker in annotation.markers]
            if len(annotation.core) == 1 and last_name(annotation.core[0]) in self._marked_aliases:
                symbol = self.project.resolve(module, annotation.core[0])
                alias = self.project.alias(symbol)
                if alias is not None:
                    owner = self.project.modules[symbol.module]
                    top = owner.functions["<module>"]
                    markers += [(owner, top, marker) for marker in alias.markers]
            for owner, scope, (callee, argument) in markers:
                if argument is not None and self._is_dependency(owner, callee):
                    self._add(self._function_ref(owner, scope, argument), f"dependency `{callee}({argument})`")

    # -- calls ---------------------------------------------------------------
    def _register_test(self) -> Callable[[Call], bool]:
        """`_call`'s own first refusals as one test: a project has ~30,000 calls and
        almost none registers a route or names a dependency."""
        registration = self.registration_methods
        last_parts = self.route_functions.last_parts | self.dependencies.last_parts
        if self.route_functions.prefixes or self.dependencies.prefixes:
            return lambda call: (call.method in registration and call.receiver is not None) or bool(call.callee)
        return lambda call: ((call.method in registration and call.receiver is not None)
                             or (bool(call.callee) and call.callee.rsplit(".", 1)[-1] in last_parts))

    def _call(self, module: Module, function: Function, call: Call) -> None:
        if call.method in self.registration_methods and call.receiver is not None:
            if self.is_app(module, function, call.receiver.ref, outer=False):
                self._targets(module, function, call, f"registered with `{call.callee or call.method}`")
            return
        callee = call.callee
        route = callee is not None and self.route_functions.maybe(callee)
        # Every branch below needs a route function or a dependency by this name.
        if not route and (callee is None or not self.dependencies.maybe(callee)):
            return
        if route and self._qualified(module, callee) in self.route_functions:
            self._targets(module, function, call, f"route `{callee}`")
        elif self._is_dependency(module, callee) and call.args:
            self._targets_of(module, function, call.args[0], f"dependency `{callee}`", 0)
            return
        dependency = call.kwarg("dependency")
        if dependency is not None and self._is_dependency(module, callee):
            self._targets_of(module, function, dependency, f"dependency `{callee}`", 0)

    def _is_dependency(self, module: Module, callee: str) -> bool:
        if not self.dependencies.maybe(callee):
            return False
        symbol = self.project.resolve(module, callee)
        if symbol is None:
            return True  # an unresolvable `Depends` (a star import) still reads as one
        return self.project.qualified(symbol) in self.dependencies

    def _targets(self, module: Module, function: Function, call: Call, how: str) -> None:
        for value in call.args:
            self._targets_of(module, function, value, how, 0)
        for name, value in call.kwargs:
            if name in self.keywords:
                self._targets_of(module, function, value, how, 0)

    def _targets_of(self, module: Module, function: Function, value: Value, how: str, depth: int) -> None:
        if value.kind in ("name", "attr") and value.ref:
            key = self._function_ref(module, function, value.ref)
            if key is not None:
                self._add(key, how)
                return
            located = self.graph.resolve_class(module, value.ref)
            if located is not None:
                self._view_class(located[0], located[1], f"{how} (class `{located[1].qualname}`)")
        elif value.kind == "call" and value.call is not None and depth < 2:
            call = value.call
            if call.method == "as_view" and call.receiver is not None and call.receiver.ref:
                located = self.graph.resolve_class(module, call.receiver.ref)
                if located is not None:
                    self._view_class(located[0], located[1], f"{how} (`{call.receiver.ref}.as_view()`)")
                return
            located = self.graph.resolve_class(module, call.callee) if call.callee else None
            if located is not None:  # an instance as the handler: Falcon's `app.add_route("/x", Things())`
                self._view_class(located[0], located[1], f"{how} (an instance of `{located[1].qualname}`)")
                return
            for argument in call.args:  # wrappers: csrf_exempt(view), login_required(view)
                self._targets_of(module, function, argument, how, depth + 1)

    def _function_ref(self, module: Module, function: Function, ref: str) -> FunctionKey | None:
        if "." not in ref:
            local = self.graph.local_function(module, function.qualname, ref)
            if local is not None:
                return local
        head, _, member = ref.partition(".")
        if head in ("self", "cls") and member and "." not in member and function.class_qualname is not None:
            # A bound method registered from inside its class: Route("/x", self.endpoint).
            cls = module.classes.get(function.class_qualname)
            return self.graph.method(module, cls, member) if cls is not None else None
        symbol = self.project.resolve(module, ref)
        if symbol is not None and symbol.kind == "function":
            return (symbol.module, symbol.qualname)
        return None

    def _qualified(self, module: Module, ref: str | None) -> str | None:
        return self.project.qualified(self.project.resolve(module, ref))

    # -- receivers -------------------------------------------------------------
    def is_app(self, module: Module, function: Function, ref: str | None, outer: bool) -> bool:
        """Is `ref` (a decorator's or call's receiver) a web application or router?

        `outer`: the name is evaluated in the scope enclosing `function` (decorators).
        """
        if not ref:
            return False
        verdict = self._receiver_class(module, function, ref, outer)
        if verdict is not None:
            return verdict
        last = ref.rsplit(".", 1)[-1]
        return any(fnmatchcase(last, pattern) for pattern in self.config.router_names)

    def _receiver_class(self, module: Module, function: Function, ref: str, outer: bool) -> bool | None:
        """True/False when the receiver's class is known, None when it is not."""
        if "." in ref:
            return None
        scope = function
        if outer and function.qualname != "<module>":
            parent = function.qualname.rpartition(".")[0]
            scope = module.functions.get(parent) if parent else module.functions.get("<module>")
        if scope is not None and scope.qualname != "<module>":
            for binding in reversed(scope.bindings):
                if binding.name == ref:
                    return self._value_class(module, binding.value)
            param = scope.param(ref)
            if param is not None:
                if param.annotation is not None and param.annotation.core:
                    return self._class_verdict(module, param.annotation.core[0])
                return None
        symbol = self.project.resolve(module, ref)
        if symbol is None:
            return None
        if symbol.kind == "variable":
            target = self.project.modules.get(symbol.module)
            if target is None:
                return None
            return self._value_class(target, target.variables.get(symbol.qualname))
        if symbol.kind in ("function", "class", "module"):
            return False
        return None

    def _value_class(self, module: Module, value: Value | None) -> bool | None:
        if value is None:
            return None
        if value.kind == "call" and value.ref:
            return self._class_verdict(module, value.ref)
        return None

    def _class_verdict(self, module: Module, ref: str) -> bool | None:
        symbol = self.project.resolve(module, ref)
        if symbol is None:
            return None
        qualified = self.project.qualified(symbol)
        if qualified in self.app_classes:
            return True
        located = self.project.class_(symbol)
        if located is not None:
            return any(base in self.app_classes for base in self.project.base_names(*located))
        # An external callable we do not know (a framework's subclass, a factory):
        # fall back to the receiver's name.
        return None


def find_handlers(project: Project, config: HandlerConfig) -> dict[FunctionKey, Handler]:
    """Every request handler outside test paths, by function key (memoised per project)."""
    per_project = project.memo("handlers")
    found = per_project.get(config)
    if found is None:
        found = HandlerFinder(project, config).find()
        per_project[config] = found
    return found

