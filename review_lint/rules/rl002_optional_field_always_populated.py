"""RL002: an Optional protocol field that every construction site fills with a value."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..diagnostics import Finding, Related
from ..facts import NO_SPAN, Value
from ..knowledge.handlers import HandlerConfig, find_handlers
from ..knowledge.models import ModelField, Models, Site
from ..knowledge.nullability import Nullability
from ..project import Project, last_name
from ..rule import Rule


def _is_identifier_field(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _states_an_external_specification(cls, fragments: list[str]) -> bool:
    """A model that implements a published specification (OAuth metadata, an RFC's
    document) declares that specification's Optional fields: other parties may omit
    them, whatever this code sends."""
    name = cls.name.lower()
    return cls.specification is not None or any(fragment in name for fragment in fragments)


def _none_is_documented(model_field: ModelField) -> bool:
    """The field's documentation says what None means ("the log column, or None when
    there is none"): None is a state the declaration gives on purpose, not an accident
    of typing, even if today's sites all happen to fill it."""
    return model_field.name in model_field.cls.none_documented


def _is_hook(model_field: ModelField) -> bool:
    """An optional callable (`Optional[Callable[[str], None]]`) is a hook: None is "do
    nothing", a behaviour its caller picks, not a value a consumer is handed."""
    annotation = model_field.annotation
    return annotation is not None and bool(annotation.core) and all(
        last_name(core) == "Callable" for core in annotation.core)


# Functions that copy a model with some fields replaced: `replace(obj, field=value)`.
_REPLACES = {"dataclasses.replace", "msgspec.structs.replace", "attr.evolve", "attrs.evolve", "copy.replace"}


def _writes(module) -> Iterator[tuple[str, tuple]]:
    """Under the name of the attribute written: (module, function, binding, None) for each
    `obj.attr = value`, and (module, function, None, call) for each `_replace(...)` /
    `replace(...)` / `evolve(...)` call with keywords, under each keyword: what
    `_none_written` looks at, as a project index (after an edit, only the edited module's
    writes are gathered again, and only writes of the fields in question are looked at)."""
    for function in module.facts.functions:
        for binding in function.attribute_bindings:
            head, _, name = binding.name.rpartition(".")
            if binding.value is not None and head:
                yield name, (module, function, binding, None)
        for call in function.calls:
            if call.kwargs and ((call.method == "_replace" and call.receiver is not None)
                                or (call.args and last_name(call.callee) in ("replace", "evolve"))):
                for name in dict.fromkeys(name for name, _ in call.kwargs):
                    yield name, (module, function, None, call)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class OptionalFieldAlwaysPopulated(Rule):
    code = "RL002"
    name = "optional-field-always-populated"
    uses = frozenset({"handlers", "models"})

    def check(self, project: Project) -> Iterable[Finding]:
        options = self.options
        models = Models(
            project,
            bases=options["model-bases"],
            decorators=options["model-decorators"],
            ordered_bases=options["ordered-bases"],
            keyed_bases=options["keyed-bases"],
            inspecting_functions=options["inspecting-functions"],
            handlers={handler.defined for handler in find_handlers(project, HandlerConfig.from_options(self.options)).values()},
        )
        nulls = Nullability(
            project,
            models,
            options["none-returning-methods"],
            options["guess-unknown-receivers"],
            options["subscripts-may-be-none"],
            options["none-attributes"],
        )
        min_sites = max(1, options["min-sites"])

        # Per Optional field declaration: every site of its model (or a subclass
        # that inherits it), with the value the site gives (None: not given).
        evidence: dict[tuple[str, str, str], tuple[ModelField, list[tuple[Site, Value | None]]]] = {}
        optional_fields: dict[tuple[str, str, str], bool] = {}
        for site in models.all_sites():
            for name, model_field in site.model.fields.items():
                optional = optional_fields.get(model_field.key)
                if optional is None:  # asked once per field, not once per site
                    optional = optional_fields[model_field.key] = project.optional(
                        model_field.module, model_field.annotation
                    )
                if not optional:
                    continue
                entry = evidence.setdefault(model_field.key, (model_field, []))
                entry[1].append((site, site.values.get(name)))

        fragments = [f.lower() for f in options["external-specification-names"]]
        defaulted = options["defaulted-fields"]
        judged = [
            (model_field, sites) for model_field, sites in evidence.values()
            if not project.is_test(model_field.module.path) and len(sites) >= min_sites
            and not _states_an_external_specification(model_field.cls, fragments)
            and not _none_is_documented(model_field) and not _is_hook(model_field)
            and self._judges(defaulted, models, model_field, optional_fields)
        ]
        written = self._none_written(project, models, nulls, {key for key in evidence})
        for model_field, sites in judged:
            if model_field.key in written:
                continue  # `obj.field = None` somewhere: a site that gives None
            nulls.judging((model_field.module.path, model_field.cls.qualname))
            if any(value is None or nulls.may_be_none(site.module, site.function, value) for site, value in sites):
                continue
            yield self._finding(model_field, sites)

    @staticmethod
    def _judges(defaulted: str, models: Models, model_field: ModelField, optional_fields) -> bool:
        """Whether the declaration makes "every site gives a value" a contradiction
        (option `defaulted-fields`). A field without a default (a required TypedDict
        key) forces every site to choose: always judged. A defaulted one is an
        optional input ("omit it"), judged only with `judge`, or with `forced` when
        field order forced the default and the model is not a bag of options (more
        than half of its fields Optional with a default: filters, updates, settings)."""
        if not model_field.defaulted or defaulted == "judge":
            return True
        if defaulted != "forced" or not model_field.forced:
            return False
        info = models.info(model_field.module, model_field.cls)
        fields = list(info.fields.values()) if info is not None else []
        options = sum(
            1 for f in fields
            if f.defaulted and optional_fields.get(f.key, models.project.optional(f.module, f.annotation))
        )
        return options * 2 <= len(fields)

    @staticmethod
    def _none_written(project: Project, models: Models, nulls: Nullability, keys) -> set[tuple[str, str, str]]:
        """Optional fields some code sets to None after construction: `obj.field = None`
        (or a value that may be None) where the class of `obj` is known to be a
        model declaring the field. Such an assignment is a site that gives None."""
        names = {key[2] for key in keys}
        written: set[tuple[str, str, str]] = set()
        # Per write: the field it targets, and whether it may write None (asked only of the
        # fields in question). Kept across the language server's and the daemon's edits:
        # an entry is dropped when a module it read changes (project.Memo).
        verdicts = project.memo("rl002-none-writes", kept=True)

        def write(module, function, head: str, name: str, value, span) -> None:
            if not head or name not in names or value is None:
                return
            key = (module.path, function.qualname, span, head, name)
            known = verdicts.get(key)
            if known is None or (known[0] in keys and known[1] is None):
                owner = models.types.dotted_class(module, function, head)
                info = models.info(*owner) if owner is not None else None
                target = info.fields.get(name) if info is not None else None
                field = target.key if target is not None else None
                known = verdicts[key] = (field, nulls.may_be_none(module, function, value) if field in keys else None)
            if known[0] in keys and known[1]:
                written.add(known[0])

        writes = project.index("rl002-attribute-writes", _writes)
        for name in sorted(names):
            for module, function, binding, call in writes.get(name):
                if project.is_test(module.path):
                    continue
                if binding is not None:
                    write(module, function, binding.name.rpartition(".")[0], name, binding.value, binding.span)
                    continue
                # `replace(obj, field=None)` / `obj._replace(field=None)`: a copy with None.
                if call.method == "_replace" and call.receiver is not None:
                    copied = call.receiver
                elif project.qualified(project.resolve(module, call.callee)) in _REPLACES:
                    copied = call.args[0]
                else:
                    continue
                if copied.kind in ("name", "attr"):
                    write(module, function, copied.text, name, call.kwarg(name), call.span)
        return written

    def _finding(self, model_field: ModelField, sites: list[tuple[Site, Value]]) -> Finding:
        related = []
        leaks = []
        for site, value in sites:
            text = value.text or "…"
            span = value.span if value.span != NO_SPAN else site.span
            related.append(
                Related(site.module.path, span, f"`{site.model.name}` built here sets `{model_field.name}` to `{text}`")
            )
            if _is_identifier_field(model_field.name) and value.kind == "attr" and value.text.endswith(".id"):
                leaks.append(value.text)
        annotation = model_field.annotation.text if model_field.annotation is not None else "Optional"
        count = len(sites)
        every = "the only construction site gives" if count == 1 else f"all {count} construction sites give"
        message = (
            f"`{model_field.cls.qualname}.{model_field.name}` is declared `{annotation}`, but {every} it a value "
            f"that cannot be None; make the field required or stop sending it"
        )
        if leaks:
            shown = ", ".join(f"`{text}`" for text in dict.fromkeys(leaks))
            message += f"; {shown} may expose an internal identifier to clients"
        return Finding(model_field.module.path, model_field.fact.span, message, related)


RULE = OptionalFieldAlwaysPopulated
