"""RL003 repeated-row-read: the same row fetched again in the same function."""

from __future__ import annotations

from typing import Iterable

from ..diagnostics import Finding, Related
from ..facts import Binding, Function
from ..knowledge.db import Db, DbOptions, is_migration, Read, last, matches
from ..knowledge.flow import block_map, missing_branch, same_path
from ..project import Module, Project
from ..rule import Rule


class RepeatedRowRead(Rule):
    code = "RL003"
    name = "repeated-row-read"
    uses = frozenset({"db"})

    def check(self, project: Project) -> Iterable[Finding]:
        options = DbOptions.from_rule(self.options)
        modules = (m for m in self.judged_modules(project, self.options.get("skip-paths") or ()) if not is_migration(m))
        yield from self.per_module(modules, lambda module: self._module(project, module, options))

    def _module(self, project: Project, module: Module, options: DbOptions) -> Iterable[Finding]:
        for function in module.facts.functions:
            if function.qualname != "<module>" and function.calls:
                yield from self._function(project, module, function, options)

    def _function(self, project: Project, module: Module, function: Function, options: DbOptions) -> Iterable[Finding]:
        db = Db(project, module, function, options)
        groups: dict[str, list[Read]] = {}
        for read in db.repeatable_reads():
            if read.exact and not read.check_only:
                groups.setdefault(read.key, []).append(read)
        blocks = None
        for group in groups.values():
            if len(group) < 2:
                continue
            blocks = blocks if blocks is not None else block_map(function)
            group.sort(key=lambda r: r.call.order)
            for index, second in enumerate(group):
                earlier = [
                    first for first in group[:index]
                    if same_path(function, blocks, first.call.order, first.call.blocks, second.call.order,
                                 second.call.blocks)
                    and not _rebound(db, first, second)
                    and not _fallback(blocks, first, second)
                    and not _created_elsewhere(db, function, first, second)
                    and db.changes_between(first, second) is None
                ]
                if earlier:
                    cached = all(_identity_map(db, first, second) for first in earlier)
                    yield _finding(module, second, earlier, len(group), cached)


# Inserts that leave the new object in a local name (re-reading its row repeats a read);
# a raw `insert()` statement or a create helper leaves nothing to reuse.
OBJECT_INSERTS = frozenset({"session.add", "session.add_all", "save", "Model.objects.create"})
GET_FORMS = frozenset({"session.get", "session.get_one"})


def _identity_map(db: Db, first: Read, second: Read) -> bool:
    """`session.get` twice with nothing that expires the session between: SQLAlchemy serves
    the second from the identity map, without SQL."""
    return (first.form in GET_FORMS and second.form in GET_FORMS and not second.call.kwargs
            and not db.expires_between(first, second))


def _fallback(blocks: dict, first: Read, second: Read) -> bool:
    """The second read is an `except` handler's fallback (re-reading after a failure or a lost race)."""
    handlers = {b for b in second.call.blocks if b in blocks and blocks[b].kind == "except"}
    return bool(handlers - set(first.call.blocks))


def _created_elsewhere(db: Db, function: Function, first: Read, second: Read) -> bool:
    """The first read found nothing and the second one, on that missing branch, picks up a row
    that a create helper (or the race it may lose) made in between: there is no object to
    reuse. When the function built and added the object itself, or nothing created it, the
    re-read is a real repeat."""
    subjects = {first.call.text}
    if first.call.assigned_to:
        subjects.add(first.call.assigned_to)
    if missing_branch(function, subjects, first.call.span, second.call.blocks, second.call.span,
                      first.call.blocks) is None:
        return False
    created = False
    for call in function.calls:
        if first.call.order < call.order < second.call.order:
            insert = db.insert_of(call)
            if insert is not None and insert.form in OBJECT_INSERTS:
                return False
            if insert is not None or matches(last(call.callee or call.method), db.options.insert_helpers):
                created = True
    return created


def _rebound(db: Db, first: Read, second: Read) -> bool:
    """A name the key uses was rebound between the reads, to something other than the same row."""
    for name in second.names:
        for binding in db.bindings_of(name):
            if first.call.order < binding.order < second.call.order and not _same_row(db, binding, name):
                return True
    return False


def _same_row(db: Db, binding: Binding, name: str, depth: int = 0) -> bool:
    """`name = <read of name's own row>` (directly or through another name) keeps the row."""
    value = binding.value
    if value is None or depth > 3:
        return False
    if value.kind == "name" and value.ref:
        earlier = db.binding_before(value.ref, binding.order)
        return earlier is not None and _same_row(db, earlier, name, depth + 1)
    if value.call is None:
        return False
    read = db.read_of(value.call)
    return read is not None and read.mentions(name)


def _row_text(read: Read) -> str:
    call = read.call
    if read.form in ("session.get", "session.get_one", "session.refresh") and call.args:
        return ", ".join(a.text or a.ref or "?" for a in call.args if a.text or a.ref)
    return call.text


def _finding(module: Module, second: Read, earlier: list[Read], count: int, cached: bool) -> Finding:
    row = _row_text(second)
    lines = ", ".join(str(r.call.span[0]) for r in earlier)
    if cached:
        message = (
            f"`{row}` was already read on line {lines} of this function ({count} reads of this row here); "
            "nothing expires the session in between, so SQLAlchemy answers from its identity map without a "
            "round trip: redundant code rather than a wasted query; reuse the object"
        )
    else:
        message = (
            f"`{row}` was already read on line {lines} of this function ({count} reads of this row here); "
            "reuse the object the write returned, or refresh once after the last write"
        )
    related = [Related(module.path, r.call.span, "earlier read of the same row") for r in earlier]
    return Finding(module.path, second.call.span, message, related)


RULE = RepeatedRowRead
