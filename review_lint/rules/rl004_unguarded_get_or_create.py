"""RL004 unguarded-get-or-create: read-then-insert without the three-part guard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..diagnostics import Finding, Related
from ..facts import Block, Call, Function
from ..knowledge.db import (Db, DbOptions, Insert, Read, guarded_by_constraint, integrity_handler, is_migration, last,
                             lookup_columns, startup_only, surrogate_key, unique_sets)
from ..knowledge.flow import (block_map, handlers_of, missing_branch, missing_handler, same_path, testable_calls,
                               tests_presence)
from ..project import Module, Project
from ..rule import Rule

SAVEPOINT = (
    "no savepoint (`session.begin_nested()` / `transaction.atomic()`) around the insert, so on "
    "PostgreSQL a caught IntegrityError leaves the whole transaction aborted"
)
HANDLER = (
    "no `except IntegrityError` around the insert, so the request that loses the race fails with an "
    "unhandled IntegrityError"
)
REREAD = (
    "the `except IntegrityError` handler neither re-reads the winner's row nor raises, so the conflict is "
    "swallowed and the caller gets nothing or a stale object"
)
PROJECT_HANDLER = (
    "no `except IntegrityError` around the insert; the project-wide IntegrityError handler ({where}) turns "
    "the lost race into an error response (409), so a client whose create should be idempotent gets a "
    "conflict instead of the existing row"
)
NO_CONSTRAINT = (
    "no unique constraint of `{model}` covers the looked-up column(s) `{columns}`, so no IntegrityError can "
    "be raised: the request that loses the race silently inserts a duplicate row; add a unique constraint "
    "first, then guard the insert (savepoint, `except IntegrityError`, re-read) or use an upsert"
)
BROAD = (
    "the IntegrityError is only caught by a broad `{name}` handler, which hides the lost race among every "
    "other failure"
)
BROAD_REREAD = "and that handler neither re-reads the winner's row nor raises"
CASCADE = "adding the child also inserts the new `{model}` built where it was missing (relationship cascade): "


@dataclass
class Guard:
    savepoint: bool = False
    handler: Block | None = None
    broad: str | None = None  # the broad exception's name when only a broad handler catches it
    reread: bool = False


class UnguardedGetOrCreate(Rule):
    code = "RL004"
    name = "unguarded-get-or-create"
    uses = frozenset({"db"})

    def check(self, project: Project) -> Iterable[Finding]:
        options = DbOptions.from_rule(self.options)
        missing = tuple(self.options.get("missing-exceptions") or ())
        modules = (m for m in self.judged_modules(project, self.options.get("skip-paths") or ()) if not is_migration(m))
        yield from self.per_module(modules, lambda module: self._module(project, module, options, missing))

    def _module(self, project: Project, module: Module, options: DbOptions, missing: tuple[str, ...]) -> Iterable[Finding]:
        for function in module.facts.functions:
            if function.qualname != "<module>" and function.calls:
                yield from self._function(project, module, function, options, missing)

    def _function(self, project: Project, module: Module, function: Function, options: DbOptions,
                  missing_exceptions: tuple[str, ...]) -> Iterable[Finding]:
        db = Db(project, module, function, options)
        if not db.reads() and not tests_presence(function):
            # Neither a plain read nor a branch that could be the missing one: no read can
            # start the pattern, and resolving the calls would make this verdict depend on
            # every module they name, for nothing.
            return
        reads = sorted(db.check_reads(testable_calls(function)), key=lambda r: -r.call.order)
        if not reads:
            return  # looked for before the inserts: most functions read nothing
        inserts = [i for i in (db.insert_of(c) for c in function.calls) if i is not None]
        inserts += db.created_inserts(inserts)
        inserts += [cascade for insert in inserts for cascade in db.cascades(insert)]
        if not inserts:
            return
        blocks = block_map(function)
        seen: dict[tuple[int, int], list[Call]] = {}
        for insert in sorted(inserts, key=lambda i: i.call.order):
            found = _check_then(function, blocks, reads, insert, missing_exceptions)
            if found is None:
                continue
            read, branch = found
            if _keyed_by_new_row(inserts, read) or db.expects_several(read):
                continue
            # One finding per get-or-create, unless its inserts sit in branches that exclude each other.
            earlier = seen.setdefault((id(read), branch.id), [])
            if any(same_path(function, blocks, c.order, c.blocks, insert.call.order, insert.call.blocks)
                   for c in earlier):
                continue
            earlier.append(insert.call)
            if insert.form == "helper" and _helper_guards(db, insert.call):
                continue
            if _serialised_by_lock(db, function, blocks, reads, insert) or _under_lock(db, blocks, read, insert):
                continue
            guard = _guard(db, function, blocks, insert.call, read, insert.form not in _IMMEDIATE)
            message = _message(guard)
            if message is None:
                continue
            located = db.model_class(read)
            sets = unique_sets(project, located) if located is not None else None
            columns = lookup_columns(read)
            if located is not None and columns and surrogate_key(project, located, columns):
                continue  # found by the id the database gave it: the missing branch makes a new row, a new id
            entry = startup_only(project, module, function)
            if entry == "command":
                continue  # one process, run by an operator: nothing races it
            if sets is not None and columns is not None and not guarded_by_constraint(sets, columns):
                message = NO_CONSTRAINT.format(model=located[1].name, columns=", ".join(sorted(columns)))
            else:
                if entry is not None:
                    continue  # see the rule's doc: a boot that loses the race fails and is retried
                handler = integrity_handler(project, options) if guard.handler is None else None
                if handler is not None:
                    message = message.replace(HANDLER, PROJECT_HANDLER.format(where=handler))
            related = [
                Related(module.path, read.call.span, "the read that found no row"),
                Related(module.path, branch.span, "the branch where the row is missing"),
            ]
            if insert.built is not None:
                related.append(Related(module.path, insert.built[2], f"the new `{insert.model}` the insert cascades to"))
                message = CASCADE.format(model=insert.model) + message
            yield Finding(module.path, insert.call.span, f"check-then-insert race: {message}", related)


def _same_thing(read: Read, insert: Insert) -> bool:
    if insert.form == "cascade":  # a parent inserted along with its child: only a read of that parent
        return bool(read.model) and last(read.model) == insert.model
    return not read.model or not insert.model or last(read.model) == last(insert.model)


def _check_then(function: Function, blocks: dict[int, Block], reads: list[Read], insert: Insert,
                missing_exceptions: tuple[str, ...]) -> tuple[Read, Block] | None:
    """The latest earlier read of the same thing on whose missing branch the insert runs (for a
    cascade: on whose missing branch the parent was built)."""
    order, where, span = insert.built or (insert.call.order, insert.call.blocks, insert.call.span)
    for read in reads:
        if read.call.order >= order or not _same_thing(read, insert):
            continue
        subjects = {read.call.text, f"await {read.call.text}"}  # `if await find(...): return`
        if read.call.assigned_to:
            subjects.add(read.call.assigned_to)
        branch = missing_branch(function, subjects, read.call.span, where, span, read.call.blocks)
        if branch is None and read.raises_when_missing:
            branch = missing_handler(function, blocks, read.call.blocks, where, missing_exceptions)
        if branch is not None:
            return read, branch
    return None


def _new_object_name(insert: Insert) -> str | None:
    call = insert.call
    if insert.form == "save" and call.receiver is not None:
        return call.receiver.ref
    if insert.form == "session.add" and call.args and call.args[0].kind == "name":
        return call.args[0].ref
    return call.assigned_to


def _keyed_by_new_row(inserts: list[Insert], read: Read) -> bool:
    """The read looks for children of a row this function itself inserted just before, on
    every path to the read (`email.save()`, then `Attachment.objects.filter(email=email)`): no
    one else can race on it. A row inserted only on some paths (`if tag is None: add(tag)`)
    may be another request's."""
    for insert in inserts:
        if (
            insert.call.order < read.call.order and _new_object_name(insert) in read.names
            and read.call.blocks[: len(insert.call.blocks)] == insert.call.blocks
        ):
            return True
    return False


def _serialised_by_lock(db: Db, function: Function, blocks: dict[int, Block], reads: list[Read],
                        insert: Insert) -> bool:
    """An earlier read on the insert's path locks a row of another model (`Parent.objects
    .select_for_update().get(pk=...)`): every writer waits for that lock, so the check and the
    insert run one request at a time. Locking the looked-up row itself guards nothing when it
    does not exist yet."""
    call = insert.call
    return any(
        read.call.order < call.order and read.model and insert.model and last(read.model) != last(insert.model)
        and db.locks_row(read)
        and same_path(function, blocks, read.call.order, read.call.blocks, call.order, call.blocks)
        for read in reads
    )


def _under_lock(db: Db, blocks: dict[int, Block], read: Read, insert: Insert) -> bool:
    """The check and the insert run inside one `with` of a lock (`with advisory_lock(key):`,
    `with cache.lock(name):`): the writers take turns."""
    shared = set(read.call.blocks) & set(insert.call.blocks)
    return any(blocks[b].kind == "with" and any(db.is_lock(item) for item in blocks[b].items)
               for b in shared if b in blocks)


def _helper_guards(db: Db, call: Call) -> bool:
    """A create helper that catches IntegrityError itself."""
    definition = db.definition(call)
    if definition is None:
        return False
    return any(
        block.kind == "except" and any(db.exception_kind(name) == "integrity" for name in block.catches)
        for block in definition.blocks
    )


# Django's inserts run their INSERT at once: a later flush, commit or save cannot raise their error.
_IMMEDIATE = frozenset({"Model.objects.create", "save"})


def _guard(db: Db, function: Function, blocks: dict[int, Block], insert: Call, read: Read, pending: bool) -> Guard:
    guard = Guard()
    # Where the IntegrityError surfaces: the insert itself, or (for a session's pending insert)
    # a later flush / commit / save on its path; Django's create() and save() raise at once.
    raisers = [insert]
    for call in function.calls:
        if (
            pending and call.order > insert.order and call.method in ("commit", "flush", "save")
            and (call.method == "save" or db.is_session(call.receiver))
            and same_path(function, blocks, insert.order, insert.blocks, call.order, call.blocks)
        ):
            raisers.append(call)
    for raiser in raisers:
        for block_id in reversed(raiser.blocks):
            block = blocks.get(block_id)
            if block is None or block.kind != "try":
                continue
            integrity, broad = None, None
            for handler in handlers_of(blocks, block):
                kinds = {db.exception_kind(name) for name in handler.catches}
                if "integrity" in kinds and integrity is None:
                    integrity = handler
                elif "broad" in kinds and broad is None and not _raises(function, handler):
                    broad = handler
            chosen = integrity or broad
            if chosen is None:
                continue
            guard.handler = chosen
            if integrity is None:
                guard.broad = next((n or "except:" for n in chosen.catches if db.exception_kind(n) == "broad"),
                                   "Exception")
            guard.reread = _raises(function, chosen) or _rereads(db, function, blocks, chosen, block, insert)
            guard.savepoint = _savepoint(db, function, blocks, insert, block, chosen)
            return guard
    guard.savepoint = _savepoint(db, function, blocks, insert, None, None)
    return guard


def _raises(function: Function, handler: Block) -> bool:
    return any(e.kind == "raise" and handler.id in e.blocks for e in function.exits)


def _rereads(db: Db, function: Function, blocks: dict[int, Block], handler: Block, try_block: Block,
             insert: Call) -> bool:
    """A read in the handler, or right after the try statement on the handler's path."""
    arms = {b.id for b in blocks.values() if b.group == try_block.group}
    for top in db.tops():
        if top.order <= insert.order or db.check_read_of(top) is None:
            continue
        if handler.id in top.blocks:
            return True
        if not arms & set(top.blocks) and top.span[:2] > handler.span[2:] and not any(
            e.kind in ("return", "raise") and handler.id in e.blocks for e in function.exits
        ):
            return True
    return False


def _savepoint(db: Db, function: Function, blocks: dict[int, Block], insert: Call, try_block: Block | None,
               handler: Block | None) -> bool:
    if db.savepoint_helper(insert):
        return True
    for block_id in insert.blocks:
        block = blocks.get(block_id)
        if block is not None and block.kind == "with" and any(db.is_savepoint(item) for item in block.items):
            return True
    for call in function.calls:
        if call.order >= insert.order:
            break
        if call.method in db.options.savepoints and db.is_session(call.receiver) and (
            try_block is None or try_block.id in call.blocks or _rolled_back(function, call, handler)
        ) and set(call.blocks) <= set(insert.blocks):
            return True
    if handler is not None:
        # A full rollback in the handler also clears the aborted transaction (losing its earlier work).
        for call in function.calls:
            if call.method == "rollback" and handler.id in call.blocks and db.is_session(call.receiver):
                return True
    return False


def _rolled_back(function: Function, savepoint: Call, handler: Block | None) -> bool:
    """`sp = await session.begin_nested()` before the `try`, `await sp.rollback()` in its handler:
    a savepoint held in a variable."""
    name = savepoint.assigned_to
    return bool(name) and handler is not None and any(
        call.method == "rollback" and call.receiver is not None and call.receiver.ref == name
        and handler.id in call.blocks
        for call in function.calls
    )


def _message(guard: Guard) -> str | None:
    parts: list[str] = []
    if guard.handler is None:
        parts.append(HANDLER if not guard.savepoint else HANDLER + " (the savepoint alone does not catch it)")
    elif guard.broad is not None:
        parts.append(BROAD.format(name=f"except {guard.broad}" if guard.broad != "except:" else "except:"))
        if not guard.reread:
            parts.append(BROAD_REREAD)
        if not guard.savepoint:
            parts.append(SAVEPOINT)
    else:
        if not guard.savepoint:
            parts.append(SAVEPOINT)
        if not guard.reread:
            parts.append(REREAD)
    if not parts:
        return None
    return "; ".join(parts) + " (an upsert or `get_or_create` avoids the race)"


RULE = UnguardedGetOrCreate
