"""What is a request handler: the functions a web framework calls to serve a request.

Recognised statically, from facts alone, for the shapes of FastAPI/Starlette,
Flask/Quart, Django/DRF, aiohttp, Litestar, Sanic, Pyramid and cornice. Everything
that names a framework is data (`HandlerConfig`), so a team can add its own framework in
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
  parameter annotations: FastAPI runs them per request;
- subscribers (`config.add_subscriber(fn, E)`, `@subscriber(E)`) of `request-events`
  and of project events that carry the request;
- what a project's registrar registers: a function whose parameter reaches one of the
  slots above registers its callers' arguments, a decorator built on one what it
  decorates (`_Slot`);
- a handler decorator on a class (cornice's `@resource`) makes it a view class; a
  registration naming its method (`attr="show"`, cornice's `klass=`) picks that one.

A registered name may be a variable holding the handler (`view = login_required(show)`)
or a bound method of a project instance (`Handler().stream`). A project's vendored copy
of a framework (`kinto.core.cornice`) counts as the framework.

A qualified name ending in "." in any of these lists is a prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Callable

from ..facts import Call, Class, Function, Span, Value, member_path, string_literal
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
    subscriber_methods: tuple[str, ...]
    subscriber_decorators: tuple[str, ...]
    request_events: tuple[str, ...]
    view_class_attributes: tuple[str, ...]
    view_class_hooks: tuple[str, ...]

    # The option names of RL001's YAML, in the order of the fields above.
    OPTION_NAMES = (
        "app-classes", "decorator-methods", "registration-methods", "handler-keywords", "route-functions",
        "handler-decorators", "handler-base-classes", "handler-methods", "dependency-functions", "router-names",
        "subscriber-methods", "subscriber-decorators", "request-events", "view-class-attributes",
        "view-class-hooks",
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
    # The function's own key: `key` is a bound key (CallGraph.bound_method) for a method
    # the view class inherits and runs on its own instance.
    defined: FunctionKey | None = None
    # A hook the framework calls on a class it builds per request (a serializer's `validate`),
    # not a view of its own.
    hook: bool = False

    @property
    def name(self) -> str:
        return self.key[1]


# Which methods of a registered class serve requests (`views`): None for its handler
# methods; a name the registration gives (Pyramid's `attr="show"`) for that one; _COMPUTED
# when the registration computes the name, for any `<prefix>_<verb>` method as well.
_COMPUTED = "*"
_HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})


@dataclass(frozen=True)
class _Slot:
    """A parameter a function registers as a handler (`register_resource(resource_cls)`
    calling `service.add_view(..., klass=resource_cls)`): what its callers pass there,
    or the class a decorator built on it decorates, is registered in turn."""

    function: FunctionKey
    param: str
    how: str
    views: str | None = None


class _Names:
    """Qualified-name matching with "prefix." entries and a last-part prefilter.

    A name also matches through a project's vendored copy of the framework: the
    copy's modules end in the framework's own path (kinto ships cornice as
    `kinto.core.cornice`, so `kinto.core.cornice.service.Service` is
    `cornice.service.Service`)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.exact = {n for n in names if not n.endswith(".")}
        self.prefixes = tuple(n for n in names if n.endswith("."))
        self.last_parts = {n.rsplit(".", 1)[-1] for n in self.exact}

    def __contains__(self, name: str | None) -> bool:
        if not name:
            return False
        if self._matches(name):
            return True
        parts = name.split(".")
        return any(self._matches(".".join(parts[cut:])) for cut in range(1, len(parts) - 1))

    def _matches(self, name: str) -> bool:
        return name in self.exact or name.startswith(self.prefixes)

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
        self.subscriber_methods = set(config.subscriber_methods)
        self.subscriber_decorators = _Names(config.subscriber_decorators)
        self.request_events = _Names(config.request_events)
        self.view_class_attributes = config.view_class_attributes
        self.view_class_hooks = config.view_class_hooks
        self.handlers: dict[FunctionKey, Handler] = {}
        self._decorators_by_name: dict[str, list[tuple[Module, Function | Class, Value]]] | None = None
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
        slots: list[_Slot] = []
        for module in self.project.judged_modules():
            key = (context, module.path)
            found = registered.get(key)
            if found is None:
                registrations, module_slots = self._registered_in(module)
                # Each located once, kept with the entry: most are the same after an edit.
                found = registered[key] = ([(k, self._handler(k, how, hook)) for k, how, hook in registrations],
                                           module_slots)
            for function_key, handler in found[0]:
                self._register(function_key, handler)
            slots += found[1]
        self._through_registrars(slots)
        return self.handlers

    def _registered_in(self, module: Module) -> tuple[list[tuple[FunctionKey, str, bool]], list[_Slot]]:
        """(function, how, hook) for each handler one module registers, and the parameters its
        functions register (`_Slot`)."""
        self._found: list[tuple[FunctionKey, str, bool]] = []
        self._slots: list[_Slot] = []
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
            self._class_decorators(module, cls)
        return self._found, self._slots

    def _class_decorators(self, module: Module, cls: Class) -> None:
        """A handler decorator on a class makes it a view class: cornice's `@resource(path=...)`,
        Pyramid's `@view_config(attr="show")` (that method only)."""
        for decorator in cls.decorators:
            call = decorator.call if decorator.kind == "call" else None
            ref = call.callee if call is not None else decorator.ref
            if self.handler_decorators.maybe(ref) and self._qualified(module, ref) in self.handler_decorators:
                views = _named_view(call) if call is not None else None
                self._view_class(module, cls, f"view class `{cls.qualname}` (decorator `{ref}`)", views)

    def _add(self, key: FunctionKey | None, how: str, hook: bool = False) -> None:
        if key is not None:
            self._found.append((key, how, hook))

    def _register(self, key: FunctionKey, handler: Handler | None) -> None:
        """The first registration of a function makes it a handler (None: not one of the project's)."""
        if key not in self.handlers and handler is not None:
            self.handlers[key] = handler

    def _handler(self, key: FunctionKey, how: str, hook: bool = False) -> Handler | None:
        """The handler a registration makes, unless its function is not found or is test code."""
        located = self.graph.function(key)
        if located is None:
            return None
        module, function = located
        if self.project.is_test(module.path):
            return None
        return Handler(key, module.path, function.span, how, (module.name, function.qualname), hook)

    def _view_class(self, module: Module, cls: Class, how: str, views: str | None = None) -> None:
        if views not in (None, _COMPUTED):
            self._add(self.graph.bound_method(module, cls, views), how)
            return
        for owner_module, owner in self.graph.mro(module, cls):
            for name, qualname in owner.methods.items():
                if name in self.handler_methods or (views == _COMPUTED and _verb_named(name)):
                    self._add(self._as_bound(module, cls, owner_module, name, qualname), how)
        for attribute in self.view_class_attributes:
            built = self.graph.types.declared_class(module, cls, attribute)
            if built is not None:
                self._built_per_request(*built, f"`{built[1].qualname}`, the `{attribute}` of view class "
                                                f"`{cls.qualname}`", [])
            for built in self._returned_classes(module, cls, f"get_{attribute}"):
                self._built_per_request(*built, f"`{built[1].qualname}`, returned by `{cls.qualname}."
                                                f"get_{attribute}`", [])

    def _returned_classes(self, module: Module, cls: Class, name: str) -> list[tuple[Module, Class]]:
        """The project classes a view's `get_serializer_class()` (`get_form_class()`...) returns
        by name: `if self.action == "list": return OrderListSerializer`."""
        method = self.graph.types.method(module, cls, name)
        if method is None:
            return []
        found = []
        for exit in method[1].exits:
            value = exit.value if exit.kind == "return" else None
            located = self.graph.types.class_at(method[0], value.ref) if value is not None and value.kind in (
                "name", "attr") else None
            if located is not None and not any(located[1] is other[1] for other in found):
                found.append(located)
        return found

    def _built_per_request(self, module: Module, cls: Class, how: str, seen: list[Class]) -> None:
        """The hooks a framework calls on a class it builds per request (a view's serializer or
        form), and on the project classes its declarations build (nested serializers, fields)."""
        if any(cls is other for other in seen) or len(seen) > 3:
            return
        seen.append(cls)
        for owner_module, owner in self.graph.mro(module, cls):
            for name, qualname in owner.methods.items():
                if any(fnmatchcase(name, hook) for hook in self.view_class_hooks):
                    self._add(self._as_bound(module, cls, owner_module, name, qualname), how, hook=True)
        for name in self.graph.types.declared(module, cls):
            built = self.graph.types.declared_class(module, cls, name, built=True)
            if built is not None:
                self._built_per_request(*built, f"`{built[1].qualname}`, declared in `{cls.qualname}`", seen)

    def _as_bound(self, module: Module, cls: Class, owner_module: Module, name: str, qualname: str) -> FunctionKey:
        """An inherited handler method is run on the view class's instance: its bound key
        when that matters (its `self.x()` calls reach the view class's overrides)."""
        key = (owner_module.name, qualname)
        if self.graph.method(module, cls, name) == key:
            return self.graph.bound_method(module, cls, name) or key
        return key

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
            elif call is not None and self.subscriber_decorators.maybe(ref) \
                    and self._qualified(module, ref) in self.subscriber_decorators:
                event = next((a.ref for a in call.args if self._is_request_event(module, a)), None)
                if event is not None:
                    self._add(key, f"subscriber of the request event `{event}` (`@{ref}`)")

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
        registration = self.registration_methods | self.subscriber_methods
        last_parts = self.route_functions.last_parts | self.dependencies.last_parts
        if self.route_functions.prefixes or self.dependencies.prefixes:
            return lambda call: (call.method in registration and call.receiver is not None) or bool(call.callee)
        return lambda call: ((call.method in registration and call.receiver is not None)
                             or (bool(call.callee) and call.callee.rsplit(".", 1)[-1] in last_parts))

    def _call(self, module: Module, function: Function, call: Call) -> None:
        if call.method in self.subscriber_methods and call.receiver is not None:
            self._subscriber(module, function, call)
            return
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

    def _subscriber(self, module: Module, function: Function, call: Call) -> None:
        """`config.add_subscriber(fn, NewRequest)`: `fn` serves requests when the event is sent
        while one is served."""
        event = call.args[1] if len(call.args) > 1 else call.kwarg("iface")
        if (call.args and event is not None and self._is_request_event(module, event)
                and self.is_app(module, function, call.receiver.ref, outer=False)):
            self._targets_of(module, function, call.args[0], f"subscriber of the request event `{event.ref}`", 0)

    def _is_request_event(self, module: Module, value: Value) -> bool:
        """A configured request event, a project class deriving from one, or a project event
        that carries the request (its `__init__` takes `request`): sent while one is served."""
        if value.kind not in ("name", "attr") or not value.ref:
            return False
        symbol = self.project.resolve(module, value.ref)
        if self.project.qualified(symbol) in self.request_events:
            return True
        located = self.project.class_(symbol) if symbol is not None else None
        if located is None:
            return False
        if any(base in self.request_events for base in self.project.base_names(*located)):
            return True
        init = self.graph.method(located[0], located[1], "__init__")
        found = self.graph.function(init) if init is not None else None
        return found is not None and found[1].param("request") is not None

    def _is_dependency(self, module: Module, callee: str) -> bool:
        if not self.dependencies.maybe(callee):
            return False
        symbol = self.project.resolve(module, callee)
        if symbol is None:
            return True  # an unresolvable `Depends` (a star import) still reads as one
        return self.project.qualified(symbol) in self.dependencies

    def _targets(self, module: Module, function: Function, call: Call, how: str) -> None:
        views = _named_view(call)
        for value in call.args:
            self._targets_of(module, function, value, how, 0, views)
        for name, value in call.kwargs:
            if name in self.keywords:
                self._targets_of(module, function, value, how, 0, views)

    def _targets_of(self, module: Module, function: Function, value: Value, how: str, depth: int,
                    views: str | None = None) -> None:
        if value.kind in ("name", "attr") and value.ref:
            key = self._function_ref(module, function, value.ref)
            if key is not None:
                self._add(key, how)
                return
            if value.kind == "name" and self._local_target(module, function, value.ref, how, depth, views):
                return
            if value.kind == "attr" and self._instance_method(module, function, value, how):
                return
            located = self.graph.resolve_class(module, value.ref)
            if located is not None:
                self._view_class(located[0], located[1], f"{how} (class `{located[1].qualname}`)", views)
        elif value.kind == "member" and value.call is not None:
            self._instance_method(module, function, value, how)
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
                self._targets_of(module, function, argument, how, depth + 1, views)

    def _instance_method(self, module: Module, function: Function, value: Value, how: str) -> bool:
        """A bound method of a project instance as the handler: aiohttp's
        `web.get(path, Handler().stream_content)`, or `handler.stream_content` of a local
        `handler = Handler()`."""
        if value.kind == "member":
            located = self.graph.resolve_class(module, value.call.callee) if value.call.callee else None
            path = member_path(value)
        else:
            head, _, rest = (value.ref or "").partition(".")
            located = None if head in ("self", "cls") else self.graph.types.class_of(module, function, head)
            path = rest.split(".")
        if located is None or len(path) != 1:
            return False
        self._add(self.graph.method(located[0], located[1], path[0]),
                  f"{how} (a method of an instance of `{located[1].qualname}`)")
        return True

    def _local_target(self, module: Module, function: Function, name: str, how: str, depth: int,
                      views: str | None) -> bool:
        """A name local to `function` or a function enclosing it: a parameter becomes a slot
        (`_Slot`), a variable is followed to its value (`view = login_required(show)`)."""
        scope: Function | None = function
        while scope is not None and scope.qualname != "<module>":
            if scope.param(name) is not None:
                self._slots.append(_Slot(key_of(module, scope), name, how, views))
                return True
            binding = next((b for b in reversed(scope.bindings) if b.name == name), None)
            if binding is not None:
                if binding.value is not None and depth < 2:
                    self._targets_of(module, scope, binding.value, how, depth + 1, views)
                return True
            scope = _enclosing(module, scope)
        return False

    # -- registrars --------------------------------------------------------------
    def _through_registrars(self, slots: list[_Slot]) -> None:
        """A project function registering its parameter registers what its callers pass
        there (Flask's `register_api(view, ...)` helper, kinto's `register_resource(cls)`),
        and a decorator built on one registers what it decorates (`@resource.register()`)."""
        seen: set[tuple[FunctionKey, str]] = set()
        queue = list(slots)
        while queue:
            slot = queue.pop()
            located = self.graph.function(slot.function)
            if (slot.function, slot.param) in seen or located is None:
                continue
            seen.add((slot.function, slot.param))
            self._found, self._slots = [], []
            self._passed_to(slot, *located)
            self._decorated_with(slot, *located)
            for key, how, hook in self._found:
                self._register(key, self._handler(key, how, hook))
            queue += self._slots

    def _passed_to(self, slot: _Slot, module: Module, function: Function) -> None:
        names = _positional_names(function)
        index = names.index(slot.param) if slot.param in names else None
        how = f"{slot.how}, through `{function.qualname}`"
        for caller_module, caller in self.graph.calling(function.name):
            if self.project.is_test(caller_module.path):
                continue
            for call in caller.calls:
                if last_name(call.callee or call.method or "") != function.name \
                        or self.graph.target(caller_module, caller, call) != slot.function:
                    continue
                argument = call.kwarg(slot.param)
                if argument is None and index is not None and index < len(call.args):
                    argument = call.args[index]
                if argument is not None:
                    self._targets_of(caller_module, caller, argument, how, 0, slot.views)

    def _decorated_with(self, slot: _Slot, module: Module, function: Function) -> None:
        """What `@function` decorates, or `@factory(...)` when an enclosing `factory`
        returns `function`, when the slot is the decorated object's parameter."""
        names = _positional_names(function)
        if not names or names[0] != slot.param:
            return
        appliers = [(function.name, slot.function, False)]
        factory = _enclosing(module, function)
        if factory is not None and any(e.kind == "return" and e.value is not None and e.value.ref == function.name
                                       for e in factory.exits):
            appliers.append((factory.name, key_of(module, factory), True))
        for name, key, called in appliers:
            for owner_module, owner, decorator in self._decorator_index().get(name, ()):
                ref = decorator.call.callee if decorator.kind == "call" and decorator.call is not None \
                    else decorator.ref
                top = owner_module.functions.get("<module>")
                if called != (decorator.kind == "call") or not ref or top is None \
                        or self._function_ref(owner_module, top, ref) != key:
                    continue
                how = f"{slot.how}, through `@{ref}`"
                if isinstance(owner, Class):
                    self._view_class(owner_module, owner, f"{how} (class `{owner.qualname}`)", slot.views)
                else:
                    self._add(key_of(owner_module, owner), how)

    def _decorator_index(self) -> dict[str, list[tuple[Module, Function | Class, Value]]]:
        """Decorated functions and classes by the decorator's last name."""
        index = self._decorators_by_name
        if index is None:
            index = self._decorators_by_name = {}
            for module in self.project.judged_modules():
                owners: list[Function | Class] = [f for f in module.facts.functions if f.decorators]
                owners += [c for c in module.facts.classes if c.decorators]
                for owner in owners:
                    for decorator in owner.decorators:
                        call = decorator.call if decorator.kind == "call" else None
                        ref = call.callee if call is not None else decorator.ref
                        if ref:
                            index.setdefault(last_name(ref), []).append((module, owner, decorator))
        return index

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


def _named_view(call: Call) -> str | None:
    """The view method a registration names beside the class it registers: Pyramid's
    `add_view(Cls, attr="show")`, cornice's `add_view("GET", "show", klass=Cls)`; _COMPUTED
    when that name is not a literal (kinto's `add_view(verb, view, klass=cls)`)."""
    named = call.kwarg("attr")
    if named is None and call.kwarg("klass") is not None:
        named = call.args[1] if len(call.args) > 1 else call.kwarg("view")
        if named is None:
            return _COMPUTED
    if named is None:
        return None
    return string_literal(named) or _COMPUTED


def _verb_named(method: str) -> bool:
    """`collection_get`, `plural_post`: a view name cornice-style resources compute."""
    prefix, _, verb = method.rpartition("_")
    return bool(prefix) and not method.startswith("_") and verb in _HTTP_VERBS


def _enclosing(module: Module, function: Function) -> Function | None:
    """The function `function` is defined in; None at module level or in a class body."""
    parent = function.qualname.rpartition(".")[0]
    return module.functions.get(parent) if parent else None


def _positional_names(function: Function) -> list[str]:
    """The parameters a positional argument fills, `self`/`cls` of a method left out."""
    names = [p.name for p in function.params if p.kind == "positional"]
    if function.class_qualname is not None and names[:1] in (["self"], ["cls"]):
        return names[1:]
    return names


def find_handlers(project: Project, config: HandlerConfig) -> dict[FunctionKey, Handler]:
    """Every request handler outside test paths, by function key (memoised per project)."""
    per_project = project.memo("handlers")
    found = per_project.get(config)
    if found is None:
        found = HandlerFinder(project, config).find()
        per_project[config] = found
    return found

