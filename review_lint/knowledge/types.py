"""Structural types: which project class a name, a base or an attribute refers to.

Every rule that asks "which class is this", "where does this method come from" or
"what does this class declare" asks here (through `types_of(project)`), so the call
graph, the models and the nullability agree. Only project classes are known:
an external base ends the walk, as it does for a reader of the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..facts import Annotation, Call, Class, Field, Function, Value, item_path, string_literal, string_of
from ..project import Module, Project, base_ref, last_name, note_reads

Located = tuple[Module, Class]
_MAX_MRO = 64
_MAX_DEPTH = 8
# Reads whose first argument is the model class they return a row of.
_READS = {"select", "query", "get", "get_or_404", "get_object_or_404", "one", "one_or_none", "first_or_404"}


_MAPPINGS = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "defaultdict", "OrderedDict"})
_SQLALCHEMY_COLUMNS = frozenset({"Column", "mapped_column", "column_property"})
_RELATIONSHIPS = frozenset({"relationship", "relation", "Relationship"})
_DJANGO_RELATIONS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField", "ParentalKey"})


@dataclass(frozen=True)
class Column:
    """What an ORM declaration says about its attribute on a row.

    `kind`: "sqlalchemy" (`Column`, `mapped_column`, `column_property`, a bare
    `Mapped[T]`), "relationship" (`relationship(...)`), or "django" (a Django
    `*Field`, `ForeignKey`, `OneToOneField`; SQLModel's and pydantic's `Field(...)`
    take the same flags and read the same).
    `nullable`: whether a row may hold None there. `target`: the related class as
    written (`"User"`, `User`, `"auth.User"`) for relations, whose attribute holds a
    row of it (a `ForeignKey`'s `<name>_id` holds the key)."""

    kind: str
    nullable: bool
    primary_key: bool = False
    unique: bool = False
    target: str | None = None


class Types:
    def __init__(self, project: Project) -> None:
        self.project = project
        # Project memos, not dicts of this object: their entries remember what they were
        # computed from, which incremental judgement needs (project.Memo).
        self._classes: dict[tuple[str, str], Located | None] = project.memo("types-classes")
        # Kept across edits: an edit rarely changes a class hierarchy, and linearising every
        # class again was a sixth of the daemon's judgement after an edit at 10,000 files.
        self._mro: dict[tuple[str, str], list[Located]] = project.memo("types-mro", kept=True)
        self._declared: dict[tuple[str, str], dict[str, tuple[Module, Class, Field]]] = project.memo("types-declared")
        self._assigned: dict[tuple[str, str, str], Located | None] = project.memo("types-assigned")
        self._assigning = 0  # how many attribute_class computations are under way, nested (not a cache)
        self._locals: dict[tuple[str, str, str], Located | None] = project.memo("types-locals")
        self._cut = 0  # answers cut short by a depth limit or a cycle so far (class_of)
        # The local names class_of is working out (a few at a time; immutable: no cache).
        self._active: frozenset[tuple[str, str, str]] = frozenset()

    # -- classes -----------------------------------------------------------
    def class_at(self, module: Module, dotted: str | None) -> Located | None:
        """The project class `dotted` names in `module`, if any."""
        if not dotted:
            return None
        key = (module.name, dotted)
        if key not in self._classes:
            symbol = self.project.resolve(module, dotted)
            self._classes[key] = self.project.class_(symbol) if symbol is not None else None
        return self._classes[key]

    def project_bases(self, module: Module, cls: Class) -> list[Located]:
        """The class's direct bases that are project classes, in declaration order."""
        found = []
        for base in cls.bases:
            located = self.class_at(module, base_ref(base))
            if located is not None and located[1] is not cls:
                found.append(located)
        return found

    def mro(self, module: Module, cls: Class) -> list[Located]:
        """The class, then its project ancestors in Python's method resolution order
        (C3); where the hierarchy has no consistent order, depth first."""
        key = (module.name, cls.qualname)
        found = self._mro.get(key)
        if found is None:
            # The entry follows from the class's bases, read from `cls`, not through its
            # module: count that module as read, or a kept entry outlives an edit of them.
            note_reads((module.path,))
            self._mro[key] = [(module, cls)]  # a cycle in the bases ends here
            found = self._mro[key] = self._linearise(module, cls)[:_MAX_MRO]
        return found

    def _linearise(self, module: Module, cls: Class) -> list[Located]:
        bases = self.project_bases(module, cls)
        sequences = [list(self.mro(*base)) for base in bases] + [list(bases)]
        merged: list[Located] = [(module, cls)]
        while any(sequences):
            for sequence in sequences:
                if not sequence:
                    continue
                head = sequence[0]
                if not any(_among(head, other[1:]) for other in sequences):
                    break
            else:
                return _depth_first(merged[0], self.mro, bases)
            if not _among(head, merged):  # a cycle in the bases can offer the class again
                merged.append(head)
            for sequence in sequences:
                if sequence and _same(sequence[0], head):
                    del sequence[0]
        return merged

    def method(self, module: Module, cls: Class, name: str) -> tuple[Module, Function] | None:
        """`name` looked up on the class as Python would, within the project."""
        for owner_module, owner in self.mro(module, cls):
            qualname = owner.methods.get(name)
            if qualname is not None:
                function = owner_module.functions.get(qualname)
                return (owner_module, function) if function is not None else None
        return None

    def getter(self, module: Module, cls: Class, name: str) -> tuple[Module, Function] | None:
        """The `@property` (or `@cached_property`) getter `name` on the class, also
        when a `@name.setter` defined after it is what the method table keeps."""
        found = self.method(module, cls, name)
        if found is None:
            return None
        owner_module, function = found
        for candidate in (function, *owner_module.facts.functions):
            if candidate.qualname == function.qualname and any(
                last_name(d.ref) in ("property", "cached_property") for d in candidate.decorators
            ):
                return owner_module, candidate
        return None

    def declared(self, module: Module, cls: Class) -> dict[str, tuple[Module, Class, Field]]:
        """Class-level declarations (`name: T`, `name = value`), inherited as Python
        resolves them: the class's own first, then its ancestors in MRO order."""
        key = (module.name, cls.qualname)
        found = self._declared.get(key)
        if found is None:
            found = {}
            for owner_module, owner in reversed(self.mro(module, cls)):
                for fact in owner.fields:
                    found[fact.name] = (owner_module, owner, fact)
            self._declared[key] = found
        return found

    # -- ORM columns ---------------------------------------------------------
    def column(self, module: Module, fact: Field) -> Column | None:
        """The ORM column (or relation) a class-level declaration makes, else None."""
        annotation = fact.annotation
        optional = self.project.optional(module, annotation)
        call = fact.value.call if fact.value is not None and fact.value.kind == "call" else None
        if call is None:
            if annotation is not None and "Mapped" in annotation.wrappers:
                return Column("sqlalchemy", optional)  # `name: Mapped[str]`: a column without options
            return None
        name = last_name(call.callee or call.method or "")
        flags = {key: value.text == "True" for key, value in call.kwargs}
        primary_key = flags.get("primary_key", False)
        said = flags.get("nullable", flags.get("null", False)) or optional  # Django says `null=True`
        if name == "column_property":  # a SQL expression: None only when declared so
            return Column("sqlalchemy", said, primary_key, flags.get("unique", False) or primary_key)
        if name in _SQLALCHEMY_COLUMNS:
            nullable = flags.get("nullable")
            if nullable is None:
                # SQLAlchemy: nullable unless a primary key; mapped_column() takes it from Mapped[...].
                nullable = not primary_key and (annotation is None or name == "Column" or optional)
            return Column("sqlalchemy", nullable or optional, primary_key, flags.get("unique", False) or primary_key)
        if name in _RELATIONSHIPS:
            return Column("relationship", said, target=_target(call.args[0]) if call.args else None)
        if name.endswith("Field") or name in _DJANGO_RELATIONS:
            unique = flags.get("unique", False) or primary_key or name == "OneToOneField"
            target = _target(call.args[0]) if call.args and name in _DJANGO_RELATIONS else None
            return Column("django", said, primary_key, unique, target)
        return None

    def related_class(self, module: Module, fact: Field) -> Located | None:
        """The project class whose row a relation attribute holds (`owner = relationship("User")`,
        `owner = models.ForeignKey(User, ...)`), else None."""
        column = self.column(module, fact)
        if column is None or column.target is None:
            return None
        target = column.target
        if "." in target and self.class_at(module, target) is None:
            target = target.rsplit(".", 1)[1]  # Django's "app_label.Model"
        found = self.class_at(module, target)
        if found is None:
            found = self._class_named(target)
        return found

    def _class_named(self, name: str) -> Located | None:
        """A class referred to by a bare string (`relationship("User")`): SQLAlchemy's and
        Django's registries resolve it by name, so does this, when the name is unique."""
        found = self.project.index("types-classes-by-name", _classes_by_name).get(name)
        return found[0] if len(found) == 1 else None

    # -- attributes of instances -------------------------------------------
    def attribute_class(self, module: Module, cls: Class, name: str) -> Located | None:
        """The project class of `self.<name>` when the class body declares it:
        `service: DatasetsService` / `service = DatasetsService()` (own or inherited),
        or a method assigns it (see `_assigned_class`)."""
        for owner_module, owner in self.mro(module, cls):
            for declared in owner.fields:
                if declared.name != name:
                    continue
                annotation = declared.annotation
                if annotation is not None and annotation.core and not annotation.container:
                    located = self.class_at(owner_module, annotation.core[0])
                    if located is not None:
                        return located
                value = declared.value
                if value is not None and value.kind == "call" and value.ref:
                    return self.class_at(owner_module, value.ref) or self.related_class(owner_module, declared)
                return None
        key = (module.name, cls.qualname, name)
        if key not in self._assigned:
            if self._assigning > _MAX_DEPTH:
                self._cut += 1
                return None  # attributes typed by factories typed by attributes...: unknown
            self._assigned[key] = None  # an attribute typed through itself ends here
            self._assigning += 1
            try:
                self._assigned[key] = self._assigned_class(module, cls, name) or self._property_class(module, cls, name)
            finally:
                self._assigning -= 1
        return self._assigned[key]

    def attribute_chain(self, owner: Located, parts: list[str]) -> Located | None:
        """The project class of `obj.a.b` where `obj` is an instance of `owner`: each
        attribute's class in turn (`attribute_class`); None where one is not known."""
        for part in parts:
            found = self.attribute_class(owner[0], owner[1], part)
            if found is None:
                return None
            owner = found
        return owner

    def _assigned_class(self, module: Module, cls: Class, name: str) -> Located | None:
        """`self.<name> = Foo(...)`, `self.<name>: Foo = ...` or `self.<name> = param`
        with `param: Foo`, in a method of the class or of its project bases."""
        target = f"self.{name}"
        for owner_module, owner in self.mro(module, cls):
            for qualname in owner.methods.values():
                method = owner_module.functions.get(qualname)
                if method is None:
                    continue
                for binding in method.attribute_bindings:
                    if binding.name != target:
                        continue
                    located = None
                    if binding.annotation is not None and binding.annotation.core and not binding.annotation.container:
                        located = self.class_at(owner_module, binding.annotation.core[0])
                    if located is None and binding.value is not None:
                        located = self._assigned_value_class(owner_module, method, binding.value)
                    if located is not None:
                        return located
        return None

    def _property_class(self, module: Module, cls: Class, name: str) -> Located | None:
        """The class a `@property` getter returns: its annotation's, or the one class its
        returns build (`return ObjectRelatedCache(self)`)."""
        getter = self.getter(module, cls, name)
        if getter is None:
            return None
        owner, function = getter
        if function.returns is not None:
            return self.class_of_annotation(owner, function.returns.core) if not function.returns.container else None
        return self.returned_class(owner, function)

    def _assigned_value_class(self, module: Module, method: Function, value: Value) -> Located | None:
        """The class of a value assigned to an attribute: `Foo(...)`, a factory or classmethod
        annotated to return `Foo` (`make_client()`, `Client.from_settings()`), a parameter typed
        `Foo`, or the one known class of its alternatives (`client or Client()`)."""
        if value.kind == "name":
            param = method.param(value.ref or "")
            annotation = param.annotation if param is not None else None
            if annotation is not None and annotation.core and not annotation.container:
                return self.class_at(module, annotation.core[0])
            return None
        if value.kind in ("call", "await"):
            if value.ref:
                found = self.class_at(module, value.ref) or self._class_attribute_called(module, method, value.ref)
                if found is not None:
                    return found
            return self.class_of_value(module, method, value, 1)
        if value.kind == "other" and value.elements:
            found = {id(c[1]): c for c in (self._assigned_value_class(module, method, e) for e in value.elements) if c}
            return next(iter(found.values())) if len(found) == 1 else None
        return None

    def _class_attribute_called(self, module: Module, method: Function, ref: str) -> Located | None:
        """`self.default_model(...)` where the class declares `default_model = Model`: a
        pluggable class held by a class attribute (kinto's resources); a subclass may set
        another, the declared one is the default."""
        head, _, name = ref.partition(".")
        cls = module.classes.get(method.class_qualname) if method.class_qualname else None
        if head not in ("self", "cls") or not name or "." in name or cls is None:
            return None
        return self.declared_class(module, cls, name)

    def declared_class(self, module: Module, cls: Class, name: str, built: bool = False) -> Located | None:
        """The project class a class-level declaration names (`serializer_class = OrderSerializer`,
        own or inherited), or, with `built`, constructs (`items = ItemSerializer(many=True)`)."""
        declared = self.declared(module, cls).get(name)
        value = declared[2].value if declared is not None else None
        if value is None or not value.ref or (value.kind == "call") != built or (
                not built and value.kind not in ("name", "attr")):
            return None
        return self.class_at(declared[0], value.ref)

    # -- local names -------------------------------------------------------
    def class_of(self, module: Module, function: Function, name: str, depth: int = 0) -> Located | None:
        """The project class a local name holds in `function`, when the code says:
        `self`/`cls`, a parameter's annotation, or the first binding that names one
        (its annotation, `Cls(...)`, a read of `Cls`, a call annotated to return `Cls`)."""
        key = (module.name, function.qualname, name)
        if key in self._locals:
            return self._locals[key]
        if key in self._active:
            self._cut += 1
            return None  # `x = x.child()`: the name's class through itself
        cut = self._cut
        active = self._active
        self._active = active | {key}
        try:
            found = self._class_of(module, function, name, depth)
        finally:
            self._active = active
        # A nested answer is kept only when no depth limit cut it short: it is then the
        # answer from the top too. Without it, chains of locals bound to calls on locals
        # are walked again from every name that reaches them (exponential).
        if not depth or self._cut == cut:
            self._locals[key] = found
        return found

    def _class_of(self, module: Module, function: Function, name: str, depth: int) -> Located | None:
        if depth > _MAX_DEPTH:
            self._cut += 1
            return None
        if function.class_qualname is not None and function.params and function.params[0].name == name:
            if name in ("self", "cls"):
                cls = module.classes.get(function.class_qualname)
                return (module, cls) if cls is not None else None
        param = function.param(name)
        if param is not None:
            return self.class_of_annotation(module, param.annotation.core) if param.annotation else None
        bound = False
        for binding in function.bindings:
            if binding.name != name:
                continue
            bound = True
            if binding.annotation is not None:
                found = self.class_of_annotation(module, binding.annotation.core)
                if found is not None:
                    return found
            if binding.value is not None and binding.value.kind == "element":
                found = next(iter(self.element_classes(module, function, binding.value.elements[0], depth + 1)), None)
                if found is not None:
                    return found
            elif binding.value is not None and binding.value.kind == "op" and binding.value.op == "[]":
                # `m = Preferences.modules[name]`: an item of the container
                found = self._held_class(module, function, binding.value, depth + 1)
                if found is not None:
                    return found
            elif binding.value is not None and binding.value.kind == "attr" and binding.value.ref:
                # `ev = self.request.event`, `repo = self.repo`: the attribute's class
                found = self.dotted_class(module, function, binding.value.ref, depth + 1)
                if found is not None:
                    return found
            elif binding.value is not None:
                found = self.class_of_value(module, function, binding.value, depth + 1)
                if found is not None:
                    return found
        if bound or function.qualname == "<module>":
            return None
        return self.module_instance(module, name)

    def module_instance(self, module: Module, dotted: str) -> Located | None:
        """The project class of a module-level instance a name refers to, defined here or
        imported (`billing = BillingClient()`, then `billing.charge(...)` in a handler;
        `clients.billing`): its annotation, or the value assigned to it."""
        key = (module.name, "<module-instance>", dotted)
        if key in self._locals:
            return self._locals[key]
        self._locals[key] = None  # an instance defined through itself ends here
        found = None
        symbol = self.project.resolve(module, dotted)
        owner = self.project.modules.get(symbol.module) if symbol is not None and symbol.kind == "variable" else None
        top = owner.functions.get("<module>") if owner is not None and "." not in symbol.qualname else None
        if top is not None:
            for binding in top.bindings:
                if binding.name != symbol.qualname:
                    continue
                if binding.annotation is not None and binding.annotation.core and not binding.annotation.container:
                    found = self.class_at(owner, binding.annotation.core[0])
                if found is None and binding.value is not None:
                    found = self._assigned_value_class(owner, top, binding.value)
        self._locals[key] = found
        return found

    # -- unions and elements --------------------------------------------------
    def annotation_classes(self, module: Module, annotation: Annotation | None, depth: int = 0) -> list[Located]:
        """Every project class an annotation admits (each member of `A | B`, `Union[A, B]`,
        also through a module-level alias: `Schedule = Union[A, B]`), outside containers."""
        if annotation is None or annotation.container:
            return []
        return self.classes_named(module, annotation.core, depth)

    def classes_named(self, module: Module, names, depth: int = 0) -> list[Located]:
        """The project classes type names stand for: a class, or each class a module-level
        alias names (`Actions = Union[A, B]`, also an alias of an alias, imported or not)."""
        found: list[Located] = []
        for name in names:
            located = self.class_at(module, name)
            if located is not None:
                members = [located]
            else:
                symbol = self.project.resolve(module, name)
                alias = self.project.alias(symbol) if depth < 4 else None
                owner = self.project.modules.get(symbol.module) if alias is not None else None
                members = self.annotation_classes(owner, alias, depth + 1) if owner is not None else []
            found += [m for m in members if not _among(m, found)]
        return found

    def element_classes(self, module: Module, function: Function, iterable: Value, depth: int = 0) -> list[Located]:
        """The project classes of what `for x in iterable` binds, where a declared type says:
        a parameter, a local, a module-level name or an attribute annotated `list[A]`
        (`Sequence[A | B]`, `set[A]`...; not a mapping, whose elements are its keys), a call
        annotated to return one, or a literal list of instances (`[A(), B()]`)."""
        if iterable.kind == "seq":
            return _unique([c for c in (self.class_of_value(module, function, e, depth + 1) for e in iterable.elements)
                            if c is not None])
        declared = self._container_annotation(module, function, iterable, depth)
        if declared is None or last_name(declared[1].text.split("[")[0]) in _MAPPINGS:
            return []
        return self.classes_named(declared[0], declared[1].core, 0)

    def item_classes(self, module: Module, function: Function, container: Value, depth: int = 0,
                     key: Value | None = None) -> list[Located]:
        """The project classes of `container[key]`: a mapping's values, a sequence's elements
        (`CONTEXTS: dict[Kind, type[EmailContext]]`, then `CONTEXTS[kind].create()`); for a
        container no annotation types, the one class its stores put in (`stored_class`)."""
        declared = self._container_annotation(module, function, container, depth)
        if declared is not None:
            return self.classes_named(declared[0], declared[1].core, 0)
        stored = self.stored_class(module, function, container, key, depth)
        return [stored] if stored is not None else []

    def stored_class(self, module: Module, function: Function, container: Value, key: Value | None,
                     depth: int = 0) -> Located | None:
        """The one project class every `c[k] = value` store into the container puts in, the
        container spelled alike (`item_path`) in the stores the code reading it can see: its
        own function's, its class's methods' (and its bases'), its module's for a container
        named at module level. `self.by_name[n] = Handler(...)` then `self.by_name[n].run()`;
        `cat["prefs"][n] = Pref(...)` in one method, `cat["prefs"][n]` returned by another.
        A string key reads the stores at that key and those at unknown keys. None when a store's
        value has no known class, two stores disagree, or the container is ever bound to
        anything but an empty one (a parameter, `load_plugins()`): its items come from elsewhere."""
        path = item_path(container)
        if path is None:
            return None
        wanted = string_literal(key) if key is not None else None
        asked = (module.name, function.qualname, f"[{path}[{wanted!r}]")  # no local has such a name
        return self._kept(asked, depth, lambda: self._stored_class(module, function, path, wanted, depth))

    def _stored_class(self, module: Module, function: Function, path: str, wanted: str | None,
                      depth: int) -> Located | None:
        scopes = self._filling_scopes(module, function, path)
        if scopes is None:
            return None
        names = {f"{path}[]"} | ({f"{path}[{wanted!r}]"} if wanted is not None else set())
        stores = ((owner, scope, binding.value) for owner, scope in scopes for binding in scope.item_bindings
                  if binding.name in names or (wanted is None and _keyed_item(binding.name, path)))
        return self._one_class(stores, depth)

    def _filling_scopes(self, module: Module, function: Function, path: str) -> list[tuple[Module, Function]] | None:
        """The functions whose stores into the container `path` the code in `function` reads:
        the function's own for a local (`found = {}`); the class's methods for an attribute
        (`self.found`, `Registry.found`); the module's functions for a module-level name. None
        when the container is bound to anything but an empty one (a parameter, a call's
        result), or is defined in code out of sight (an imported registry)."""
        parts = path.split("[")[0].split(".")
        head = parts[0]
        if function.param(head) is not None and head not in ("self", "cls"):
            return None  # the caller's container
        if head not in ("self", "cls") and any(b.name == head for b in function.bindings):
            if path == head:  # a local container
                return [(module, function)] if _all_empty(function.bindings, path) else None
            owner_class = module.classes.get(function.class_qualname) if function.class_qualname else None
            scopes = [(module, function)]  # `cat["prefs"]`: spelled alike in the class's methods
        elif head in ("self", "cls"):
            owner_class = module.classes.get(function.class_qualname) if function.class_qualname else None
            if owner_class is None:
                return None
            scopes = []
        elif len(parts) > 1 and (named := self.class_at(module, head)) is not None:
            (module, owner_class), scopes = named, []
        elif "." not in path and "[" not in path:  # a module-level container
            top = module.functions.get("<module>")
            if top is None or not any(b.name == path for b in top.bindings) or not _all_empty(top.bindings, path):
                return None
            return list({id(f): (module, f) for f in (function, *module.functions.values())}.values())
        else:
            return None
        methods = [(owner, method) for owner, base in (self.mro(module, owner_class) if owner_class else ())
                   for method in (owner.functions.get(q) for q in base.methods.values()) if method is not None]
        if "[" not in path and len(parts) == 2 and not scopes:  # `self.found` / `Registry.found`: empty bindings only
            attribute = parts[1]
            declared = self.declared(module, owner_class).get(attribute)
            if declared is not None and not _empty_container(declared[2].value):
                return None
            if not all(_all_empty(m.attribute_bindings, f"{head}.{attribute}") and
                       _all_empty(m.attribute_bindings, f"self.{attribute}") for _, m in methods):
                return None
        return list({id(f): (o, f) for o, f in (*scopes, *methods)}.values())

    def _held_class(self, module: Module, function: Function, value: Value | None, depth: int) -> Located | None:
        """The project class of a stored or returned value: `self`, a local or a parameter
        (`class_of`), an item of a container (`stored_class`), or what `_assigned_value_class` knows."""
        if value is None:
            return None
        if value.kind == "name" and value.ref:
            return self.class_of(module, function, value.ref, depth)
        if value.kind == "op" and value.op == "[]" and len(value.elements) == 2:
            found = self.item_classes(module, function, value.elements[0], depth, value.elements[1])
            return found[0] if len(found) == 1 else None
        return self._assigned_value_class(module, function, value)

    def returned_class(self, module: Module, function: Function, depth: int = 0) -> Located | None:
        """The class an unannotated function returns: the one project class all its returns
        that are not `None` hold (`_held_class`); None when one of them is unknown."""
        key = (module.name, function.qualname, "<returned>")  # beside class_of's keys: no local has that name
        returns = ((module, function, e.value) for e in function.exits
                   if e.kind == "return" and e.value is not None and e.value.kind != "none")
        return self._kept(key, depth, lambda: self._one_class(returns, depth))

    def _kept(self, key: tuple[str, str, str], depth: int, compute) -> Located | None:
        """`compute()` kept beside class_of's answers, as class_of keeps them (only when no
        depth limit cut it short); None for a question asked again inside its own answer
        (a function returning its own result, a container filled from its own items)."""
        if key in self._locals:
            return self._locals[key]
        if key in self._active or depth > _MAX_DEPTH:
            self._cut += 1
            return None
        cut, active = self._cut, self._active
        self._active = active | {key}
        try:
            found = compute()
        finally:
            self._active = active
        if not depth or self._cut == cut:
            self._locals[key] = found
        return found

    def _one_class(self, values: Iterator[tuple[Module, Function, Value | None]], depth: int) -> Located | None:
        """The one project class every value holds (`_held_class`); None when one is not
        known or two differ (and for no value at all)."""
        found: Located | None = None
        for module, function, value in values:
            located = self._held_class(module, function, value, depth + 1)
            if located is None or (found is not None and not _same(found, located)):
                return None
            found = located
        return found

    def _container_annotation(self, module: Module, function: Function, value: Value,
                              depth: int) -> tuple[Module, Annotation] | None:
        """The container type the code declares for a value, where its annotation is in reach:
        a parameter's, a local's (or that of the call a local is bound to), a module-level
        name's (also imported), an attribute's, a call's return annotation."""
        if depth > _MAX_DEPTH:
            return None
        owner, annotation = module, None
        if value.kind == "name" and value.ref:
            param = function.param(value.ref)
            binding = next((b for b in function.bindings if b.name == value.ref), None) if param is None else None
            if param is not None:
                annotation = param.annotation
            elif binding is not None and binding.annotation is None and binding.value is not None:
                return self._container_annotation(module, function, binding.value, depth + 1)  # `rows = read_rows()`
            elif binding is not None:
                annotation = binding.annotation
            elif function.qualname != "<module>":
                symbol = self.project.resolve(module, value.ref)
                owner = self.project.modules.get(symbol.module) if symbol is not None and symbol.kind == "variable" else None
                top = owner.functions.get("<module>") if owner is not None else None
                annotation = next((b.annotation for b in top.bindings if b.name == symbol.qualname), None) if top else None
        elif value.kind == "attr" and value.ref:
            head, _, name = value.ref.rpartition(".")
            holder = self.dotted_class(module, function, head, depth + 1)
            declared = self.declared(*holder).get(name) if holder is not None else None
            if declared is not None:
                owner, annotation = declared[0], declared[2].annotation
        elif value.kind in ("call", "await") and value.call is not None:
            target = self.callee(module, function, value.call, depth + 1)
            if target is not None:
                owner, annotation = target[0], target[1].returns
        return (owner, annotation) if annotation is not None and annotation.container and owner is not None else None

    def receiver_classes(self, module: Module, function: Function, dotted: str) -> list[Located]:
        """The project classes the receiver `a.b` may hold when a declared type on the way
        admits several (`schedule: IntervalSchedule | CronSchedule`, a loop over
        `list[A | B]`, `ev = wle.subevent or self.request.event`); otherwise the one class
        `dotted_class` knows, or none."""
        key = (module.name, function.qualname, dotted)
        memo = self.project.memo("types-receivers")
        if key in memo:
            return memo[key]
        head, *parts = dotted.split(".")
        owners = self._local_classes(module, function, head)
        for part in parts:
            owners = _unique([c for owner in owners for c in self._attribute_classes(owner, part)])
        if not owners:
            single = self.dotted_class(module, function, dotted)
            owners = [single] if single is not None else []
        memo[key] = owners
        return owners

    def _local_classes(self, module: Module, function: Function, name: str) -> list[Located]:
        param = function.param(name)
        if param is not None and name not in ("self", "cls"):
            found = self.annotation_classes(module, param.annotation)
        else:
            found = []
            for binding in function.bindings if param is None else ():
                if binding.name != name:
                    continue
                found = self.annotation_classes(module, binding.annotation)
                if not found and binding.value is not None and binding.value.kind == "element":
                    found = self.element_classes(module, function, binding.value.elements[0])
                if not found and binding.value is not None and binding.value.kind == "op" and binding.value.op == "[]":
                    container, *key = binding.value.elements
                    found = self.item_classes(module, function, container, 0, key[0] if len(key) == 1 else None)
                if not found and binding.value is not None and binding.value.kind == "other":
                    # `ev = wle.subevent or self.request.event`: either one
                    found = _unique([c for c in (self._value_class(module, function, e) for e in binding.value.elements)
                                     if c is not None])
                if found:
                    break
        if found:
            return found
        single = self.class_of(module, function, name)
        return [single] if single is not None else []

    def _value_class(self, module: Module, function: Function, value: Value) -> Located | None:
        if value.kind in ("name", "attr") and value.ref:
            return self.dotted_class(module, function, value.ref, 1)
        return self.class_of_value(module, function, value, 1)

    def _attribute_classes(self, owner: Located, name: str) -> list[Located]:
        declared = self.declared(*owner).get(name)
        found = self.annotation_classes(declared[0], declared[2].annotation) if declared is not None else []
        if len(found) > 1:
            return found
        single = self.attribute_class(owner[0], owner[1], name)
        return [single] if single is not None else []

    def class_of_annotation(self, module: Module, core) -> Located | None:
        """The first project class an annotation's names (`core`) refer to."""
        for name in core:
            found = self.class_at(module, name)
            if found is not None:
                return found
        return None

    def dotted_class(self, module: Module, function: Function, dotted: str, depth: int = 0) -> Located | None:
        """The project class of `a.b.c` in `function`: the class of the local name `a`
        (`class_of`), then the declared class of each attribute."""
        head, *parts = dotted.split(".")
        user = self._request_user(function, [head, *parts])
        if user is not None:
            return self.attribute_chain(user[0], user[1]) if user[0] is not None else None
        owner = self.class_of(module, function, head, depth)
        if owner is None and parts and self.project.resolve(module, head) is not None:
            # `clients.billing.charge()`: an instance defined in another module
            owner, parts = self.module_instance(module, f"{head}.{parts[0]}"), parts[1:]
        return self.attribute_chain(owner, parts) if owner is not None else None

    def _request_user(self, function: Function, path: list[str]) -> tuple[Located | None, list[str]] | None:
        """`request.user.x` (a `request` parameter) or `self.request.user.x`: Django's
        authenticated user, an instance of the project's user model (`user_model`), and
        the attributes after it; `request.event.x`: the class project code sets
        `request.event` to (`request_attribute`); None for any other path."""
        if path[:1] == ["request"] and len(path) > 1 and function.param("request") is not None:
            name, rest = path[1], path[2:]
        elif path[:2] == ["self", "request"] and len(path) > 2 and function.class_qualname is not None:
            name, rest = path[2], path[3:]
        else:
            return None
        if name == "user":
            return self.user_model(), rest
        found = self.request_attribute(name)
        return (found, rest) if found is not None else None

    def request_attribute(self, name: str) -> Located | None:
        """The project class middleware or a view's setup gives the request's attribute
        `name` (`request.event = Event.objects.get(...)`, `self.request.tenant = tenant`
        with `tenant: Tenant`) when every assignment whose class is known agrees."""
        memo = self.project.memo("types-request-attributes")
        if name not in memo:
            memo[name] = None  # `request.x = f(request.x)`: the attribute's class through itself ends here
            assigned = self.project.index("types-request-assignments", _request_assignments).get(name)
            classes = _unique([c for module, function, value in assigned
                               if (c := self._assigned_value_class(module, function, value)) is not None])
            memo[name] = classes[0] if len(classes) == 1 else None
        return memo[name]

    def user_model(self) -> Located | None:
        """The project's Django user model: the one concrete class whose ancestors reach
        `AbstractBaseUser`, or, among several, the one `AUTH_USER_MODEL = "app.Name"` names.
        Ancestors are followed by their written names (the project's classes by base name:
        resolving each base would cost more than the judgement of an edit)."""
        memo = self.project.memo("types-user-model")
        if "model" in memo:
            return memo["model"]
        by_base = self.project.index("types-classes-by-base-name", _classes_by_base_name)
        settings = self.project.index("types-auth-user-model", _auth_user_model).get("AUTH_USER_MODEL")
        setting = settings[-1] if settings else None
        users: list[Located] = []
        pending = [name for name in _USER_BASE_NAMES]
        seen = set(pending)
        while pending:
            for located in by_base.get(pending.pop()):
                # The definition Python keeps, where a module defines the class twice.
                if located[0].classes.get(located[1].qualname) is located[1] and located[1].name not in seen:
                    seen.add(located[1].name)
                    pending.append(located[1].name)
                    users.append(located)
        candidates = [c for c in users if not _abstract(*c)]
        if len(candidates) > 1 and setting:
            candidates = [c for c in candidates if c[1].name == setting.rpartition(".")[2]]
        memo["model"] = candidates[0] if len(candidates) == 1 else None
        return memo["model"]

    def returned(self, module: Module, function: Function, call: Call, depth: int = 0) -> tuple[Module, Function] | None:
        """The project function a call runs, when it is annotated with its return type."""
        target = self.callee(module, function, call, depth)
        return target if target is not None and target[1].returns is not None else None

    def class_of_value(self, module: Module, function: Function, value: Value, depth: int = 0) -> Located | None:
        """`Cls(...)`, reads of `Cls` (`session.get(Cls, ..)`, `select(Cls)...`,
        `Cls.objects...`), or a project function annotated to return `Cls`."""
        if depth > _MAX_DEPTH:
            self._cut += 1
            return None
        if value.kind not in ("call", "await") or value.call is None:
            return None
        call = value.call
        if call.callee is not None:
            found = self.class_at(module, call.callee)
            if found is not None:
                return found
        target = self.callee(module, function, call, depth)
        if target is not None and target[1].returns is not None and not target[1].returns.container:
            found = self.class_of_annotation(target[0], target[1].returns.core)
            if found is not None:
                return found
        if target is not None and target[1].returns is None:
            found = self.returned_class(*target, depth)
            if found is not None:
                return found
        return self._read_class(module, value, depth)

    def callee(self, module: Module, function: Function, call: Call, depth: int = 0) -> tuple[Module, Function] | None:
        """The project function a call runs: a function by name, or a method of a
        receiver whose class the type layer knows (`class_of`, through attributes:
        `dotted_class`)."""
        if call.callee is not None:
            if "." not in call.callee:
                nested = self.local_function(module, function.qualname, call.callee)
                if nested is not None:
                    return module, nested
            symbol = self.project.resolve(module, call.callee)
            if symbol is not None and symbol.kind == "function":
                found = self.project.function(symbol)
                if found is not None:
                    return found
        if call.method is not None and call.receiver is not None and call.receiver.kind in ("name", "attr"):
            # `repo.find(x)`, `self.users.find(x)`: the receiver's class, through its attributes
            owner = self.dotted_class(module, function, call.receiver.text, depth + 1)
            if owner is not None:
                return self.method(owner[0], owner[1], call.method)
        return None

    @staticmethod
    def local_function(module: Module, scope: str, name: str) -> Function | None:
        """A function named `name` nested in `scope` or in the functions enclosing it."""
        while scope and scope != "<module>":
            found = module.functions.get(f"{scope}.{name}")
            if found is not None:
                return found
            scope = scope.rpartition(".")[0]
            if scope not in module.functions:
                break
        return None

    def _read_class(self, module: Module, value: Value, depth: int) -> Located | None:
        if depth > 2 * _MAX_DEPTH:
            self._cut += 1
            return None
        if value.call is None:
            return None
        call = value.call
        name = call.method or last_name(call.callee)
        if name in _READS and call.args and call.args[0].kind in ("name", "attr"):
            found = self.class_at(module, call.args[0].ref)
            if found is not None:
                return found
        receiver = call.receiver
        if receiver is not None:
            if receiver.kind == "attr" and receiver.text.endswith(".objects"):
                found = self.class_at(module, receiver.text[: -len(".objects")])
                if found is not None:
                    return found
            if receiver.kind in ("call", "await"):
                found = self._read_class(module, receiver, depth + 1)
                if found is not None:
                    return found
        for argument in call.args[:1]:
            if argument.kind in ("call", "await"):
                found = self._read_class(module, argument, depth + 1)
                if found is not None:
                    return found
        return None

    # -- dispatch on a receiver of unknown class ------------------------------
    def dispatch(self, module: Module, function: Function, call: Call, depth: int = 0) -> list[tuple[Module, Function]]:
        """What `x.name(...)` runs when the static lookup has no class for `x` (see `implementations`):
        - inside `if isinstance(x, C):`, as for an instance of `C`;
        - else, when `x` is made by project code (`make()`, `y = make()`; see `_project_made`)
          and every project class defining `name` descends from one of them that defines it
          too (`family`), as for an instance of that one. A name that builtin types or
          unrelated project classes define (`get`, `save`) is never followed this way."""
        name, receiver = call.method, call.receiver
        if name is None or receiver is None or name.startswith("__") or name in _BUILTIN_METHODS:
            return []
        if receiver.kind == "name":
            narrowed = self._narrowed(module, function, call, receiver.ref)
            if narrowed is not None:
                return self.implementations(*narrowed, name)
        if self.instance_class(module, function, receiver) is not None:
            return []  # the static lookup had the class and it does not define the method
        if receiver.kind == "call" and receiver.call is not None and receiver.call.method in DJANGO_QUERYSET \
                and name not in _DJANGO_QUERYSET_API:
            found = self.queryset_method(name)
            if found is not None:
                return [found]
        if not self._project_made(module, function, receiver, depth):
            return []
        root = self.family(name)
        return self.implementations(*root, name) if root is not None else []

    def implementations(self, module: Module, cls: Class, name: str, most: int = 1) -> list[tuple[Module, Function]]:
        """What `x.name()` runs when `x` is an instance of `cls` or of a project subclass,
        as far as the code says: the method `cls` resolves, as for a parameter annotated
        `cls`; where that one is abstract, the concrete overrides among the subclasses
        (outside tests), if there are at most `most`. For a receiver of unknown class (one),
        which of several overrides runs depends on what was registered at run time: a chain
        through any one of them would be a guess. For a receiver the code types (see
        `CallGraph.targets`), a few overrides are the interface's pluggable backends."""
        inherited = self.method(module, cls, name)
        if inherited is not None and not is_abstract_method(inherited[1]):
            return [inherited]
        overrides = []
        for sub_module, sub in self.subclasses(module, cls):
            qualname = sub.methods.get(name)
            function = sub_module.functions.get(qualname) if qualname is not None else None
            if function is not None and not is_abstract_method(function) and not self.project.is_test(sub_module.path):
                overrides.append((sub_module, function))
        return overrides if 1 <= len(overrides) <= most else []

    def subclasses(self, module: Module, cls: Class) -> list[Located]:
        """The project classes that have `cls` among their ancestors."""
        key = (module.name, cls.qualname)
        memo = self.project.memo("types-subclasses")
        if key in memo:
            return memo[key]
        by_base = self.project.index("types-classes-by-base-name", _classes_by_base_name)
        found: list[Located] = []
        pending = [(module, cls)]
        while pending:
            parent = pending.pop()
            for candidate in by_base.get(parent[1].name):
                if not _among(candidate, found) and candidate[1] is not cls and any(
                        base[1] is parent[1] for base in self.project_bases(*candidate)):
                    found.append(candidate)
                    pending.append(candidate)
        memo[key] = found
        return found

    def queryset_method(self, name: str) -> tuple[Module, Function] | None:
        """`qs.filter(...).name()`: a link of a Django query chain returns a QuerySet of the
        class the chain started with, and custom methods live on the project's QuerySet
        subclasses (`Manager.from_queryset`, a manager's `_queryset_class`). The one such
        method named `name` (outside tests), or None when several classes define it."""
        memo = self.project.memo("types-queryset-methods")
        if name in memo:
            return memo[name]
        found = []
        for owner, cls in self.project.index("types-classes-by-method", _classes_by_method).get(name):
            if self.project.is_test(owner.path) or not any(
                    last_name(base) == "QuerySet" for base in self.project.base_names(owner, cls)):
                continue
            method = self.method(owner, cls, name)
            if method is not None and not _among(method, found):
                found.append(method)
        memo[name] = found[0] if len(found) == 1 else None
        return memo[name]

    def family(self, name: str) -> Located | None:
        """The project class (outside tests) defining method `name` that every other class
        defining it descends from; None when unrelated classes define it."""
        memo = self.project.memo("types-families")
        if name in memo:
            return memo[name]
        defining = [c for c in self.project.index("types-classes-by-method", _classes_by_method).get(name)
                    if not self.project.is_test(c[0].path)]
        roots = [c for c in defining if not any(_among(a, defining) for a in self.mro(*c)[1:])]
        memo[name] = roots[0] if len(roots) == 1 else None
        return memo[name]

    def _narrowed(self, module: Module, function: Function, call: Call, name: str | None) -> Located | None:
        """The class `isinstance(name, C)` proves in the innermost `if` enclosing the call."""
        for block in reversed([b for b in function.blocks if b.id in call.blocks and b.kind == "if"]):
            test = block.test.call if block.test is not None and block.test.kind == "call" else None
            if test is not None and test.callee == "isinstance" and len(test.args) == 2 and (
                    test.args[0].kind == "name" and test.args[0].ref == name and test.args[1].kind in ("name", "attr")):
                return self.class_at(module, test.args[1].ref)
        return None

    def instance_class(self, module: Module, function: Function, receiver: Value) -> Located | None:
        """The project class of the object an expression gives (a name, an attribute chain, a call)."""
        if receiver.kind in ("name", "attr") and receiver.ref:
            return self.dotted_class(module, function, receiver.ref)
        return self.class_of_value(module, function, receiver)

    def _project_made(self, module: Module, function: Function, value: Value, depth: int) -> bool:
        """Whether a value is what project code returns: a call of project functions none of
        which is seen returning something else (`_returns_foreign`), or a local name (or a
        module-level one) every binding of which is such a call."""
        if depth > 3:
            return False
        if value.kind in ("call", "await") and value.call is not None:
            call = value.call
            made = self.callee(module, function, call)
            producers = [made] if made is not None else self.dispatch(module, function, call, depth + 1)
            return bool(producers) and not any(_returns_foreign(self.project, *p) for p in producers)
        if value.kind != "name" or not value.ref or function.param(value.ref) is not None:
            return False
        bindings = [b for b in function.bindings if b.name == value.ref]
        owner, scope = module, function
        if not bindings and function.qualname != "<module>":
            symbol = self.project.resolve(module, value.ref)
            owner = self.project.modules.get(symbol.module) if symbol is not None and symbol.kind == "variable" else None
            scope = owner.functions.get("<module>") if owner is not None else None
            bindings = [b for b in scope.bindings if b.name == symbol.qualname] if scope is not None else []
        return bool(bindings) and all(
            b.value is not None and self._project_made(owner, scope, b.value, depth + 1) for b in bindings)


# The links of a Django query chain: each returns a QuerySet of the chain's class.
DJANGO_QUERYSET = frozenset(
    {"filter", "exclude", "select_related", "prefetch_related", "only", "defer", "order_by", "all", "annotate",
     "using", "select_for_update", "values", "values_list", "distinct"}
)

# What Django's QuerySet itself defines: an override in one project QuerySet runs only on
# its own model's querysets, so a chain of unknown model is not sent there.
_DJANGO_QUERYSET_SYNC = frozenset(
    {"filter", "exclude", "annotate", "alias", "order_by", "reverse", "distinct", "values", "values_list", "dates",
     "datetimes", "none", "all", "union", "intersection", "difference", "select_related", "prefetch_related",
     "extra", "defer", "only", "using", "select_for_update", "raw", "get", "create", "get_or_create",
     "update_or_create", "bulk_create", "bulk_update", "count", "in_bulk", "iterator", "latest", "earliest",
     "first", "last", "aggregate", "exists", "contains", "update", "delete", "explain", "as_manager"}
)
_DJANGO_QUERYSET_API = _DJANGO_QUERYSET_SYNC | {"a" + name for name in _DJANGO_QUERYSET_SYNC}


# What each module adds to the project-wide indexes (Project.index).
def _request_assignments(module: Module) -> Iterator[tuple[str, tuple[Module, Function, Value]]]:
    """`request.<name> = value` (a `request` parameter) and `self.request.<name> = value`,
    by name."""
    for function in module.facts.functions:
        for binding in function.attribute_bindings:
            path = binding.name.split(".")
            if path[0] == "self":
                path = path[1:]
                if function.class_qualname is None:
                    continue
            elif function.param("request") is None:
                continue
            if len(path) == 2 and path[0] == "request" and binding.value is not None:
                yield path[1], (module, function, binding.value)


def _classes_by_base_name(module: Module) -> Iterator[tuple[str, Located]]:
    """Classes by the last name of each base as written (`class A(pkg.Base)` under "Base")."""
    for cls in module.facts.classes:
        located = (module, cls)
        for base in cls.bases:
            yield last_name(base_ref(base)), located


def _classes_by_method(module: Module) -> Iterator[tuple[str, Located]]:
    """Classes by the names of the methods they define themselves."""
    for cls in module.facts.classes:
        located = (module, cls)  # one pair under all its method names
        for name in cls.methods:
            yield name, located


def _classes_by_name(module: Module) -> Iterator[tuple[str, Located]]:
    for cls in module.facts.classes:
        yield cls.name, (module, cls)


def _auth_user_model(module: Module) -> Iterator[tuple[str, str]]:
    """Django's `AUTH_USER_MODEL = "app.Name"` settings (the last one wins)."""
    top = module.functions.get("<module>")
    for binding in top.bindings if top is not None else ():
        if binding.name == "AUTH_USER_MODEL" and binding.value is not None:
            setting = string_literal(binding.value)
            if setting:
                yield "AUTH_USER_MODEL", setting


def is_abstract_method(function: Function) -> bool:
    """`@abstractmethod`, or a body that raises unconditionally and calls nothing but
    `NotImplementedError` (a raise keeps no value in the facts: its calls tell)."""
    if any(last_name(d.ref or (d.call.callee if d.call is not None else None)) == "abstractmethod"
           for d in function.decorators):
        return True
    return any(e.kind == "raise" and not e.blocks for e in function.exits) and all(
        last_name(c.callee) == "NotImplementedError" for c in function.calls)


def _returns_foreign(project: Project, module: Module, function: Function) -> bool:
    """Whether a function is seen returning something no project class makes: it is
    annotated (the type layer had no project class in it), or returns a literal or the
    result of a call outside the project."""
    if function.returns is not None:
        return True
    for exit in function.exits:
        value = exit.value if exit.kind == "return" else None
        if value is None:
            continue
        if value.kind in ("const", "dict", "seq") or (value.kind == "op" and value.op == "f"):
            return True
        if value.kind in ("call", "await") and value.call is not None and value.call.callee:
            symbol = project.resolve(module, value.call.callee)
            if symbol is not None and symbol.external:
                return True
    return False


# Method names of builtin types: `x.get()`, `x.append()` on a value of unknown class are theirs.
_BUILTIN_METHODS = frozenset(name for kind in (dict, list, str, bytes, bytearray, set, frozenset, tuple, int, float,
                                                object) for name in dir(kind))


def _empty_container(value: Value | None) -> bool:
    """`{}`, `[]`, `dict()`, `OrderedDict()`...: a container whose items only its stores put in."""
    if value is None:
        return False
    if value.kind == "dict":
        return not value.entries and not value.elements and not value.opaque_entries
    if value.kind == "seq":
        return not value.elements
    call = value.call if value.kind == "call" else None
    return call is not None and last_name(call.callee) in _EMPTY_CONTAINERS and not call.args and not call.kwargs


def _all_empty(bindings, name: str) -> bool:
    return all(_empty_container(b.value) for b in bindings if b.name == name)


def _keyed_item(name: str, path: str) -> bool:
    """Whether an `item_bindings` name is a store into `path` at a string key (`path['k']`)."""
    rest = name[len(path):] if name.startswith(path + "[") else ""
    return rest.endswith("]") and string_of(rest[1:-1]) is not None


_EMPTY_CONTAINERS = frozenset({"dict", "list", "OrderedDict", "WeakValueDictionary", "WeakKeyDictionary"})


def _target(value: Value) -> str | None:
    """The related class as written: a name, a dotted name, or a string naming it."""
    if value.kind in ("name", "attr") and value.ref:
        return value.ref
    text = string_literal(value)
    return text if text and text != "self" and text.replace(".", "").isidentifier() else None


def _unique(found: list[Located]) -> list[Located]:
    kept: list[Located] = []
    for item in found:
        if not _among(item, kept):
            kept.append(item)
    return kept


def _same(a: Located, b: Located) -> bool:
    return a[1] is b[1]


def _among(item: Located, sequence: list[Located]) -> bool:
    # A loop, not any() over a generator: the C3 merge asks this 58,000 times a judgement
    # of the scale tree, and the generator was most of the merge's time.
    cls = item[1]
    for other in sequence:
        if other[1] is cls:
            return True
    return False


def _depth_first(start: Located, mro, bases: list[Located]) -> list[Located]:
    found = [start]
    for base in bases:
        for ancestor in mro(*base):
            if not _among(ancestor, found):
                found.append(ancestor)
    return found


def types_of(project: Project) -> Types:
    """The project's type layer, built once however many rules ask."""
    memo = project.memo("types")
    if "types" not in memo:
        memo["types"] = Types(project)
    return memo["types"]


_USER_BASE_NAMES = ("AbstractUser", "AbstractBaseUser")


def _abstract(module: Module, cls: Class) -> bool:
    """A Django model declared `class Meta: abstract = True`."""
    meta = module.classes.get(f"{cls.qualname}.Meta")
    return meta is not None and any(f.name == "abstract" and f.value is not None and f.value.text == "True"
                                    for f in meta.fields)
