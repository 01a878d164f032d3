"""Can this value be None? Judged statically from facts, inside one function.

`may_be_none` answers True for a value that visibly can evaluate to None:
- the literal `None`, `x if c else None`, `a or None` (the extractor's "maybe_none");
- `d.get(k)` / `d.get(k, None)`, `session.get(Cls, pk)`, `getattr(o, n, None)`,
  `next(it, None)`, and the configured methods that return None for "no row"
  (`first()`, `one_or_none()`, `scalar()`...);
- a parameter annotated Optional or defaulting to None; a local name bound to
  such a value or annotated Optional in that function; a module variable bound
  to None;
- a call of a project function (or a method of a known class) annotated to
  return Optional;
- `obj.attr` where the class of `obj` is known in the function (`self`, a
  parameter annotation, `obj = Cls(...)`, `obj = session.get(Cls, ...)`,
  `select(Cls)` / `query(Cls)` / `Cls.objects` reads, a project function
  annotated to return `Cls`) and that class declares `attr` nullable: an
  Optional annotation (pydantic, dataclass, SQLAlchemy `Mapped[T | None]`),
  `Column(...)` / `mapped_column(...)` without `nullable=False` (SQLAlchemy's
  default is nullable unless the column is a primary key), a Django field with
  `null=True` (also for `<fk>_id`), a class attribute set to None, or a
  property annotated Optional.
Anything else counts as a value.
"""

from __future__ import annotations


from ..facts import Call, Class, Field, Function, Value, member_path
from ..project import Module, Project, last_name
from .callgraph import RESULT_RUNNERS, handed_call
from .models import Models
from .types import types_of

_MAX_DEPTH = 8


class Nullability:
    def __init__(
        self,
        project: Project,
        models: Models,
        none_methods: list[str],
        guess_unknown_receivers: bool = True,
        subscripts: bool = True,
        none_attributes: list[str] = (),
    ) -> None:
        self.subscripts = subscripts
        self.none_attributes = frozenset(none_attributes)
        self.project = project
        self.models = models
        self.types = types_of(project)
        self.none_methods = set(none_methods)
        self.guess_unknown_receivers = guess_unknown_receivers
        self._nullable_names: dict[str, set[tuple[str, str]]] | None = None  # by attribute name, as asked
        self._ignore: tuple[str, str] | None = None
        self._optional_method_names: dict[str, bool] | None = None  # by method name, as asked
        self._asking: set[tuple[str, str, str]] = set()
        self._site_values: dict[tuple[str, str, str], list] | None = None

    def nullable_somewhere(self, name: str, ignore: tuple[str, str] | None = None) -> bool:
        """Whether some project class (other than `ignore`: (path, class qualname))
        declares an attribute `name` that can be None."""
        owners = self._nullable_names.get(name) if self._nullable_names is not None else None
        if owners is None:
            owners = set()
            by_path = self.project.by_path
            for path, (owner, *declared) in self.project.index("nullability-attributes", _attributes).located(name):
                module = by_path[path]
                if len(declared) == 1:
                    if self.field_may_be_none(module, declared[0]):
                        owners.add((path, owner))
                # Shallow: a full judgement could come back here for an unknown receiver.
                elif self._binding_may_be_none(module, declared[1], declared[0], False):
                    owners.add((path, owner))
            self._nullable_names = self._nullable_names or {}
            self._nullable_names[name] = owners
        return bool(owners - {ignore})

    # -- values --------------------------------------------------------------
    def judging(self, declaration: tuple[str, str] | None) -> None:
        """The class (path, qualname) whose field is being judged: its own
        declaration is no evidence about other objects' attributes."""
        self._ignore = declaration

    def may_be_none(self, module: Module, function: Function, value: Value | None, depth: int = 0) -> bool:
        if value is None or depth > _MAX_DEPTH:
            return False
        kind = value.kind
        if kind in ("none", "maybe_none"):
            return True
        if kind in ("call", "await") and value.call is not None:
            return self._call(module, function, value.call, depth)
        if kind == "name":
            return self._name(module, function, value.text, depth)
        if kind == "attr":
            return self._attribute(module, function, value.text, depth)
        if kind == "member" and value.call is not None:
            return self._member(module, function, value, depth)
        if kind == "unpacked" and value.call is not None:
            return self._unpacked(module, function, value, depth)
        if kind == "op" and value.op == "[]" and self.subscripts:
            return True  # `row["fee"]`, `parts[5]`: an element of data the code does not describe
        if kind == "other" and value.elements:
            # `a if c else b`, `a or b`, `a and b`: None when an outcome can be.
            return any(self.may_be_none(module, function, outcome, depth + 1) for outcome in value.elements)
        return False

    def _call(self, module: Module, function: Function, call: Call, depth: int) -> bool:
        handed = handed_call(self.project, module, call, RESULT_RUNNERS)  # `await to_thread(f, x)`: f(x)
        if handed is not None:
            return self._call(module, function, handed, depth + 1)
        if call.method == "get" and call.receiver is not None:
            if len(call.args) + len(call.kwargs) <= 1 and not call.star_args and not call.star_kwargs:
                return True  # d.get(k), Model.query.get(pk)
            if call.args and call.args[0].kind in ("name", "attr") and self._class(module, call.args[0].ref):
                return True  # session.get(Cls, pk)
            default = call.args[1] if len(call.args) > 1 else call.kwarg("default")
            if default is None:
                return True  # `request.args.get("k", type=int)`: no default, None when the key is missing
            return self.may_be_none(module, function, default, depth + 1)
        if call.method is not None and call.method in self.none_methods:
            return True
        if call.callee in ("getattr", "next") and self.project.resolve(module, call.callee) is None:
            limit = 3 if call.callee == "getattr" else 2
            return len(call.args) == limit and self.may_be_none(module, function, call.args[-1], depth + 1)
        target = self._callee(module, function, call, depth)
        if target is not None:
            return self.project.optional(target[0], target[1].returns)
        if call.method is None or call.receiver is None or not self.guess_unknown_receivers:
            return False
        receiver = call.receiver
        if receiver.kind == "name":
            param = function.param(receiver.text)
            if param is not None and self._external(module, param.annotation):
                return True  # a method of a class outside the project: its result is not known
        if receiver.kind in ("name", "attr") and self.project.resolve(module, receiver.ref) is not None:
            return False  # a module, class or external object: nothing known
        # The receiver's class is not known: a project method of that name
        # annotated to return Optional makes the result possibly None.
        return call.method is not None and self._optional_method(call.method)

    def _optional_method(self, name: str) -> bool:
        """Whether some project method `name` is annotated to return Optional."""
        found = self._optional_method_names.get(name) if self._optional_method_names is not None else None
        if found is None:
            found = any(self.project.optional(module, function.returns)
                        for module, function in self.project.index("nullability-annotated-methods",
                                                                   _annotated_methods).get(name))
            self._optional_method_names = self._optional_method_names or {}
            self._optional_method_names[name] = found
        return found

    def _callee(self, module: Module, function: Function, call: Call, depth: int) -> tuple[Module, Function] | None:
        return self.types.callee(module, function, call, depth)

    def _name(self, module: Module, function: Function, name: str, depth: int) -> bool:
        param = function.param(name)
        if param is not None:
            if self.project.optional(module, param.annotation):
                return True
            if self.guess_unknown_receivers and param.annotation is not None and _is_any(param.annotation):
                return True  # `Any` / `object` admits None
            return param.default is not None and param.default.kind == "none"
        bound = False
        for binding in function.bindings:
            if binding.name != name:
                continue
            bound = True
            if self.project.optional(module, binding.annotation):
                return True
            if binding.value is not None and self.may_be_none(module, function, binding.value, depth + 1):
                return True
        if bound or function.qualname == "<module>":
            return False
        enclosing = _enclosing(module, function)
        if enclosing is not None:  # a closure reads the enclosing function's name
            return self._name(module, enclosing, name, depth + 1)
        symbol = self.project.resolve(module, name)
        if symbol is not None and symbol.kind == "variable":
            value = self.project.variable_value(symbol)
            return value is not None and value.kind in ("none", "maybe_none")
        return False

    def _attribute(self, module: Module, function: Function, dotted: str, depth: int) -> bool:
        parts = dotted.split(".")
        owner = self.class_of(module, function, parts[0], depth + 1)
        if owner is None:
            param = function.param(parts[0])
            if param is not None and self._external(module, param.annotation):
                # An object of a class outside the project: its attributes'
                # nullability cannot be read here.
                return self.guess_unknown_receivers
            if function.param(parts[0]) is None and not any(b.name == parts[0] for b in function.bindings):
                symbol = self.project.resolve(module, dotted)
                if symbol is not None and symbol.kind == "variable":
                    value = self.project.variable_value(symbol)
                    return value is not None and value.kind in ("none", "maybe_none")
                if symbol is not None:
                    # a module, class or external name: nothing known, but for the attributes
                    # outside objects leave None (Flask's global `request.remote_addr`)
                    return self.guess_unknown_receivers and len(parts) > 1 and parts[-1] in self.none_attributes
            # The class of the object is not known here (a loop variable, an
            # untyped parameter): if a project class declares this attribute
            # nullable, the object may well be one of those; or the attribute is one
            # outside classes leave None (`request.remote_addr`).
            return self.guess_unknown_receivers and (
                parts[-1] in self.none_attributes or self.nullable_somewhere(parts[-1], self._ignore))
        return self._chain_may_be_none(owner, parts[1:])

    def _member(self, module: Module, function: Function, value: Value, depth: int) -> bool:
        """`f().a.b`: the class `f` is annotated to return, then each attribute's
        declared class (the type layer), and the last attribute's nullability."""
        parts = member_path(value)
        if not parts:
            return False
        target = self.types.returned(module, function, value.call, depth + 1)
        if target is None:
            # An external or unannotated function: its result's class is not known.
            return self.guess_unknown_receivers and self.nullable_somewhere(parts[-1], self._ignore)
        returns = target[1].returns
        owner = None if returns.container else self.types.class_of_annotation(target[0], returns.core)
        if owner is None:
            return self.guess_unknown_receivers and self._external(target[0], returns)
        return self._chain_may_be_none(owner, parts)

    def _unpacked(self, module: Module, function: Function, value: Value, depth: int) -> bool:
        """`a, b = f()`: the element's type in `f`'s return annotation (`tuple[A, B | None]`);
        an element of a result the code does not describe is like a subscript."""
        target = self.types.returned(module, function, value.call, depth + 1)
        if target is None:
            return self.subscripts
        elements = target[1].returns.items
        if not elements:
            return self.subscripts
        index = int(value.elements[0].text) if value.elements and value.elements[0].text.isdigit() else -1
        if len(elements) == 2 and elements[1].text == "...":
            element = elements[0]
        elif 0 <= index < len(elements):
            element = elements[index]
        else:
            return self.subscripts
        return self.project.optional(target[0], element)

    def _chain_may_be_none(self, owner: tuple[Module, Class], parts: list[str]) -> bool:
        """`obj.a.b.c` with `obj` of class `owner`: `a`, `b` followed through the type
        layer, then whether `c` may be None."""
        for part in parts[:-1]:
            found = self.types.attribute_class(owner[0], owner[1], part)
            if found is None:
                declared = self.types.declared(*owner).get(part)
                annotation = declared[2].annotation if declared is not None else None
                return annotation is not None and self.guess_unknown_receivers and self._external(declared[0], annotation)
            owner = found
        return self.attribute_may_be_none(owner[0], owner[1], parts[-1])

    # -- classes -------------------------------------------------------------
    def field_may_be_none(self, module: Module, fact: Field) -> bool:
        """Whether a class-level declaration (in `module`) says the attribute can hold None."""
        if self.project.optional(module, fact.annotation):
            return True
        value = fact.value
        if value is None:
            return False
        if value.kind in ("none", "maybe_none"):
            return True
        column = self.types.column(module, fact)
        return column.nullable if column is not None else _flag(value.call, "nullable") or _flag(value.call, "null")

    def _binding_may_be_none(self, module: Module, binding, function: Function | None = None, deep: bool = True) -> bool:
        """`self.x = v` in `function`: annotated Optional, or a value that may be None
        there. `deep`: judged like any value (`a if c else f()`, a call annotated
        Optional...); shallow: only a parameter typed Optional or defaulting to None."""
        if _binding_says_none(binding, self.project.optional(module, binding.annotation)):
            return True
        value = binding.value
        if function is None or value is None:
            return False
        if not deep:
            param = function.param(value.text) if value.kind == "name" else None
            return param is not None and (
                self.project.optional(module, param.annotation)
                or (param.default is not None and param.default.kind == "none")
            )
        if value.kind not in ("name", "other", "op", "call", "await", "member"):
            return False
        return self.may_be_none(module, function, value, _MAX_DEPTH - 2)

    def attribute_may_be_none(self, module: Module, cls: Class, name: str) -> bool:
        key = (module.name, cls.qualname, name)
        if key in self._asking or len(self._asking) > _MAX_DEPTH:  # `self.a = self.b` / `self.b = self.a`
            return False
        self._asking.add(key)
        try:
            return self._attribute_may_be_none(module, cls, name)
        finally:
            self._asking.discard(key)

    def _attribute_may_be_none(self, module: Module, cls: Class, name: str) -> bool:
        declared = self.types.declared(module, cls).get(name)
        if declared is not None and self.field_may_be_none(declared[0], declared[2]):
            return True
        column = self.types.column(declared[0], declared[2]) if declared is not None else None
        if column is not None and column.kind != "relationship":
            # A row's column: the schema says whether it holds NULL, whatever a constructor
            # sets before the row is saved (`def __init__(..., expires_at=None)`).
            return False
        if declared is not None and self.guess_unknown_receivers and declared[2].annotation is not None:
            if _is_any(declared[2].annotation):
                return True  # `content: Any` admits None
        if self._instance_attribute_may_be_none(module, cls, name, 0):
            return True  # `self.name = None` in a method
        if declared is not None:
            return self._given_none(module, cls, name)
        if name.endswith("_id"):  # Django: `<fk>_id` is null when the foreign key is
            declared = self.types.declared(module, cls).get(name[:-3])
            if declared is not None and _call_name(declared[2].value) in ("ForeignKey", "OneToOneField"):
                return self.field_may_be_none(declared[0], declared[2])
        getter = self.types.getter(module, cls, name)
        return getter is not None and self.project.optional(getter[0], getter[1].returns)

    def _given_none(self, module: Module, cls: Class, name: str) -> bool:
        """Some construction site of the class gives the field a value that may be None
        (`CommandParameters(chart_id=item.get("chart_id"))` where `chart_id: int = 0`): the
        declaration says never None, the code that builds it says otherwise. Not for a
        validating model (pydantic), whose construction would fail instead."""
        if self._site_values is None:
            values: dict[tuple[str, str, str], list] = {}
            for site in self.models.all_sites():
                if site.model.validating:
                    continue  # pydantic refuses None for a field not Optional: the attribute never holds it
                for field_name, value in site.values.items():
                    values.setdefault((site.model.module.name, site.model.name, field_name), []).append((site, value))
            self._site_values = values
        return any(
            self.may_be_none(site.module, site.function, value, _MAX_DEPTH - 3)
            for site, value in self._site_values.get((module.name, cls.qualname, name), ())
        )

    def _instance_attribute_may_be_none(self, module: Module, cls: Class, name: str, depth: int) -> bool:
        target = "self." + name
        for qualname in cls.methods.values():
            function = module.functions.get(qualname)
            if function is None:
                continue
            for binding in function.attribute_bindings:
                if binding.name == target and self._binding_may_be_none(module, binding, function):
                    return True
        if depth > 20:
            return False
        return any(
            self._instance_attribute_may_be_none(base_module, base, name, depth + 1)
            for base_module, base in self.types.project_bases(module, cls)
        )

    def class_of(self, module: Module, function: Function, name: str, depth: int = 0) -> tuple[Module, Class] | None:
        return self.types.class_of(module, function, name, depth)

    def _class_of_annotation(self, module: Module, core) -> tuple[Module, Class] | None:
        return self.types.class_of_annotation(module, core)

    def _external(self, module: Module, annotation) -> bool:
        """An annotation naming a class from outside the project (not a builtin)."""
        if annotation is None or annotation.container:
            return False
        for name in annotation.core:
            symbol = self.project.resolve(module, name)
            if symbol is not None and symbol.external:
                return True
            if symbol is None and name.split(".", 1)[0] in module.imports:
                return True  # imported from a module that is not in the project
        return False

    def _class(self, module: Module, dotted: str | None) -> tuple[Module, Class] | None:
        return self.types.class_at(module, dotted)


def _binding_says_none(binding, declared_optional: bool) -> bool:
    if declared_optional:
        return True
    return binding.value is not None and binding.value.kind in ("none", "maybe_none")


def _is_any(annotation) -> bool:
    return bool(annotation.core) and all(last_name(name) in ("Any", "object") for name in annotation.core)


def _enclosing(module: Module, function: Function) -> Function | None:
    """The function a nested function is defined in (not a class body)."""
    qualname = function.qualname
    while "." in qualname:
        qualname = qualname.rsplit(".", 1)[0]
        found = module.functions.get(qualname)
        if found is not None:
            return found
        if qualname in module.classes:
            return None
    return None


def _call_name(value: Value | None) -> str:
    if value is None or value.kind != "call" or value.call is None:
        return ""
    return last_name(value.call.callee or value.call.method)


def _flag(call: Call | None, name: str) -> bool:
    value = call.kwarg(name) if call is not None else None
    return value is not None and value.text == "True"


# What each module adds to the project-wide indexes (Project.index): after an edit, only the
# edited module's entries are gathered again, and a question reads only the modules that
# hold entries under its name.
def _attributes(module: Module):
    """Under an attribute's name: (class qualname, Field) for each declared field, (class
    qualname, method, binding) for each `self.<name> = ...` in a method; the index knows
    the module (Index.located: with it, and nested, they were 6 MB more at 10,000 files)."""
    for cls in module.facts.classes:
        for fact in cls.fields:
            yield fact.name, (cls.qualname, fact)
    for function in module.facts.functions:
        if function.class_qualname is None:
            continue
        for binding in function.attribute_bindings:
            if binding.name.startswith("self."):
                yield binding.name[5:], (function.class_qualname, function, binding)


def _annotated_methods(module: Module):
    """Under a method's name: (module, method) for each method with a return annotation."""
    for function in module.facts.functions:
        if function.class_qualname is not None and function.returns is not None:
            yield function.name, (module, function)
