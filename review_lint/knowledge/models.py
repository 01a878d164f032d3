"""Protocol models: which classes are data contracts, their fields, and where they are built.

A protocol model is a class whose ancestors include one of the configured
bases (pydantic `BaseModel`, `TypedDict`, `NamedTuple`, `msgspec.Struct`...)
or that is (or inherits from a class) decorated with one of the configured
decorators (`dataclasses.dataclass`, `attrs.define`...). Inheritance is
followed through project classes in any module; fields are inherited.

A construction site is a place in the code that builds one instance: a call of
the class, a `model_validate`-style class method, `cast(Model, {...})`, or a
dict literal in a place typed as the model (a field of another site, a
`return` of a function annotated with the model, `x: Model = {...}`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterator

from ..facts import Annotation, Class, Field, Function, Span, Value, string_literal
from ..project import Module, Project, base_ref, last_name, one_object
from .types import types_of

# Class methods that build an instance from a mapping given as their first argument.
_FROM_MAPPING = {"model_validate", "parse_obj", "validate"}
# Class methods that take the fields as keyword arguments.
_FROM_KEYWORDS = {"model_construct", "construct"}
# Class methods that build an instance from data the code does not spell out.
_FROM_OPAQUE = {"from_orm", "model_validate_json", "model_validate_strings", "parse_raw", "parse_file"}
_CASTS = {"typing.cast", "typing_extensions.cast"}
_RESPONSE_MODEL = "response_model"
_FROM_ANY = _FROM_MAPPING | _FROM_KEYWORDS | _FROM_OPAQUE
_PYDANTIC_PRIVATE = {"model_config", "Config"}


def _base_ref(value: Value) -> str | None:
    """A base that can make a class a model: a call (`declarative_base()`) cannot."""
    return None if value.kind == "call" else base_ref(value)


@dataclass(slots=True)
class ModelField:
    name: str
    fact: Field
    module: Module  # where it is declared
    cls: Class
    aliases: tuple[str, ...] = ()
    # The declaration lets a site leave the field out: a default (`= None`,
    # `Field(default=...)`, `field(default_factory=...)`), or a TypedDict key that
    # is not required (`total=False`, `NotRequired[...]`).
    defaulted: bool = False
    # The default is forced by field order: in a model built with positional
    # arguments, an earlier field (own or inherited) has a default, so this one
    # could not be declared without one, and it is None, a placeholder (a default
    # with a value, `permissions: Sequence[str] | None = ()`, is a chosen one).
    forced: bool = False

    @property
    def annotation(self) -> Annotation | None:
        return self.fact.annotation

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.module.path, self.cls.qualname, self.name)


@dataclass(slots=True)
class ModelInfo:
    module: Module
    cls: Class
    ordered: bool  # positional arguments map to fields in declaration order
    fields: dict[str, ModelField] = field(default_factory=dict)
    positional: list[str] = field(default_factory=list)
    keyed: bool = False  # TypedDict: a dict, so one positional mapping argument holds the fields
    validating: bool = False  # pydantic: building it with None for a field not Optional fails

    @property
    def name(self) -> str:
        return self.cls.qualname

    def field_for_key(self, key: str) -> ModelField | None:
        found = self.fields.get(key)
        if found is not None:
            return found
        for candidate in self.fields.values():
            if key in candidate.aliases:
                return candidate
        return None


@dataclass(slots=True)
class Site:
    """One place that builds an instance of `model`.

    values: field name -> the value the site gives it. A field missing from
    values is not given by the site (omitted, or hidden in `**kwargs` or an
    opaque mapping).
    """

    model: ModelInfo
    module: Module
    function: Function
    span: Span
    form: str  # "call", "model_validate", "dict", ...
    values: dict[str, Value] = field(default_factory=dict)
    # Built from data the code does not spell out (`Model(**data)`,
    # `model_validate(raw)`, a request body, the class handed to a factory):
    # what it leaves out may well be None.
    opaque: bool = False


class Models:
    """Protocol models of a project, answered from facts and cached."""

    def __init__(
        self,
        project: Project,
        bases: list[str],
        decorators: list[str],
        ordered_bases: list[str],
        keyed_bases: list[str] | None = None,
        inspecting_functions: list[str] | None = None,
        handlers: set[tuple[str, str]] | None = None,
    ) -> None:
        self.project = project
        self.inspecting = set(inspecting_functions or ())
        self.handlers = handlers or set()
        self.bases = set(bases)
        self.decorators = set(decorators)
        self.ordered_bases = set(ordered_bases)
        self.keyed_bases = set(keyed_bases or ())
        self.types = types_of(project)
        # Memos, not plain dicts: their entries remember what they were computed from,
        # which incremental judgement needs (project.Memo).
        self._infos: dict[tuple[str, str], ModelInfo | None] = project.cache()
        self._ancestry: dict[tuple[str, str], tuple[set[str], bool]] = project.cache()
        self._aliases: dict[tuple[str, str], list[ModelInfo]] = project.cache()

    # -- classes -------------------------------------------------------------
    def class_at(self, module: Module, dotted: str | None) -> tuple[Module, Class] | None:
        """The project class `dotted` names in `module`, if any."""
        return self.types.class_at(module, dotted)

    def _decorator_name(self, module: Module, decorator: Value) -> str | None:
        ref = decorator.call.callee if decorator.kind == "call" and decorator.call is not None else decorator.ref
        return self.project.qualified(self.project.resolve(module, ref)) if ref else None

    def _ancestors(self, module: Module, cls: Class, depth: int = 0) -> tuple[set[str], bool]:
        """(qualified external/project ancestor names, decorated by a model decorator
        here or in a project ancestor)."""
        key = (module.name, cls.qualname)
        if key in self._ancestry:
            return self._ancestry[key]
        self._ancestry[key] = (set(), False)  # cycle guard
        names: set[str] = set()
        decorated = any(self._decorator_name(module, d) in self.decorators for d in cls.decorators)
        if depth < 30:
            for base in cls.bases:
                ref = _base_ref(base)
                if not ref:
                    continue
                symbol = self.project.resolve(module, ref)
                name = self.project.qualified(symbol) or ref
                names.add(name)
                located = self.project.class_(symbol) if symbol is not None else None
                if located is not None:
                    more, more_decorated = self._ancestors(located[0], located[1], depth + 1)
                    names |= more
                    decorated = decorated or more_decorated
        self._ancestry[key] = (names, decorated)
        return names, decorated

    def project_bases(self, module: Module, cls: Class) -> list[tuple[Module, Class]]:
        return self.types.project_bases(module, cls)

    # -- models --------------------------------------------------------------
    def info(self, module: Module, cls: Class) -> ModelInfo | None:
        """The model `cls` declares, or None for a class that is not a protocol model."""
        key = (module.name, cls.qualname)
        if key in self._infos:
            return self._infos[key]
        self._infos[key] = None
        ancestors, decorated = self._ancestors(module, cls)
        if not decorated and not (ancestors & self.bases):
            self._infos[key] = None  # stored again: a memo entry's last store ends its computation
            return None
        ordered = decorated or bool(ancestors & self.ordered_bases)
        keyed = bool(ancestors & self.keyed_bases)
        pydantic = not decorated and not ordered and not keyed
        info = ModelInfo(module, cls, ordered, keyed=keyed, validating=pydantic)
        for base_module, base in reversed(self.project_bases(module, cls)):
            inherited = self.info(base_module, base)
            if inherited is None:
                continue
            for name, model_field in inherited.fields.items():
                info.fields[name] = model_field
                if name in inherited.positional and name not in info.positional:
                    info.positional.append(name)
        keyword_only = self._keyword_only_class(module, cls)
        for fact in cls.fields:
            annotation = fact.annotation
            if annotation is None:
                if not _is_attrs_field(fact.value):
                    continue
            else:
                core = last_name(annotation.core[0]) if len(annotation.core) == 1 else ""
                if "ClassVar" in annotation.wrappers or core == "ClassVar":
                    continue
                if core == "KW_ONLY":
                    keyword_only = True
                    continue
            if pydantic and (fact.name.startswith("_") or fact.name in _PYDANTIC_PRIVATE):
                continue
            aliases = _aliases(fact.value) if pydantic else ()
            defaulted = _key_not_required(cls, annotation) if keyed else _has_default(fact.value)
            info.fields[fact.name] = ModelField(fact.name, fact, module, cls, aliases, defaulted)
            if ordered and not keyword_only and not _keyword_only(fact.value) and fact.name not in info.positional:
                info.positional.append(fact.name)
        if not ordered and "root" in info.fields:  # pydantic RootModel: the one positional argument
            info.positional = ["root"]
        for index, name in enumerate(info.positional):
            own = info.fields[name]
            if own.cls is cls and own.defaulted and _defaults_to_none(own.fact.value):
                own.forced = any(info.fields[earlier].defaulted for earlier in info.positional[:index])
        self._infos[key] = info
        return info

    def _keyword_only_class(self, module: Module, cls: Class) -> bool:
        """`@dataclass(kw_only=True)`, `@attrs.define(kw_only=True)`, `class S(Struct,
        kw_only=True)`: no field takes a positional argument."""
        for decorator in cls.decorators:
            if decorator.kind == "call" and decorator.call is not None:
                flag = decorator.call.kwarg("kw_only")
                if flag is not None and flag.text == "True" and self._decorator_name(module, decorator) in self.decorators:
                    return True
        return any(key == "kw_only" and value.text == "True" for key, value in cls.keywords)

    def model_at(self, module: Module, dotted: str | None) -> ModelInfo | None:
        if not dotted or dotted.rsplit(".", 1)[-1] not in self.model_names:
            return None
        located = self.class_at(module, dotted)
        return self.info(*located) if located is not None else None

    @functools.cached_property
    def model_names(self) -> frozenset[str]:
        """Every last name under which code can refer to a model class: the classes'
        own names, and the local names of imports that bring one in (`import ... as`),
        followed through re-exports. A dotted name whose last part is not here cannot
        resolve to a model, so most calls are dismissed without resolving them."""
        # Each module's model classes: a project memo whose entries outlive an edit that
        # changes none of what they read (incremental.py), under the options they depend on.
        by_module = self.project.memo("model-classes", kept=True)
        context = (frozenset(self.bases), frozenset(self.decorators), frozenset(self.ordered_bases),
                   frozenset(self.keyed_bases))
        names: set[str] = set()
        for module in self.project.all_modules:
            key = (context, module.path)
            found = by_module.get(key)
            if found is None:
                found = by_module[key] = frozenset(
                    cls.name for cls in module.facts.classes if self.info(module, cls) is not None)
            names |= found
        imported_as = self.project.index("models-import-locals", _import_locals)
        pending = list(names)
        while pending:
            for local in imported_as.get(pending.pop()):
                if local not in names:
                    names.add(local)
                    pending.append(local)
        return frozenset(names)

    def models_of(self, module: Module, annotation: Annotation | None) -> list[ModelInfo]:
        """The models an annotation names (unwrapping Optional, list[...], Annotated...)."""
        if annotation is None:
            return []
        found = []
        for name in annotation.core:
            info = self.model_at(module, name)
            if info is not None:
                found.append(info)
            else:
                found.extend(self._alias_models(module, name))
        return found

    def _alias_models(self, module: Module, name: str) -> list[ModelInfo]:
        """Models named by a module-level type alias (`Body = Annotated[Model, ...]`,
        `Actions = Union[A, B]`, `Console = Stream | Media`)."""
        key = (module.name, "alias:" + name)
        cached = self._aliases.get(key)
        if cached is not None:
            return cached
        self._aliases[key] = []
        symbol = self.project.resolve(module, name)
        found: list[ModelInfo] = []
        alias = self.project.alias(symbol) if symbol is not None and "." not in symbol.qualname else None
        if alias is not None:
            for located in self.types.classes_named(self.project.modules[symbol.module], alias.core):
                info = self.info(*located)
                if info is not None:
                    found.append(info)
        self._aliases[key] = found
        return found

    def attributes(self, module: Module, cls: Class) -> dict[str, tuple[Module, Class, Field]]:
        """Class-level declarations of any class, inherited through project bases."""
        return self.types.declared(module, cls)

    def method(self, module: Module, cls: Class, name: str) -> tuple[Module, Function] | None:
        return self.types.method(module, cls, name)

    # -- construction sites --------------------------------------------------
    def sites(self, module: Module) -> Iterator[Site]:
        """Every construction site of a protocol model in one module."""
        routes = self._handler_routes(module)
        for function in module.facts.functions:
            for call in function.calls:
                site = self._call_site(module, function, call)
                if site is not None:
                    yield from self._with_nested(site)
                elif call.args or call.kwargs:
                    yield from self._escapes(module, function, call, id(call) in routes)
            if (module.name, function.qualname) in self.handlers:
                yield from self._handler_sites(module, function)
            for binding in function.bindings:
                if binding.value is not None and binding.annotation is not None:
                    yield from self._typed_literal(module, function, binding.annotation, binding.value, "annotated")
                    if self._decoded(module, binding.value):
                        # `snapshot: Session = json.loads(text)`: data read from outside, typed as the model.
                        for model in self.models_of(module, binding.annotation):
                            yield Site(model, module, function, binding.span, "decoded", opaque=True)
            if function.returns is not None:
                for exit in function.exits:
                    if exit.kind == "return" and exit.value is not None:
                        yield from self._typed_literal(module, function, function.returns, exit.value, "return")

    def _decoded(self, module: Module, value: Value) -> bool:
        """A call of a function from outside the project (`json.loads(...)`,
        `yaml.safe_load(...)`): its result is data the code does not spell out."""
        call = value.call if value.kind in ("call", "await") else None
        if call is None or not call.callee:
            return False
        symbol = self.project.resolve(module, call.callee)
        return symbol is not None and symbol.external and self.model_at(module, call.callee) is None

    def _escapes(self, module: Module, function: Function, call, route: bool = False) -> list[Site]:
        """The class itself handed to a call (`fetch(model=Row)`, `response_model=Out`,
        `Depends(Query)`, `TypeAdapter(Out)`): whatever that call builds, from data
        this code does not spell out, is a construction site that fills nothing. A
        handler's route decorator is the exception for its `response_model`: what the
        handler returns builds that (`_handler_sites`)."""
        if call.callee in self.inspecting or call.method in self.inspecting:
            return []
        found = []
        given = (*call.args, *(v for k, v in call.kwargs if not (route and k == _RESPONSE_MODEL)))
        for value in given:
            if value.kind in ("name", "attr"):
                model = self.model_at(module, value.ref)
                if model is not None:
                    found.append(Site(model, module, function, call.span, "escape", opaque=True))
        return found

    def _handler_routes(self, module: Module) -> set[int]:
        """The decorator calls (by identity) that route a request handler of this module."""
        return {
            id(decorator.call) for function in module.facts.functions
            if (module.name, function.qualname) in self.handlers
            for decorator in function.decorators if decorator.call is not None
        }

    def _handler_sites(self, module: Module, function: Function) -> Iterator[Site]:
        """A request handler's model-typed parameters are built from the request. Its
        response model (the return annotation, or the route's `response_model=`) is an
        output protocol built from what the handler returns: a dict literal is a site
        that fills its keys, a constructor call of the model is a site of its own, and
        anything else (an ORM row, a variable) fills what the code does not show."""
        for param in function.params:
            for model in self.models_of(module, param.annotation):
                yield Site(model, module, function, function.span, "request", opaque=True)
        annotated = self.models_of(module, function.returns)
        returned = [(m, False) for m in annotated]
        returned += [(m, True) for m in self._response_models(module, function) if m not in annotated]
        values = [e.value for e in function.exits if e.kind == "return" and e.value is not None]
        for model, routed in returned:
            for value in values:
                if value.kind == "dict" and routed:
                    yield from self._with_nested(self._dict_site(model, module, function, value, "response"))
                elif not (value.kind in ("dict", "none") or self._builds(module, value, model)):
                    yield Site(model, module, function, value.span, "response", opaque=True)
                    break

    def _response_models(self, module: Module, function: Function) -> list[ModelInfo]:
        found = []
        for decorator in function.decorators:
            given = decorator.call.kwarg(_RESPONSE_MODEL) if decorator.call is not None else None
            if given is not None and given.kind in ("name", "attr"):
                model = self.model_at(module, given.ref)
                if model is not None:
                    found.append(model)
        return found

    def _builds(self, module: Module, value: Value, model: ModelInfo) -> bool:
        """`Model(...)` (or a subclass's constructor): a construction site of its own."""
        call = value.call if value.kind in ("call", "await") else None
        built = self.model_at(module, call.callee) if call is not None and call.callee else None
        return built is not None and any(cls is model.cls for _, cls in self.types.mro(built.module, built.cls))

    def _typed_literal(self, module, function, annotation: Annotation, value: Value, form: str) -> Iterator[Site]:
        for model in self.models_of(module, annotation):
            for literal in _dict_literals(value, annotation.container):
                yield from self._with_nested(self._dict_site(model, module, function, literal, form))

    def _dict_site(self, model: ModelInfo, module, function, literal: Value, form: str) -> Site:
        site = Site(model, module, function, literal.span, form, opaque=literal.opaque_entries)
        if not literal.opaque_entries:
            self._give(site, literal.entries)
        return site

    def _give(self, site: Site, pairs) -> None:
        for key, value in pairs:
            target = site.model.field_for_key(key)
            if target is not None:
                site.values[target.name] = value

    def _call_site(self, module: Module, function: Function, call) -> Site | None:
        callee = call.callee
        if callee is None:
            return None
        model = self.model_at(module, callee) if callee != "cls" else self._own_class(module, function)
        if model is not None:
            site = Site(model, module, function, call.span, "call", opaque=call.star_kwargs or call.star_args)
            if model.keyed and len(call.args) == 1 and not call.kwargs:
                literal = call.args[0]
                if literal.kind == "dict" and not literal.opaque_entries:
                    self._give(site, literal.entries)
                return site
            positional = call.args if not call.star_args else ()  # a `*spread` hides the order
            for name, value in zip(model.positional, positional):
                site.values[name] = value
            self._give(site, call.kwargs)
            return site
        head, _, method = callee.rpartition(".")
        if head and method in _FROM_ANY:
            model = self.model_at(module, head)
            if model is None:
                return None
            site = Site(model, module, function, call.span, method, opaque=True)
            if method in _FROM_KEYWORDS:
                self._give(site, call.kwargs)
                site.opaque = call.star_kwargs
            elif method in _FROM_MAPPING:
                literal = call.args[0] if call.args else call.kwarg("obj")
                if literal is not None and literal.kind == "dict" and not literal.opaque_entries:
                    self._give(site, literal.entries)
                    site.opaque = False
            return site
        if len(call.args) == 2:
            # `cast(Model, value)`: the model first, a cheap refusal for most calls.
            target, literal = call.args
            model = self.model_at(module, target.ref) if target.kind in ("name", "attr") else None
            if model is not None and self.project.qualified(self.project.resolve(module, callee)) in _CASTS:
                if literal.kind == "dict":
                    return self._dict_site(model, module, function, literal, "cast")
                return Site(model, module, function, call.span, "cast", opaque=True)
        return None

    def _with_nested(self, site: Site, depth: int = 0) -> Iterator[Site]:
        """The site, then the dict literals it puts into model-typed fields."""
        yield site
        if depth > 10:
            return
        for name, value in site.values.items():
            if value.kind not in ("dict", "seq"):
                continue
            model_field = site.model.fields.get(name)
            if model_field is None or model_field.annotation is None:
                continue
            for model in self.models_of(model_field.module, model_field.annotation):
                for literal in _dict_literals(value, model_field.annotation.container):
                    nested = self._dict_site(model, site.module, site.function, literal, "nested")
                    yield from self._with_nested(nested, depth + 1)

    def _own_class(self, module: Module, function: Function) -> ModelInfo | None:
        """`cls(...)` in a classmethod of a model builds that model."""
        if function.class_qualname is None or not function.params or function.params[0].name != "cls":
            return None
        cls = module.classes.get(function.class_qualname)
        return self.info(module, cls) if cls is not None else None

    def all_sites(self) -> list[Site]:
        """Construction sites outside test paths (tests build whatever they like).

        A model built from opaque data builds its model-typed fields from that
        data too, so each of those models gets an opaque site as well."""
        found: list[Site] = []
        if not self.model_names:  # every kind of site is of a model some name refers to
            return found
        # Each module's sites: a project memo whose entries outlive an edit that changes
        # none of what they read (incremental.py), under everything else they depend on.
        by_module = self.project.memo("model-sites", kept=True)
        context = one_object((frozenset(self.bases), frozenset(self.decorators), frozenset(self.ordered_bases),
                             frozenset(self.keyed_bases), frozenset(self.inspecting), frozenset(self.handlers),
                             self.model_names))
        for module in self.project.judged_modules():
            key = (context, module.path)
            sites = by_module.get(key)
            if sites is None:
                sites = by_module[key] = list(self.sites(module))
            found.extend(sites)
        pending = [site for site in found if site.opaque]
        seen: set[tuple[str, str]] = set()
        while pending:
            site = pending.pop()
            for model_field in site.model.fields.values():
                for model in self.models_of(model_field.module, model_field.annotation):
                    key = (model.module.name, model.name)
                    if key in seen:
                        continue
                    seen.add(key)
                    derived = Site(model, site.module, site.function, site.span, "nested-opaque", opaque=True)
                    found.append(derived)
                    pending.append(derived)
        return found


def _import_locals(module: Module) -> Iterator[tuple[str, str]]:
    """The local name of each import of a module, under the last name of what it imports (a
    project index: model_names asks after every edit in the language server)."""
    for fact in module.facts.imports:
        yield last_name(fact.name or fact.module), fact.local


def _dict_literals(value: Value, container: bool) -> Iterator[Value]:
    """The dict literals that are instances of a model: the value itself, or, for
    `list[Model]`-like annotations, the elements of a list literal (a dict literal
    for `dict[str, Model]` is a mapping of instances, not one)."""
    if value.kind == "dict" and not container:
        yield value
    elif value.kind == "seq" and container:
        for element in value.elements:
            if element.kind == "dict":
                yield element


def _call_name(value: Value | None) -> str:
    if value is None or value.kind != "call" or value.call is None:
        return ""
    return (value.call.callee or value.call.method or "").rsplit(".", 1)[-1]


def _is_attrs_field(value: Value | None) -> bool:
    return _call_name(value) in ("ib", "attrib")


def _keyword_only(value: Value | None) -> bool:
    if _call_name(value) not in ("field", "ib", "attrib", "Field"):
        return False
    flag = value.call.kwarg("kw_only")
    return flag is not None and flag.text == "True"


# Field specifiers whose call gives a default only through these keywords (or, for
# pydantic's `Field` and attrs' `ib`/`attrib`, a first positional argument).
_SPECIFIERS = {"Field", "field", "ib", "attrib", "attr"}
_DEFAULT_KEYWORDS = ("default", "default_factory", "factory")


def _has_default(value: Value | None) -> bool:
    """Whether a class-level declaration's value gives the field a default. A field
    specifier (`Field(...)`, `field(...)`, `attr.ib(...)`) gives one only through
    `default`/`default_factory`/`factory` or a first positional argument other than
    `...`; any other value is the default itself."""
    if value is None:
        return False
    if _call_name(value) not in _SPECIFIERS:
        return True
    call = value.call
    for key in _DEFAULT_KEYWORDS:
        given = call.kwarg(key)
        if given is not None:
            return given.text != "..."
    if call.args and _call_name(value) in ("Field", "ib", "attrib"):
        return call.args[0].text != "..."
    return False


def _defaults_to_none(value: Value | None) -> bool:
    """The default a declaration gives is None: `= None`, `Field(None)`, `field(default=None)`."""
    if value is None:
        return False
    if value.kind == "none" or _call_name(value) not in _SPECIFIERS:
        return value.kind == "none"
    given = value.call.kwarg("default")
    if given is None and value.call.args and _call_name(value) in ("Field", "ib", "attrib"):
        given = value.call.args[0]
    return given is not None and given.kind == "none"


def _key_not_required(cls: Class, annotation: Annotation | None) -> bool:
    """A TypedDict key a dict may leave out: `NotRequired[...]`, or a class declared
    `total=False` unless the key is `Required[...]`."""
    wrappers = annotation.wrappers if annotation is not None else ()
    if "NotRequired" in wrappers:
        return True
    if "Required" in wrappers:
        return False
    return any(key == "total" and value.text == "False" for key, value in cls.keywords)


def _aliases(value: Value | None) -> tuple[str, ...]:
    if _call_name(value) != "Field":
        return ()
    found = []
    for key in ("alias", "validation_alias"):
        text = string_literal(value.call.kwarg(key))
        if text:
            found.append(text)
    return tuple(found)


__all__ = ["Models", "ModelInfo", "ModelField", "Site"]
