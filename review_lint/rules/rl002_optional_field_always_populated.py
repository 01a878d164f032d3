"""RL002: an Optional protocol field that every construction site fills with a value."""

from __future__ import annotations

from typing import Iterable

from ..diagnostics import Finding, Related
from ..facts import NO_SPAN, Value
from ..knowledge.handlers import HandlerConfig, find_handlers
from ..knowledge.models import ModelField, Models, Site
from ..knowledge.nullability import Nullability
from ..project import Project
from ..rule import Rule


def _is_identifier_field(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _states_an_external_specification(cls, fragments: list[str]) -> bool:
    """A model that implements a published specification (OAuth metadata, an RFC's
    document) declares that specification's Optional fields: other parties may omit
    them, whatever this code sends."""
    name = cls.name.lower()
    return cls.specification is not None or any(fragment in name for fragment in fragments)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class OptionalFieldAlwaysPopulated(Rule):
    code = "RL002"
    name = "optional-field-always-populated"
    uses = frozenset({"handlers"})

    def check(self, project: Project) -> Iterable[Finding]:
        options = self.options
        models = Models(
            project,
            bases=options["model-bases"],
            decorators=options["model-decorators"],
            ordered_bases=options["ordered-bases"],
            keyed_bases=options["keyed-bases"],
            inspecting_functions=options["inspecting-functions"],
            handlers=set(find_handlers(project, HandlerConfig.from_options(self.options))),
        )
        nulls = Nullability(
            project,
            models,
            options["none-returning-methods"],
            options["guess-unknown-receivers"],
            options["subscripts-may-be-none"],
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
        for model_field, sites in evidence.values():
            if project.is_test(model_field.module.path) or len(sites) < min_sites:
                continue
            if _states_an_external_specification(model_field.cls, fragments):
                continue
            nulls.judging((model_field.module.path, model_field.cls.qualname))
            if any(value is None or nulls.may_be_none(site.module, site.function, value) for site, value in sites):
                continue
            yield self._finding(model_field, sites)

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
