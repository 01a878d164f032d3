"""What a database session, row read, insert, savepoint and IntegrityError are.

Judged from facts only: SQLAlchemy (sync and async sessions, the legacy
`query()` API, Flask-SQLAlchemy's `Model.query`), SQLModel (`session.exec`),
Django (`Model.objects`, `refresh_from_db`, `save`), and project helpers whose
definition takes a session. `Db` answers for one function of one module.
"""

from __future__ import annotations

import builtins
import functools
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterator

from ..config import name_matches
from ..facts import Binding, Call, Function, Param, Span, Value, string_literal
from ..project import Module, Project, base_ref, last_name, one_object
from .callgraph import call_graph, key_of
from .types import DJANGO_QUERYSET, types_of

# Methods that end a query chain with (at most) one row.
ROW_ENDINGS = frozenset(
    {"first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none", "get", "get_one",
     "first_or_404", "one_or_404", "get_or_404", "last", "earliest", "latest"}
)
# Row endings that answer None (or False) for a missing row instead of raising.
NONE_WHEN_MISSING = frozenset({"first", "last", "one_or_none", "scalar", "scalar_one_or_none", "exists"})
# Session methods that run a statement given as their first argument.
STATEMENT_RUNNERS = frozenset({"execute", "exec", "scalar", "scalars"})
_RESULT_FORMS = frozenset(f"session.{method}" for method in STATEMENT_RUNNERS)  # reads of a statement's Result
# A view's queryset: Django's and DRF's generic views document these as QuerySets.
_VIEW_PACKAGES = ("django.views.", "rest_framework.")
_VIEW_QUERYSET_ATTRIBUTES = frozenset({"self.object_list", "self.queryset"})
_VIEW_QUERYSET_METHODS = frozenset({"get_queryset", "filter_queryset"})
_QUERYSET_ROW_ENDINGS = frozenset({"first", "last", "get", "earliest", "latest"})
_BUILTINS = frozenset(dir(builtins))
_NOT_MODELS = frozenset({"Any", "Optional", "Union", "None", "UUID", "Sequence", "List", "Dict", "Awaitable"})


matches = name_matches  # option globs over names; the rules import it from here
last = last_name  # the rules import it from here

# Session methods after which the identity map no longer answers `session.get` without SQL.
EXPIRING = frozenset({"commit", "rollback", "expire", "expire_all", "expunge", "expunge_all", "refresh", "close",
                      "invalidate", "reset"})
# Session methods that detach or expire one object (or all): a later read of its row reads new state.
DETACHING = frozenset({"expunge", "expire", "expunge_all", "expire_all", "refresh"})


def is_migration(module: Module) -> bool:
    """A schema or data migration, by folder (`migrations/`, `_migrations/`, `db_migrations/`,
    `alembic/`) or by shape: Alembic's module-level `upgrade()` and `downgrade()` beside a
    `revision` (or in a `versions/` folder), or Django's `class Migration(...Migration)`."""
    return module.derived(_is_migration)  # asked by two rules of every module after every edit


def _is_migration(module: Module) -> bool:
    path = module.path
    if any(folder.endswith("migrations") or folder == "alembic" for folder in path.split("/")[:-1]):
        return True
    functions = module.functions
    if "upgrade" in functions and "downgrade" in functions and (
        "/versions/" in f"/{path}" or "revision" in module.variables or "down_revision" in module.variables
    ):
        return True
    migration = module.classes.get("Migration")
    return migration is not None and any(last(base_ref(b) or "").endswith("Migration") for b in migration.bases)


@dataclass
class DbOptions:
    """The `database` option group (`rules/groups/database.yaml`), as a rule received it.

    No defaults here: the YAML states them once, and every rule takes the group whole."""

    receivers: list[str]
    session_types: list[str]
    not_sessions: list[str]
    read_helpers: list[str]
    read_functions: list[str]
    insert_helpers: list[str]
    insert_functions: list[str]
    upsert_methods: list[str]
    savepoints: list[str]
    integrity_errors: list[str]
    broad_errors: list[str]

    def reads_key(self) -> tuple:
        """The options a read's classification depends on (one object for all memo keys)."""
        return one_object(tuple(map(tuple, (self.receivers, self.session_types, self.not_sessions,
                                            self.read_helpers, self.read_functions))))

    @classmethod
    def from_rule(cls, options: dict) -> "DbOptions":
        """From a rule's options; a rule that does not take the `database` group is a KeyError."""
        return cls(**{name: list(options[name.replace("_", "-")]) for name in cls.__dataclass_fields__})


@dataclass
class Read:
    """A read of (at most) one row. `key`: equal keys mean the same row."""

    call: Call  # the outermost call of the chain: where to report
    form: str
    key: str
    model: str | None
    names: frozenset[str]  # local names the key depends on
    exact: bool = True  # False when the key text was cut short or uses unknown names
    check_only: bool = False  # `.exists()`: tells presence, returns no row
    terms: tuple[Value, ...] = ()  # the values the key is made of (the chain's arguments, a bound statement)

    @property
    def raises_when_missing(self) -> bool:
        """Whether a missing row raises (`.one()`, Django's `.get()`; a helper may) rather than
        answering None (`.first()`, `.one_or_none()`, `session.get()`)."""
        if self.form == "session.get" or self.check_only:
            return False
        return self.call.method not in NONE_WHEN_MISSING

    def mentions(self, name: str) -> bool:
        """The row is looked up by `name` itself or its `.id` / `.pk`: an argument, or an
        operand of one (`User.id == user.id`), at any depth."""
        wanted = (name, f"{name}.id", f"{name}.pk")
        pending = list(self.terms)
        seen = 0
        while pending and seen < 500:
            seen += 1
            value = pending.pop()
            if value.kind in ("name", "attr") and value.ref in wanted:
                return True
            pending.extend(value.elements)
            pending.extend(v for _, v in value.entries)
            call = value.call
            if call is not None:
                pending.extend(call.args)
                pending.extend(v for _, v in call.kwargs)
                if call.receiver is not None:
                    pending.append(call.receiver)
        return False


@dataclass
class Insert:
    call: Call
    form: str
    model: str | None
    # "cascade": where the parent object the insert cascades to was built (its order, blocks, span)
    built: tuple[int, tuple[int, ...], Span] | None = None


class Db:
    """Database knowledge about one function."""

    def __init__(self, project: Project, module: Module, function: Function, options: DbOptions) -> None:
        self.project = project
        self.module = module
        self.function = function
        self.options = options
        self._session_cache: dict[str, bool] = {}

    # Built on first use: most functions are asked one cheap question and dropped.
    @functools.cached_property
    def _inner(self) -> set[int]:
        return {id(c.receiver.call) for c in self.function.calls if c.receiver is not None and c.receiver.call is not None}

    @functools.cached_property
    def _bindings(self) -> dict[str, list[Binding]]:
        found: dict[str, list[Binding]] = {}
        for binding in self.function.bindings:
            found.setdefault(binding.name, []).append(binding)
        return found

    # -- sessions ----------------------------------------------------------
    def is_session(self, value: Value | None) -> bool:
        if value is None or value.kind not in ("name", "attr") or not value.ref:
            return False
        text = value.ref
        known = self._session_cache.get(text)
        if known is None:
            known = self._is_session_text(text)
            self._session_cache[text] = known
        return known

    def _is_session_text(self, text: str) -> bool:
        options = self.options
        # Named like a session, or a parameter typed or named as one; most receivers
        # are neither, and are dismissed before the exclusions are looked up.
        root = text.split(".")[0]
        param = self.function.param(root)
        if not matches(last(text), options.receivers) and not (
            "." not in text and param is not None and self.is_session_param(param)
        ):
            return False
        if matches(text, options.not_sessions):
            return False
        if param is None and not self._bindings.get(root):
            symbol = self.project.resolve(self.module, text)
            if symbol is not None and symbol.external and matches(symbol.qualname, options.not_sessions):
                return False
        return True

    def is_session_param(self, param: Param) -> bool:
        if matches(param.name, self.options.receivers):
            return True
        annotation = param.annotation
        return annotation is not None and any(last(t) in self.options.session_types for t in annotation.core)

    # -- chains ------------------------------------------------------------
    def tops(self) -> list[Call]:
        """Calls that are not the receiver of another call (a chain's last link)."""
        return [c for c in self.function.calls if id(c) not in self._inner]

    @staticmethod
    def chain(top: Call) -> list[Call]:
        links = [top]
        call = top
        while call.receiver is not None and call.receiver.call is not None and len(links) < 64:
            call = call.receiver.call
            links.append(call)
        return links

    def binding_before(self, name: str, order: int) -> Binding | None:
        found = None
        for binding in self._bindings.get(name, ()):
            if binding.order < order:
                found = binding
        return found

    def bindings_of(self, name: str) -> list[Binding]:
        return self._bindings.get(name, [])

    def statement(self, value: Value | None, order: int, depth: int = 0) -> tuple[str, Call] | None:
        """("select" | "insert" | ..., the statement's root call) for a statement argument."""
        if value is None or depth > 4:
            return None
        if value.kind == "name" and value.ref:
            binding = self.binding_before(value.ref, order)
            if binding is None:
                return None
            return self.statement(binding.value, binding.order, depth + 1)
        if value.call is None:
            return None
        root = self.chain(value.call)[-1]
        receiver = root.receiver
        if root.method and receiver is not None and receiver.kind == "name" and receiver.ref:
            # `stmt.on_conflict_do_update(...)`: the statement `stmt` holds, built further
            binding = self.binding_before(receiver.ref, order)
            if binding is not None:
                return self.statement(binding.value, binding.order, depth + 1)
        name = root.callee or ""
        if root.method and root.receiver is not None and root.receiver.call is None:
            name = root.callee or root.method
        symbol = self.project.resolve(self.module, root.callee) if root.callee else None
        qualified = self.project.qualified(symbol) or name
        return last(qualified), root

    def statement_has(self, value: Value | None, order: int, methods: list[str], depth: int = 0,
                      blocks: tuple[int, ...] | None = None) -> bool:
        """The statement (or the binding it names) calls one of `methods` in its chain. With
        `blocks` (where the statement runs), a binding made in a branch the run is not in
        (`if override: stmt = stmt.on_conflict_do_update(...)`) leaves the binding before it
        reaching the run too: every binding that reaches it must call one."""
        if value is None or depth > 4:
            return False
        if value.kind == "name" and value.ref:
            binding = self.binding_before(value.ref, order)
            if binding is None or not self.statement_has(binding.value, binding.order, methods, depth + 1):
                return False
            if blocks is not None and not set(binding.blocks) <= set(blocks):
                earlier = self.binding_before(value.ref, binding.order)
                return earlier is None or self.statement_has(earlier.value, earlier.order, methods, depth + 1)
            return True
        if value.call is None:
            return False
        return any(link.method in methods for link in self.chain(value.call))

    # -- canonical keys ------------------------------------------------------
    # A key is built from the values' structure: equal keys mean the same row. Only
    # what the facts leave opaque ("other": a lambda, a comprehension) keeps its text,
    # and such a key is never exact (`names`).
    def canon(self, value: Value | None, bound: dict[str, str] | None = None) -> str:
        """The value as key text; `bound` maps local names to the canonical text of what
        they hold (a statement variable stands for its statement)."""
        if value is None:
            return ""
        if self.is_session(value):
            return "<session>"
        kind = value.kind
        if kind in ("name", "attr", "await") and value.ref and value.call is None:
            ref = value.ref
            if bound:
                head, dot, rest = ref.partition(".")
                if head in bound:
                    ref = bound[head] + dot + rest
            return "await " + ref if kind == "await" else ref
        if value.call is not None:
            text = self.canon_call(value.call, bound=bound)
            if kind == "member":
                return text + (value.op or "")
            return "await " + text if kind == "await" else text
        if kind == "op":
            return _canon_operation(value.op or "", [self.canon(e, bound) for e in value.elements], value)
        if kind == "seq":
            return "(" + ",".join(self.canon(e, bound) for e in value.elements) + ")"
        if kind == "dict" and not value.opaque_entries:
            return "{" + ",".join(f"{k!r}:{self.canon(v, bound)}" for k, v in value.entries) + "}"
        return value.text

    def canon_call(self, call: Call, drop_sessions: bool = False, bound: dict[str, str] | None = None) -> str:
        if call.method and call.receiver is not None:
            head = f"{self.canon(call.receiver, bound)}.{call.method}"
        else:
            head = call.callee or "?"  # a callee that is no name (`fns[0](x)`): `call_names` says inexact
        parts = [self.canon(a, bound) for a in call.args if not (drop_sessions and self.is_session(a))]
        parts += sorted(f"{k}={self.canon(v, bound)}" for k, v in call.kwargs
                        if not (drop_sessions and self.is_session(v)))
        if call.star_args:
            parts.append("*?")
        if call.star_kwargs:
            parts.append("**?")
        return f"{head}({','.join(parts)})"

    def names(self, value: Value | None, into: set[str]) -> bool:
        """Collect the local names a value depends on; False when the value is opaque
        (its text cut short, or a form the facts do not break down)."""
        if value is None:
            return True
        kind = value.kind
        if value.call is not None:
            return self.call_names(value.call, into)
        if kind in ("name", "attr", "await") and value.ref:
            into.add(value.ref.split(".")[0])
            return True
        if kind in ("const", "none"):
            return not value.text.endswith("…")
        if kind in ("op", "seq"):
            exact = True
            for element in value.elements:
                exact = self.names(element, into) and exact
            return exact and not (value.op == "f" and value.text.endswith("…"))
        if kind == "dict" and not value.opaque_entries:
            exact = True
            for _, element in value.entries:
                exact = self.names(element, into) and exact
            return exact
        return False

    def call_names(self, call: Call, into: set[str], drop_sessions: bool = False) -> bool:
        exact = True
        if call.method and call.receiver is not None:
            exact = self.names(call.receiver, into)
        elif call.callee:
            into.add(call.callee.split(".")[0])
        else:
            return False
        for arg in call.args:
            if not (drop_sessions and self.is_session(arg)):
                exact = self.names(arg, into) and exact
        for _, arg in call.kwargs:
            if not (drop_sessions and self.is_session(arg)):
                exact = self.names(arg, into) and exact
        return exact and not call.star_args and not call.star_kwargs

    def known_name(self, name: str) -> bool:
        """A parameter, a local binding, a module-level name or a builtin."""
        if self.function.param(name) is not None or name in self._bindings or name in _BUILTINS:
            return True
        if name in ("self", "cls"):
            return True
        return self.project.resolve(self.module, name) is not None

    def _read(self, top: Call, form: str, key: str, model: str | None, link_names: set[str], exact: bool,
              check_only: bool = False) -> Read:
        exact = exact and all(self.known_name(n) for n in link_names)
        terms = tuple(v for link in self.chain(top) for v in (*link.args, *(v for _, v in link.kwargs)))
        return Read(top, form, key, model, frozenset(link_names), exact, check_only, terms)

    # -- reads -----------------------------------------------------------------
    def reads(self) -> list[Read]:
        """The function's row reads: computed once per project for RL003 and RL004 alike."""
        # A memo per set of options, keyed by the function alone: a key pairing them was a
        # 56-byte tuple for each of 150,000 functions at 10,000 files.
        per_project = self.project.memo(("db-reads", self.options.reads_key()))
        key = id(self.function)
        found = per_project.get(key)
        if found is None:
            # most functions read no row: one empty tuple serves them all (a list each was 56 bytes)
            found = per_project[key] = [read for read in map(self.read_of, self.tops()) if read is not None] or ()
        return list(found)

    def read_of(self, top: Call) -> Read | None:
        links = self.chain(top)
        root = links[-1]
        method = root.method
        receiver = root.receiver
        if method and receiver is not None and self.is_session(receiver):
            return self._session_read(top, root, links)
        if method and receiver is not None and receiver.kind == "attr" and receiver.ref:
            owner, _, manager = receiver.ref.rpartition(".")
            if manager == "objects" and (_is_class_name(owner, self) or self.class_parameter(owner)):
                return self._django_read(top, root, links, owner)
            if manager == "query" and _is_class_name(owner, self) and (top is not root or method in ROW_ENDINGS):
                if top.method in ROW_ENDINGS:
                    return self._chain_read(top, "Model.query", last(owner))
        if top is root and method == "refresh_from_db" and receiver is not None and receiver.kind in ("name", "attr"):
            names: set[str] = set()
            exact = self.call_names(top, names)
            return self._read(top, "refresh_from_db", self.canon_call(top), None, names, exact)
        return self._helper_read(top)

    def _chain_read(self, top: Call, form: str, model: str | None) -> Read:
        names: set[str] = set()
        exact = self.call_names(top, names) and not random_order(top)
        return self._read(top, form, self.canon_call(top), model, names - {"<session>"}, exact)

    def _session_read(self, top: Call, root: Call, links: list[Call]) -> Read | None:
        method = root.method
        if top is root:
            if method in ("get", "get_one"):
                if not root.args or not _is_class_value(root.args[0], self):
                    return None
                return self._chain_read(top, f"session.{method}", last(root.args[0].ref))
            if method == "refresh":
                if not root.args or root.args[0].kind not in ("name", "attr"):
                    return None
                return self._chain_read(top, "session.refresh", None)
            if method in STATEMENT_RUNNERS:
                return self._runner_read(top, method, root)
            return None
        if top.method not in ROW_ENDINGS:
            return None
        if method == "query":
            return self._chain_read(top, "session.query", self.selected_model(root))
        if method in STATEMENT_RUNNERS:
            return self._runner_read(top, method, root)
        return None

    def _runner_read(self, top: Call, method: str, root: Call) -> Read | None:
        """`session.execute(select(...))`-style reads, alone or under a row ending."""
        found = self.statement(root.args[0] if root.args else None, root.order)
        if found is None or found[0] != "select":
            return None
        read = self._statement_read(top, f"session.{method}", found[1], root)
        read.model = self.selected_model(found[1])
        return read

    def selected_model(self, select: Call) -> str | None:
        """The model a `select(...)` / `session.query(...)` reads rows of: its first argument,
        a model (`select(Label)`), one of its columns (`query(Label.id)`) or a class handed in
        as a parameter (`query(model)`); None when unknown (`query(exists_clause)`)."""
        first = select.args[0] if select.args else None
        if first is None or first.kind not in ("name", "attr") or not first.ref:
            return None
        if _is_class_value(first, self) or self.class_parameter(first.ref):
            return last(first.ref)
        owner = first.ref.rpartition(".")[0]
        return last(owner) if owner and _is_class_name(owner, self) else None

    def _statement_read(self, top: Call, form: str, select: Call, runner: Call) -> Read:
        model = select.args[0].ref if select.args and select.args[0].kind in ("name", "attr") else None
        names: set[str] = set()
        statement = runner.args[0] if runner.args else None
        exact = self.call_names(top, names) and not random_order(top) and not (
            statement is not None and statement.call is not None and random_order(statement.call))
        bound = None
        terms = ()
        if statement is not None and statement.kind == "name" and statement.ref:
            # `stmt = select(...)`: the row is the statement's, not the variable's name.
            binding = self.binding_before(statement.ref, runner.order)
            if binding is not None and binding.value is not None:
                bound = {statement.ref: self.canon(binding.value)}
                terms = (binding.value,)
                inner: set[str] = set()
                exact = self.names(binding.value, inner) and exact and not (
                    binding.value.call is not None and random_order(binding.value.call))
                names.discard(statement.ref)
                names |= inner
        read = self._read(top, form, self.canon_call(top, bound=bound), last(model) or None, names, exact)
        read.terms += terms
        return read

    def _django_read(self, top: Call, root: Call, links: list[Call], owner: str) -> Read | None:
        if top is root:
            if root.method != "get":
                return None
            return self._chain_read(top, "Model.objects.get", last(owner))
        if any(link.method not in DJANGO_QUERYSET for link in links[1:]):
            return None
        if top.method == "exists":
            read = self._chain_read(top, "Model.objects.exists", last(owner))
            read.check_only = True
            return read
        if top.method in ("first", "last", "get", "earliest", "latest"):
            return self._chain_read(top, "Model.objects", last(owner))
        return None

    # -- reads through project functions found by what they do -----------------------
    def check_reads(self, worth: Callable[[Call], bool] | None = None) -> list[Read]:
        """The reads that can answer "is the row there?": `reads()`, plus calls of project
        functions that return a row they read, whatever their name (`find_user(name)`).
        `worth`: which other calls are worth resolving (a rule that only pairs reads whose
        result a branch tests skips resolving the rest)."""
        found = self.reads()
        known = {id(read.call) for read in found}
        for top in self.tops():
            if id(top) not in known and (worth is None or worth(top)):
                read = self.bound_read(top) or self.found_read(top)
                if read is not None:
                    found.append(read)
        return found

    def repeatable_reads(self) -> list[Read]:
        """The reads that query the database each time they run (RL003): `reads()`, a query
        kept in a name and ended later (`qs = M.objects.filter(...)`, then `qs.first()`:
        each call a query; not a statement's Result, `result.scalar()`, which is read
        once), and calls of project find helpers (`self.repo.get_by_id(x)`)."""
        found = self.reads()
        known = {id(read.call) for read in found}
        # A repeat needs two calls of one name with the same arguments (as written: a
        # helper called once by position and once by keyword is not paired): resolving
        # the functions of the others is wasted work.
        tops = self.tops()
        named = Counter(top.callee or top.method for top in tops)
        twice = [top for top in tops if id(top) not in known and named[top.callee or top.method] > 1]
        same = Counter(self.canon_call(top) for top in twice)
        for top in twice:
            if same[self.canon_call(top)] < 2:
                continue
            read = self.bound_read(top)
            if read is not None and read.form in _RESULT_FORMS:
                read = None  # `result.scalar()` of `result = session.execute(...)`: one query's rows
            read = read or self.view_read(top) or self.found_read(top)
            if read is not None:
                found.append(read)
        return found

    def view_read(self, top: Call) -> Read | None:
        """A row read of a class-based view's queryset: `self.object_list.first()`,
        `self.get_queryset().filter(...).get(pk=pk)`, or through a name bound to one
        (`queryset = self.object_list`). Django's and DRF's generic views document these
        as QuerySets, so each row ending is a query. RL003 only: the model is not known."""
        if top.method not in _QUERYSET_ROW_ENDINGS or not self._in_view_class():
            return None
        links = self.chain(top)
        root = links[-1]
        if root is not top and root.method in _VIEW_QUERYSET_METHODS:
            # `self.get_queryset().filter(...).first()`
            origin = root.receiver is not None and root.receiver.kind == "name" and root.receiver.ref == "self"
            chained = links[1:-1]
        else:
            # `self.object_list.first()`, `queryset.filter(...).first()` with `queryset = self.object_list`
            base = root.receiver
            if base is not None and base.kind == "name" and base.ref and base.ref != "self" \
                    and not self.function.param(base.ref):
                binding = self.binding_before(base.ref, root.order)
                base = binding.value if binding is not None else None
            origin = _view_queryset_value(base)
            chained = links[1:]
        if not origin or any(link.method not in DJANGO_QUERYSET for link in chained):
            return None
        return self._chain_read(top, "Model.objects", None)

    def _in_view_class(self) -> bool:
        """The function is a method of a Django or DRF class-based view."""
        qualname = self.function.class_qualname
        cls = self.module.classes.get(qualname) if qualname else None
        if cls is None:
            return False
        memo = self.project.memo("db-view-classes")
        key = (self.module.name, qualname)
        if key not in memo:
            memo[key] = any(name.startswith(_VIEW_PACKAGES) for name in self.project.base_names(self.module, cls))
        return memo[key]

    def check_read_of(self, top: Call) -> Read | None:
        """`read_of`, a query kept in a name and ended later (`bound_read`), or a call of a
        project find helper (`found_read`)."""
        return self.read_of(top) or self.bound_read(top) or self.found_read(top)

    def bound_read(self, top: Call) -> Read | None:
        """A query chain bound to a name, ended by a row ending later:
        `qs = Tag.objects.filter(name=n)` then `qs.exists()`, `q = session.query(Tag)` then
        `q.filter_by(name=n).first()`, `result = await session.execute(stmt)` then
        `result.scalar()`."""
        links = self.chain(top)
        receiver = links[-1].receiver
        if receiver is None or receiver.kind != "name" or not receiver.ref or self.function.param(receiver.ref):
            return None
        binding = self.binding_before(receiver.ref, links[-1].order)
        value = binding.value if binding is not None else None
        if value is None or value.kind not in ("call", "await") or value.call is None:
            return None
        inner = self.chain(value.call)
        root = inner[-1]
        if root.receiver is None or not root.method:
            return None
        if self.is_session(root.receiver):
            runs = root.method == "query" or root.method in STATEMENT_RUNNERS
            return self._session_read(top, root, links + inner) if runs else None
        owner, _, manager = (root.receiver.ref or "").rpartition(".")
        if root.receiver.kind == "attr" and manager == "objects" and _is_class_name(owner, self):
            return self._django_read(top, root, links + inner, owner)
        return None

    def found_read(self, top: Call) -> Read | None:
        """A call of a project function whose returns are rows it reads (or None): a find
        helper, recognised by its body rather than its name."""
        if top.receiver is not None and top.receiver.call is not None:
            return None
        located = self.located(top)
        if located is None or not returns_row(self.project, located, self.options):
            return None
        names: set[str] = set()
        exact = self.call_names(top, names, drop_sessions=True)
        qualified = f"{located[0].name}.{located[1].qualname}"
        return self._read(top, "helper", "helper:" + qualified + self._helper_args(top), self.helper_model(top),
                          names, exact)

    def definition(self, call: Call) -> Function | None:
        """The project function a call runs, through imports and `self.` methods."""
        located = self.located(call)
        return located[1] if located is not None else None

    def located(self, call: Call) -> tuple[Module, Function] | None:
        """The module and project function a call runs (the type layer's answer)."""
        return types_of(self.project).callee(self.module, self.function, call)

    def helper_model(self, call: Call) -> str | None:
        """The model a project helper reads or inserts: its return annotation's class
        (`-> Optional[orm.WorkPool]`), else the model of the one read or insert in its body."""
        located = self.located(call)
        if located is None:
            return None
        module, function = located
        memo = self.project.memo("db-helper-model")
        key = (module.name, function.qualname, self.options.reads_key())
        if key in memo:
            return memo[key]
        memo[key] = None  # a recursive helper ends here
        model = None
        returns = function.returns
        if returns is not None and not returns.container:
            for name in returns.core:
                final = last(name)
                if final[:1].isupper() and final not in _NOT_MODELS and (
                    types_of(self.project).class_at(module, name) is not None or "." in name
                ):
                    model = final
                    break
        if model is None:
            inner = Db(self.project, module, function, self.options)
            models = {r.model for r in inner.reads() if r.model}
            models |= {i.model for i in map(inner.insert_of, function.calls) if i is not None and i.model}
            if len(models) == 1:
                model = models.pop()
        memo[key] = model
        return model

    def takes_session(self, function: Function) -> bool:
        return any(self.is_session_param(p) for p in function.params if p.name not in ("self", "cls"))

    def _listed(self, call: Call, names: list[str]) -> str | None:
        if not names or not call.callee:
            return None
        symbol = self.project.resolve(self.module, call.callee)
        qualified = self.project.qualified(symbol) or call.callee
        return qualified if qualified in names else None

    def _helper_read(self, top: Call) -> Read | None:
        if top.receiver is not None and top.receiver.call is not None:
            return None
        name = last(top.callee or top.method)
        listed = self._listed(top, self.options.read_functions)
        if listed is None:
            if not name or not matches(name, self.options.read_helpers):
                return None
            definition = self.definition(top)
            if definition is None or not self.takes_session(definition):
                return None
            symbol = self.project.resolve(self.module, top.callee)
            listed = self.project.qualified(symbol) or top.callee or name
        names: set[str] = set()
        exact = self.call_names(top, names, drop_sessions=True)
        return self._read(top, "helper", "helper:" + listed + self._helper_args(top), self.helper_model(top), names,
                          exact)

    def _helper_args(self, call: Call) -> str:
        """The arguments by parameter name when the definition is known, sessions left out."""
        definition = self.definition(call)
        if definition is None or call.star_args:
            return self.canon_call(call, drop_sessions=True)[len(call.callee or ""):]
        params = [p for p in definition.params if p.kind == "positional"]
        if params and params[0].name in ("self", "cls") and definition.class_qualname:
            params = params[1:]
        named: list[tuple[str, Value]] = list(call.kwargs)
        for index, arg in enumerate(call.args):
            named.append((params[index].name if index < len(params) else f"#{index}", arg))
        parts = sorted(f"{k}={self.canon(v)}" for k, v in named if not self.is_session(v)
                       and not (definition.param(k) is not None and self.is_session_param(definition.param(k))))
        if call.star_kwargs:
            parts.append("**?")
        return f"({','.join(parts)})"

    # -- inserts ---------------------------------------------------------------
    def insert_of(self, call: Call) -> Insert | None:
        method, receiver = call.method, call.receiver
        if method and receiver is not None and self.is_session(receiver):
            if method in ("add", "add_all") and call.args:
                # Only a new object is an insert; `session.add(loaded_row)` after a change is an update.
                if method == "add":
                    model = self.model_of_object(call.args[0], call.order)
                    return Insert(call, "session.add", model) if model is not None else None
                found = self._new_objects(call.args[0], call.order)
                return Insert(call, "session.add_all", found) if found is not None else None
            if method in ("execute", "exec") and call.args:
                found = self.statement(call.args[0], call.order)
                if found is None or found[0] != "insert":
                    return None
                if self.statement_has(call.args[0], call.order, self.options.upsert_methods, blocks=call.blocks):
                    return None
                root = found[1]
                model = root.args[0].ref if root.args and root.args[0].kind in ("name", "attr") else None
                return Insert(call, f"session.{method}(insert)", last(model) or None)
            return None
        if method and receiver is not None and receiver.kind == "attr" and receiver.ref:
            owner, _, manager = receiver.ref.rpartition(".")
            if manager == "objects" and method == "create" and (
                _is_class_name(owner, self) or self.class_parameter(owner)
            ):
                return Insert(call, "Model.objects.create", last(owner))
        if method == "save" and receiver is not None and receiver.kind == "call" and receiver.call is not None:
            model = self.saved_model(receiver.call)  # `Tag(name=n).save()`: built and saved at once
            return Insert(call, "save", model) if model is not None else None
        if method == "save" and receiver is not None and receiver.kind == "name" and receiver.ref:
            binding = self.binding_before(receiver.ref, call.order)
            if binding is not None and binding.value is not None and binding.value.call is not None:
                model = self.saved_model(binding.value.call)
                if model is not None:
                    return Insert(call, "save", model)
            elif binding is None and self._creating_serializer(receiver.ref):
                located = self._serializer_class()
                model = meta_model(self.project, located) if located is not None else None
                return Insert(call, "save", model) if model is not None else None
            return None
        if receiver is not None and receiver.call is not None:
            return None
        name = last(call.callee or "")
        listed = self._listed(call, self.options.insert_functions)
        if listed is None and name and matches(name, self.options.insert_helpers):
            definition = self.definition(call)
            if definition is not None and self.takes_session(definition):
                listed = name
        if listed is None:
            return None
        return Insert(call, "helper", self.helper_model(call))

    def created_inserts(self, known: list[Insert]) -> list[Insert]:
        """Calls of project functions that insert rows, whatever their name
        (`created_models`; one Insert per model), among the calls `known` does not already
        hold. Each call is resolved, so a rule asks only where a read has been found."""
        held = {id(insert.call) for insert in known}
        found = []
        for call in self.tops():
            if id(call) in held or (call.receiver is not None and call.receiver.call is not None):
                continue
            models = self.created_models(call)
            handed = self.handed_insert(call)
            if handed:
                models = models | {handed}
            found += [Insert(call, "helper", model) for model in sorted(models)]
        return found

    def created_models(self, call: Call) -> frozenset[str]:
        """The models a call of a project function inserts, whatever the function's name or
        parameters (`create_user({...})` on Flask-SQLAlchemy's global session,
        `create_thumbnail(...)` around `Thumbnail.objects.create`): what its own body
        inserts, and what the project functions it calls insert (pgadmin's `create_user`
        -> `_create_new_user`, which adds a `User` and its `ServerGroup`)."""
        located = self.located(call)
        if located is None:
            return frozenset()
        module, function = located
        memo = self.project.memo("db-created-models")
        key = (module.name, function.qualname, self.options.reads_key())
        if key not in memo:
            memo[key] = frozenset()  # a recursive helper ends here
            inner = Db(self.project, module, function, self.options)
            models = {insert.model for insert in map(inner.insert_of, function.calls) if insert is not None}
            for deeper in inner.tops():
                if deeper.receiver is None or deeper.receiver.call is None:
                    models |= inner.created_models(deeper)
            memo[key] = frozenset(m for m in models if m)
        return memo[key]

    def handed_insert(self, call: Call) -> str | None:
        """The model of a new object handed to a project function that adds whatever it is
        given (a repository's `create(self, object)`: `self.session.add(object)`), or None."""
        located = self.located(call)
        if located is None:
            return None
        handed = added_parameter(self.project, located, self.options)
        if handed is None:
            return None
        position, name = handed
        if located[1].class_qualname is not None and call.receiver is not None:
            position -= 1  # `repo.create(obj)`: `self` is not among the call's arguments
        argument = call.kwarg(name)
        if argument is None and 0 <= position < len(call.args) and not call.star_args:
            argument = call.args[position]
        return self.model_of_object(argument, call.order)

    def _new_objects(self, value: Value, order: int) -> str | None:
        """The model of the new objects in a list given to `add_all` ("" when unknown but new)."""
        if value.kind == "name" and value.ref:
            binding = self.binding_before(value.ref, order)
            if binding is None or binding.value is None:
                return None
            value = binding.value
        if value.kind != "seq":
            return None
        for element in value.elements:
            model = self.model_of_object(element, order)
            if model is not None:
                return model
        return None

    def model_of_object(self, value: Value | None, order: int) -> str | None:
        """The class of a newly constructed object (`Model(...)`, or a name bound to one)."""
        if value is None:
            return None
        if value.kind == "name" and value.ref:
            binding = self.binding_before(value.ref, order)
            if binding is None or binding.value is None:
                return None
            value = binding.value
        if value.call is not None and value.call.callee:
            callee = value.call.callee
            if _is_class_value(Value("name", callee, ref=callee), self) or self.model_parameter(callee):
                return last(callee)
        return None

    def class_parameter(self, name: str) -> bool:
        """A name that may hold a class handed in: a parameter other than `self` / `cls`
        (`def _get_or_create(session, model, **fields)`), `cls` in a classmethod (a model
        mixin's `cls`), or an attribute of `self` / `cls` (a generic repository's
        `self.model`)."""
        head, _, rest = name.partition(".")
        function = self.function
        if rest:
            return head in ("self", "cls") and "." not in rest and function.class_qualname is not None
        if name == "cls":
            return function.class_qualname is not None and any(
                last(d.ref or "") == "classmethod" for d in function.decorators)
        return name != "self" and function.param(name) is not None

    def model_parameter(self, name: str) -> bool:
        """A name holding a model class (`class_parameter`) that the function reads rows of
        (`session.query(model)`, `select(self.model)`, `model.objects`), or a parameter
        annotated `type[...]`: calling it builds a new row."""
        if not self.class_parameter(name):
            return False
        param = self.function.param(name)
        annotation = param.annotation if param is not None else None
        if annotation is not None and annotation.text.startswith(("type[", "Type[", "typing.Type[")):
            return True
        return any(read.model == last(name) for read in self.check_reads())

    def locks_row(self, read: Read) -> bool:
        """A read that locks the row it finds until the transaction ends
        (`Parent.objects.select_for_update().get(...)`, `select(Parent)...with_for_update()`)."""
        return self._chain_has(read, _ROW_LOCKS)

    def _chain_has(self, read: Read, methods) -> bool:
        """One of `methods` in the read's chain, or in the statement a link of it runs."""
        for link in self.chain(read.call):
            if link.method in methods:
                return True
            if link.method in STATEMENT_RUNNERS and link.args and self.statement_has(
                    link.args[0], link.order, list(methods)):
                return True
        return False

    # -- cascades, forms and serializers --------------------------------------------
    def cascades(self, insert: Insert) -> list[Insert]:
        """The new parent objects a `session.add(child)` also inserts through the relationship
        cascade: `Child(parent=parent)` where `parent = Parent(...)` was built in this function
        (or `Child(parent=Parent(...))`). Each is an insert of the parent's model, built where
        the parent was constructed."""
        if insert.form != "session.add":
            return []
        child = insert.call.args[0]
        order = insert.call.order
        if child.kind == "name" and child.ref:
            binding = self.binding_before(child.ref, order)
            child, order = (binding.value, binding.order) if binding is not None else (None, order)
        if child is None or child.call is None:
            return []
        found = []
        for value in list(child.call.args) + [v for _, v in child.call.kwargs]:
            built = None
            if value.kind == "call" and value.call is not None and self._project_model(value.call.callee):
                built = (value.call.order, value.call.blocks, value.call.span), value.call.callee
            elif value.kind == "name" and value.ref:
                binding = self.binding_before(value.ref, order)
                made = binding.value.call if binding is not None and binding.value is not None else None
                if made is not None and self._project_model(made.callee):
                    built = (binding.order, binding.blocks, binding.span), made.callee
            if built is not None:
                found.append(Insert(insert.call, "cascade", last(built[1]), built[0]))
        return found

    def _project_model(self, callee: str | None) -> bool:
        return bool(callee) and types_of(self.project).class_at(self.module, callee) is not None

    def saved_model(self, made: Call) -> str | None:
        """The model whose new row `obj.save()` inserts, where `obj = made`: a model built
        with `Model(...)`; a DRF serializer or Django model form whose `Meta.model` is the
        model, built without an instance to update (`TagSerializer(data=...)`,
        `self.get_serializer(data=...)` of a view whose `serializer_class` is one)."""
        if made.method == "get_serializer" and made.receiver is not None and made.receiver.ref == "self":
            located = self._serializer_class()
            if located is None:
                return None
        else:
            located = types_of(self.project).class_at(self.module, made.callee) if made.callee else None
        if located is not None:
            meta = meta_model(self.project, located)
            if meta is not None:
                return None if _updates_instance(made, located) else meta
        if made.callee and _is_class_value(Value("name", made.callee, ref=made.callee), self):
            return last(made.callee)
        return None

    def _creating_serializer(self, name: str) -> bool:
        """DRF's `perform_create(self, serializer)`: the view's serializer, built by the framework
        from the request data with no instance, so its `save()` creates."""
        params = [p.name for p in self.function.params]
        return self.function.name == "perform_create" and params[1:2] == [name] and params[:1] == ["self"]

    def _serializer_class(self):
        """The `serializer_class` of the view class the function is a method of."""
        types = types_of(self.project)
        cls = self.module.classes.get(self.function.class_qualname or "")
        if cls is None:
            return None
        declared = types.declared(self.module, cls).get("serializer_class")
        if declared is None or declared[2].value is None or not declared[2].value.ref:
            return None
        return types.class_at(declared[0], declared[2].value.ref)

    def core_write(self, call: Call) -> tuple[str, str | None] | None:
        """("update" | "insert" | "delete", model or None) for `session.execute(update(M)...)`-style
        Core statements (upserts included): they change rows behind the identity map's back."""
        if call.method not in ("execute", "exec") or not call.args or not self.is_session(call.receiver):
            return None
        found = self.statement(call.args[0], call.order)
        if found is None or found[0] not in ("update", "insert", "delete"):
            return None
        root = found[1]
        model = root.args[0].ref if root.args and root.args[0].kind in ("name", "attr") else None
        return found[0], last(model) or None

    def changes_between(self, first: Read, second: Read) -> str | None:
        """Why the second of two reads of one row reads new state, or None: the first read's
        object (or every object) was expunged / expired / refreshed between them, or a Core
        update / insert / delete of that model ran (a before / after snapshot)."""
        subject = first.call.assigned_to
        for call in self.function.calls:
            if not first.call.order < call.order < second.call.order:
                continue
            if call.method in DETACHING and self.is_session(call.receiver):
                if call.method.endswith("_all"):
                    return f"`{call.method}()`"
                if call.args and subject and call.args[0].ref == subject:
                    return f"`{call.method}({subject})`"
                continue
            write = self.core_write(call)
            if write is not None and (write[1] is None or first.model is None or write[1] == first.model):
                return f"a Core `{write[0]}()`"
        return None

    def expires_between(self, first: Read, second: Read) -> bool:
        """A session call between the reads after which the identity map no longer serves
        the row without SQL (commit, rollback, expire, refresh, ...)."""
        return any(
            first.call.order < call.order < second.call.order and call.method in EXPIRING
            and self.is_session(call.receiver)
            for call in self.function.calls
        )

    # -- guards ------------------------------------------------------------------
    def is_savepoint(self, value: Value | None) -> bool:
        if value is None or value.call is None:
            return False
        call = value.call
        if call.method and call.method in self.options.savepoints:
            return True
        if not call.callee:
            return False
        symbol = self.project.resolve(self.module, call.callee)
        qualified = self.project.qualified(symbol) or call.callee
        return qualified in self.options.savepoints or call.callee in self.options.savepoints

    def model_class(self, read: Read):
        """The project model class a read returns a row of (the type layer's answer), or None."""
        types = types_of(self.project)
        if read.form == "helper":
            located = self.located(read.call)
            if located is None or located[1].returns is None or located[1].returns.container:
                return None
            return types.class_of_annotation(located[0], located[1].returns.core)
        found = types.class_of_value(self.module, self.function, Value("call", "", call=read.call))
        for term in read.terms:
            if found is not None:
                break
            if term.call is not None:  # a statement kept in a name: `select(Task).where(...)`
                found = types.class_of_value(self.module, self.function, term)
        return found

    def expects_several(self, read: Read, depth: int = 0) -> bool:
        """The read orders the rows it matches and takes one (`order_by(...).first()`,
        `.latest()`, a statement with `order_by`, or a helper whose returned read does):
        the code keeps several rows per key by design (history, cache entries)."""
        if self._chain_has(read, _ORDERINGS):
            return True
        if read.form != "helper" or depth > 3:
            return False
        located = self.located(read.call)
        if located is None:
            return False
        memo = self.project.memo("db-expects-several")
        key = (located[0].name, located[1].qualname, self.options.reads_key())
        if key not in memo:
            memo[key] = False  # a recursive helper ends here
            inner = Db(self.project, located[0], located[1], self.options)
            returned = {id(e.value.call) for e in located[1].exits
                        if e.kind == "return" and e.value is not None and e.value.call is not None}
            bound = {e.value.ref for e in located[1].exits if e.kind == "return" and e.value is not None
                     and e.value.kind == "name"}
            memo[key] = any(
                (id(r.call) in returned or r.call.assigned_to in bound) and inner.expects_several(r, depth + 1)
                for r in inner.check_reads())
        return memo[key]

    @staticmethod
    def is_lock(value: Value | None) -> bool:
        """A context manager that takes a lock, by its name's words: `advisory_lock(key)`,
        `cache.lock(name)`, `RedisLock(...)`, `locked(...)` (not `non_blocking()`)."""
        if value is None:
            return False
        name = last((value.call.callee or value.call.method) if value.call is not None else value.ref)
        return bool(_LOCK_WORDS & set(_words(name)))

    def is_savepoint_ref(self, value: Value | None) -> bool:
        """A decorator or context manager that opens a savepoint: `transaction.atomic`,
        `transaction.atomic(using=...)`, `session.begin_nested()`."""
        if value is None:
            return False
        if value.call is not None:
            return self.is_savepoint(value)
        if value.kind not in ("name", "attr") or not value.ref:
            return False
        symbol = self.project.resolve(self.module, value.ref)
        qualified = self.project.qualified(symbol) or value.ref
        return qualified in self.options.savepoints or value.ref in self.options.savepoints

    def savepoint_helper(self, call: Call) -> bool:
        """A project insert helper that runs in its own savepoint: decorated with one
        (`@transaction.atomic`), so an IntegrityError it raises rolls back only its work."""
        located = self.located(call)
        if located is None:
            return False
        inner = Db(self.project, located[0], located[1], self.options)
        return any(inner.is_savepoint_ref(d) for d in located[1].decorators)

    def exception_kind(self, name: str) -> str | None:
        """"integrity" for IntegrityError spellings, "broad" for handlers that catch it unseen, else None."""
        if name == "":  # a bare `except:`
            return "broad"
        symbol = self.project.resolve(self.module, name)
        qualified = self.project.qualified(symbol) or name
        if qualified in self.options.integrity_errors:
            return "integrity"
        if last(qualified) in ("IntegrityError", "UniqueViolation", "UniqueViolationError") and symbol is None:
            return "integrity"
        if qualified in self.options.broad_errors:
            return "broad"
        return None


_RANDOM_FUNCTIONS = {"random", "rand", "Random", "newid", "NEWID"}  # SQL's random orderings, by dialect


def random_order(call: Call) -> bool:
    """Whether a query chain picks its row at random (`order_by("?")`, `order_by(func.random())`,
    `.sample(...)`): two such reads never read the same row."""
    seen = 0
    while call is not None and seen < 50:
        seen += 1
        if call.method in ("sample", "tablesample"):
            return True
        if call.method == "order_by":
            for argument in call.args:
                if string_literal(argument) == "?":
                    return True
                inner = argument.call
                if inner is not None and last(inner.callee or inner.method or "") in _RANDOM_FUNCTIONS:
                    return True
        receiver = call.receiver
        call = receiver.call if receiver is not None else None
    return False


def returns_row(project: Project, located: tuple[Module, Function], options: DbOptions) -> bool:
    """Every value the function returns is None or a row it read (`return q.first()`,
    `user = q.one_or_none(); return user`), and at least one is. A row read through the
    project's own helpers counts: `return await self.get_one_or_none(statement)` (another
    find helper), `result.scalar_one_or_none()` of `result = await self._execute(statement)`
    (a helper that returns a statement's Result)."""
    module, function = located
    memo = project.memo("db-returns-row")
    key = (module.name, function.qualname, options.reads_key())
    if key not in memo:
        memo[key] = False  # a recursive helper ends here
        db = Db(project, module, function, options)
        calls = {id(read.call) for read in db.reads()}
        verdicts = []
        for exit_ in function.exits:
            value = exit_.value
            if exit_.kind != "return" or value is None or value.kind == "none":
                continue
            if value.kind == "name" and value.ref:
                bindings = db.bindings_of(value.ref)
                rows = [b for b in bindings if b.value is not None and _row_value(db, b.value, calls)]
                verdicts.append(bool(rows) and all(
                    b in rows or (b.value is not None and b.value.kind == "none") for b in bindings))
            else:
                verdicts.append(_row_value(db, value, calls))
        memo[key] = bool(verdicts) and all(verdicts)
    return memo[key]


def _row_value(db: Db, value: Value, reads: set[int]) -> bool:
    """A value that is a row the function reads (see `returns_row`)."""
    call = value.call
    if call is None or value.kind not in ("call", "await"):
        return False
    if id(call) in reads:
        return True
    links = Db.chain(call)
    if len(links) == 1:
        located = db.located(call)
        if located is not None and located[1] is not db.function and returns_row(db.project, located, db.options):
            return True
    if call.method not in ROW_ENDINGS or any(link.method not in _RESULT_LINKS for link in links[1:]):
        return False
    result = links[-1].receiver
    if result is not None and result.kind == "name" and result.ref:
        binding = db.binding_before(result.ref, links[-1].order)
        result = binding.value if binding is not None else None
    if result is None or result.call is None or result.kind not in ("call", "await"):
        return False
    located = db.located(result.call)
    return located is not None and returns_result(db.project, located, db.options)


_RESULT_LINKS = frozenset({"scalars", "unique"})


def added_parameter(project: Project, located: tuple[Module, Function], options: DbOptions) -> tuple[int, str] | None:
    """(position, name) of the parameter a function adds to its session as it is
    (`self.session.add(object)`, the parameter never rebound), or None."""
    module, function = located
    memo = project.memo("db-added-parameter")
    key = (module.name, function.qualname, options.reads_key())
    if key not in memo:
        memo[key] = None
        db = Db(project, module, function, options)
        positional = [p.name for p in function.params if p.kind == "positional"]
        for call in function.calls:
            argument = call.args[0] if call.method == "add" and len(call.args) == 1 else None
            if (argument is not None and argument.kind == "name" and argument.ref in positional
                    and call.receiver is not None and db.is_session(call.receiver)
                    and not db.bindings_of(argument.ref)):
                memo[key] = (positional.index(argument.ref), argument.ref)
                break
    return memo[key]


def returns_result(project: Project, located: tuple[Module, Function], options: DbOptions) -> bool:
    """Every value the function returns is a statement's Result: `return await
    self.session.execute(statement)`."""
    module, function = located
    memo = project.memo("db-returns-result")
    key = (module.name, function.qualname, options.reads_key())
    if key not in memo:
        db = Db(project, module, function, options)
        values = [e.value for e in function.exits if e.kind == "return"]
        memo[key] = bool(values) and all(
            value is not None and value.call is not None and value.call.method in STATEMENT_RUNNERS
            and value.call.receiver is not None and db.is_session(value.call.receiver)
            for value in values)
    return memo[key]


def meta_model(project: Project, located) -> str | None:
    """The model a DRF `ModelSerializer` or a Django `ModelForm` is of: `Meta.model` in the
    class or its project ancestors."""
    types = types_of(project)
    for module, cls in types.mro(*located):
        meta = module.classes.get(f"{cls.qualname}.Meta")
        if meta is None:
            continue
        for declared in meta.fields:
            if declared.name == "model" and declared.value is not None and declared.value.ref:
                return last(declared.value.ref)
    return None


def _updates_instance(made: Call, located) -> bool:
    """A serializer or form given the row it updates: `instance=` (a form's first positional
    argument is its data, a serializer's is the instance)."""
    if made.kwarg("instance") is not None:
        return True
    names = [located[1].name] + [last(base_ref(b) or "") for b in located[1].bases]
    serializer = made.method == "get_serializer" or any(n.endswith("Serializer") for n in names)
    return serializer and bool(made.args) and made.args[0].kind != "none"


def _canon_operation(op: str, operands: list[str], value: Value) -> str:
    """An operation's key text from its operands' key texts, parenthesised so that
    different groupings never give the same text."""
    if op == "f":
        return value.text  # an f-string: its literal parts are text
    if op.startswith("."):
        return f"({operands[0]}){op}" if operands else op
    if op == "[]":
        return f"({operands[0]})[{','.join(operands[1:])}]" if operands else op
    if len(operands) == 1:
        return f"({op} {operands[0]})"
    operators = op.split(",")  # a chained comparison: "<,<="
    joined = operands[0]
    for operator, operand in zip(operators, operands[1:]):
        joined += f" {operator} {operand}"
    return f"({joined})"


def _is_class_name(dotted: str, db: Db) -> bool:
    return bool(dotted) and _is_class_value(Value("name", dotted, ref=dotted), db)


def _is_class_value(value: Value, db: Db) -> bool:
    """A model class: a project class, or a capitalised name (external models, late imports)."""
    if value.kind not in ("name", "attr") or not value.ref:
        return False
    symbol = db.project.resolve(db.module, value.ref)
    if symbol is not None and symbol.kind == "class":
        return True
    final = last(value.ref)
    return final[:1].isupper() and not final.isupper()


# -- unique constraints ----------------------------------------------------------
_LOOKUP_METHODS = frozenset({"filter", "filter_by", "get", "where", "exclude", "first", "one", "one_or_none"})


def unique_sets(project: Project, located) -> list[frozenset[str]] | None:
    """The column sets a model's unique constraints cover (primary key included), or None
    when the class declares no column the rule can read (not a model it understands).
    SQLAlchemy: `unique=True` / `primary_key=True` on `mapped_column` / `Column`,
    `UniqueConstraint(...)`, `PrimaryKeyConstraint(...)` and `Index(..., unique=True)` in
    `__table_args__`; Django: `unique=True` / `primary_key=True` / `OneToOneField`, the
    implicit `id`, and `Meta.unique_together` / `Meta.constraints` `UniqueConstraint`s."""
    module, cls = located
    memo = project.memo("db-unique")
    key = (module.name, cls.qualname)
    if key in memo:
        return memo[key]
    types = types_of(project)
    sets: list[frozenset[str]] = []
    columns = 0
    django = False
    for name, (owner_module, owner, declared) in types.declared(module, cls).items():
        value = declared.value
        if name == "__table_args__" and value is not None:
            sets.extend(_constraint_sets(value))
            continue
        column = types.column(owner_module, declared)
        if column is None or column.kind == "relationship":
            continue
        columns += 1
        django = django or column.kind == "django"
        if column.unique:
            sets.append(frozenset({name}))
    for qualname, inner in module.classes.items():
        if qualname == f"{cls.qualname}.Meta":
            for declared in inner.fields:
                if declared.value is None:
                    continue
                if declared.name == "unique_together":
                    groups = [e for e in declared.value.elements if e.kind == "seq"] or [declared.value]
                    for group in groups:
                        names = _column_names(group.elements)
                        if names:
                            sets.append(frozenset(names))
                elif declared.name == "constraints":
                    sets.extend(_constraint_sets(declared.value))
    if django:
        sets.append(frozenset({"id", "pk"}))
    found = sets if columns else None
    memo[key] = found
    return found


def surrogate_key(project: Project, located, columns: frozenset[str]) -> bool:
    """The lookup is by the primary key alone, and the database allocates that key (an
    integer column: `Column(Integer, primary_key=True)`, `id: Mapped[int] =
    mapped_column(primary_key=True)`, Django's implicit `id` or an `AutoField`)."""
    module, cls = located
    types = types_of(project)
    keys = []
    django = False
    for name, (owner_module, _owner, declared) in types.declared(module, cls).items():
        column = types.column(owner_module, declared)
        if column is None or column.kind == "relationship":
            continue
        django = django or column.kind == "django"
        if column.primary_key:
            keys.append((name, _integer_column(declared)))
    if not keys and django:
        keys = [("id", True)]  # Django's implicit AutoField
    if len(keys) != 1 or not keys[0][1]:
        return False
    return columns in (frozenset({keys[0][0]}), frozenset({"pk"})) or (django and columns == frozenset({"id"}))


_INTEGER_TYPES = frozenset({"Integer", "BigInteger", "SmallInteger", "AutoField", "BigAutoField", "SmallAutoField"})


def _integer_column(declared) -> bool:
    call = declared.value.call if declared.value is not None else None
    if call is not None:
        if last(call.callee or call.method or "") in _INTEGER_TYPES:
            return True  # Django's AutoField(primary_key=True)
        for argument in call.args:
            ref = argument.ref or (argument.call.callee if argument.call is not None else None)
            if last(ref or "") in _INTEGER_TYPES:
                return True
    annotation = declared.annotation
    return annotation is not None and "Mapped" in annotation.wrappers and list(annotation.core) == ["int"]


def _constraint_sets(value: Value) -> list[frozenset[str]]:
    found = []
    for element in value.elements:
        call = element.call
        if call is None:
            continue
        final = last(call.callee or call.method or "")
        if final in ("UniqueConstraint", "PrimaryKeyConstraint"):
            fields = call.kwarg("fields")
            names = _column_names(fields.elements if fields is not None else call.args)
        elif final == "Index" and any(k == "unique" and v.text == "True" for k, v in call.kwargs):
            names = _column_names(call.args[1:])
        else:
            continue
        if names:
            found.append(frozenset(names))
    return found


def _column_names(values) -> list[str]:
    """The columns a constraint lists: by name (`"email"`), else by attribute (`User.email`)."""
    quoted = [name for name in map(string_literal, values) if name and name.isidentifier()]
    return quoted or [last(v.ref) for v in values if v.ref]


def lookup_columns(read: Read) -> frozenset[str] | None:
    """The columns a read looks its row up by (`filter_by(name=...)`, `.where(M.name == x)`,
    Django `get(name__iexact=...)`, also through a statement kept in a name), "pk" for
    `session.get`, None when unknown."""
    if read.form in ("session.get", "session.get_one"):
        return frozenset({"pk"})
    if read.form == "helper" or read.form == "session.refresh":
        return None
    found: set[str] = set()
    for link in Db.chain(read.call):
        if link.method not in _LOOKUP_METHODS and link.method not in ("select", "query", "execute", "scalars",
                                                                         "scalar", "exec", "exists"):
            return None
        for name, _ in link.kwargs:
            found.add(name.split("__")[0])
        for argument in link.args:
            statement = _select_chain(argument, read)
            if statement is not None:
                for inner in statement:
                    for arg in inner.args:
                        if inner.method in ("where", "filter", "filter_by") and not _compared_columns(arg, found):
                            return None
                    for name, _ in inner.kwargs:
                        found.add(name)
            elif link.method in ("where", "filter") and not _compared_columns(argument, found):
                return None
    return frozenset(found) or None


def _select_chain(argument: Value, read: Read) -> list[Call] | None:
    """The links of a `select(...)...` statement given inline, or kept in a name (the read's
    terms hold what the name was bound to); None for any other argument."""
    candidates = [argument]
    if argument.kind == "name":
        candidates = [term for term in read.terms if term.call is not None]
    for value in candidates:
        if value.call is not None:
            links = Db.chain(value.call)
            if last(links[-1].callee or "") == "select":
                return links
    return None


def _compared_columns(condition: Value, into: set[str], depth: int = 0) -> bool:
    """Add the columns a condition tests for equality (`M.name == x`, also inside `and_()`,
    `&` and any call); False when an `or_()` / `|` lets other rows match."""
    if depth > 20:
        return False
    if condition.kind == "op":
        if condition.op == "|":
            return False
        operands = condition.elements
        if condition.op == "==" and operands and operands[0].kind == "attr" and operands[0].ref:
            into.add(last(operands[0].ref))
        return all(_compared_columns(operand, into, depth + 1) for operand in operands)
    call = condition.call
    if call is None:
        return True
    if last(call.callee or call.method or "") == "or_":
        return False
    arguments = [*call.args, *(v for _, v in call.kwargs)] + ([call.receiver] if call.receiver is not None else [])
    return all(_compared_columns(argument, into, depth + 1) for argument in arguments)


def guarded_by_constraint(sets: list[frozenset[str]], columns: frozenset[str]) -> bool:
    """Some unique column set lies within the looked-up columns (`user` and `user_id` name one
    foreign key column)."""
    if "pk" in columns or "id" in columns:
        return True
    looked = {_column(c) for c in columns}
    return any({_column(c) for c in s} <= looked for s in sets)


def _column(name: str) -> str:
    return name[:-3] if name.endswith("_id") and len(name) > 3 else name


# -- project-wide IntegrityError handlers -------------------------------------------
_REGISTRARS = frozenset({"add_exception_handler", "exception_handler", "errorhandler", "register_error_handler"})


def integrity_handler(project: Project, options: DbOptions) -> str | None:
    """Where the project registers an application-wide IntegrityError handler
    (`exception_handlers={IntegrityError: ...}`, `app.add_exception_handler(IntegrityError, h)`,
    `@app.exception_handler(IntegrityError)`, Flask's `errorhandler` / `register_error_handler`),
    as `path:line`, or None."""
    memo = project.memo("db-integrity-handler")
    if "found" in memo:
        return memo["found"]
    found = None
    for module, function, call, exceptions in project.index("db-exception-registrations", _registrations).get(""):
        db = Db(project, module, function, options)
        if any(db.exception_kind(ref) == "integrity" for ref in exceptions):
            found = f"{module.path}:{call.span[0]}"
            break
    memo["found"] = found
    return found


def _registrations(module: Module) -> Iterator[tuple[str, tuple[Module, Function, Call, list[str]]]]:
    """The module's calls that may register an exception handler, with the exception
    names they give, under one key of a project index (Project.index: after an edit,
    only the edited module is looked at again, not every call of the project)."""
    for function in module.facts.functions:
        for call in [*function.calls, *(d.call for d in function.decorators if d.call is not None)]:
            registered = [call.args[0].ref] if call.method in _REGISTRARS and call.args and call.args[0].ref else []
            # `FastAPI(exception_handlers={IntegrityError: h})`, also nested in a dict of app kwargs
            registered += [key.ref for mapping in _handler_maps(call) for key in mapping.elements if key.ref]
            if registered:
                yield "", (module, function, call, registered)


def _handler_maps(call: Call) -> Iterator[Value]:
    """The `exception_handlers=` dict literals given to a call, directly or inside a dict argument."""
    if not any(v.kind == "dict" for _, v in call.kwargs) and not any(a.kind == "dict" for a in call.args):
        return  # most calls: nothing to look into
    pending = [(k, v) for k, v in call.kwargs] + [("", a) for a in call.args]
    seen = 0
    while pending and seen < 100:
        seen += 1
        name, value = pending.pop()
        if name == "exception_handlers" and value.kind == "dict":
            yield value
        elif value.kind == "dict":
            pending.extend(value.entries)


# -- startup-only code ---------------------------------------------------------------
_STARTUP_NAMES = frozenset({"lifespan", "on_startup", "startup", "ready"})


def _startup_name(name: str) -> bool:
    return name in _STARTUP_NAMES or name.endswith("_lifespan")


def startup_only(project: Project, module: Module, function: Function, depth: int = 6) -> str | None:
    """"startup" (`lifespan`, `on_startup`, an `AppConfig.ready`) or "command" (only one-shot
    commands) when every chain of project callers of `function` ends in such entry points, or None (a function nobody in the project
    calls, such as a request handler, is not startup-only)."""
    graph = call_graph(project)
    seen: set[tuple[str, str]] = set()
    frontier = [(module, function)]
    entry = None
    for _ in range(depth):
        following = []
        for current_module, current in frontier:
            key = (current_module.name, current.qualname)
            if key in seen:
                continue
            seen.add(key)
            kind = "startup" if _startup_name(current.name) else _startup_decorated(current)
            if not kind and key in _migration_receivers(project):
                kind = "command"
            if kind:
                entry = "startup" if entry == "startup" or kind == "startup" else "command"
                continue
            callers = []
            for candidate in graph.calling(current.name):
                verdict = _calls(project, candidate, current_module, current)
                if verdict is None:
                    return None  # `obj.name(...)` the project cannot resolve: maybe this function, from anywhere
                if verdict:
                    callers.append(candidate)
            if not callers:
                if _script_entry(project, current_module, current):
                    entry = entry or "command"
                    continue
                return None  # reached from outside the project, or by a handler: not startup-only
            following.extend(callers)
        frontier = following
        if not frontier:
            return entry
    return None


def _script_entry(project: Project, module: Module, function: Function) -> bool:
    """A module-level, undecorated function that takes no argument it needs, that no
    project code calls, in a module no project module imports (an example loader a CLI
    looks up by name, `scripts/seed.py`'s `main`): only an operator's script or tool can
    run it, like a one-shot command. Code on a request path is handed what it works on
    (the request, a session, a payload); a handler is registered by a decorator or from a
    module that imports it."""
    if function.class_qualname or "." in function.qualname or function.decorators:
        return False
    if any(param.default is None and param.kind in ("positional", "keyword") for param in function.params):
        return False
    return not project.is_imported(module.name)


def _startup_decorated(function: Function) -> str | None:
    """A startup hook (`@app.on_event("startup")`, `@app.before_serving`) or a one-shot
    command (`@click.command()`, `@app.cli.command()`, `@cli.command(...)`, a Django
    management command's `Command.handle`): run once, in one process."""
    if function.name == "handle" and (function.class_qualname or "").split(".")[-1] == "Command":
        return "command"
    for decorator in function.decorators:
        text = decorator.call.callee if decorator.call is not None else decorator.ref
        text = text or decorator.text or ""
        if "startup" in text or "before_serving" in text:
            return "startup"
        if last(text) in ("command", "group"):
            return "command"
        if last(text) == "receiver" and decorator.call is not None and any(
                last(a.ref or "") in _MIGRATION_SIGNALS for a in decorator.call.args):
            return "command"  # `@receiver(post_migrate)`: run by `migrate`
    return None


_MIGRATION_SIGNALS = frozenset({"pre_migrate", "post_migrate"})
_ROW_LOCKS = frozenset({"select_for_update", "with_for_update"})


def _migration_receivers(project: Project) -> frozenset[tuple[str, str]]:
    """Functions connected to Django's `pre_migrate` / `post_migrate` signals
    (`post_migrate.connect(create_default_site, sender=self)`): the `migrate` command runs
    them, in one process, like a one-shot command."""
    memo = project.memo("db-migration-receivers")
    if "found" not in memo:
        found = set()
        for module, call in project.index("db-migration-signal-connections", _signal_connections).get("connect"):
            handed = call.args[0] if call.args else call.kwarg("receiver")
            symbol = project.resolve(module, handed.ref) if handed is not None and handed.ref else None
            if symbol is not None and symbol.kind == "function":
                found.add((symbol.module, symbol.qualname))
        memo["found"] = frozenset(found)
    return memo["found"]


def _signal_connections(module: Module) -> Iterator[tuple[str, tuple[Module, Call]]]:
    """The module's `pre_migrate.connect(...)` / `post_migrate.connect(...)` calls, under one
    key of a project index (Project.index: the language server asks after every edit, and an
    edit changes one module)."""
    for function in module.facts.functions:
        for call in function.calls:
            if call.method == "connect" and call.receiver is not None \
                    and last(call.receiver.ref or "") in _MIGRATION_SIGNALS:
                yield "connect", (module, call)


def _calls(project: Project, caller: tuple[Module, Function], module: Module, function: Function) -> bool | None:
    """Whether `caller` calls `function` (the call graph's answer): True when a call resolves
    to it (or is a plain name nothing resolves, such as a function-local import), None when
    a call by that name goes through an object nothing resolves (`client.name(...)`: it may
    be this function), False otherwise."""
    caller_module, caller_function = caller
    if caller_function.qualname == "<module>":
        return True
    graph = call_graph(project)
    wanted = key_of(module, function)
    found: bool | None = False
    for call in caller_function.calls:
        if last(call.callee or call.method or "") != function.name:
            continue
        target = graph.target(caller_module, caller_function, call)
        if target == wanted:
            return True
        if target is not None:
            continue
        if call.callee and "." not in call.callee:
            return True
        found = None
    return found


def _view_queryset_value(value: Value | None) -> bool:
    """`self.object_list`, `self.queryset`, `self.get_queryset()`, `self.filter_queryset(qs)`."""
    if value is None:
        return False
    if value.kind == "attr":
        return value.ref in _VIEW_QUERYSET_ATTRIBUTES
    call = value.call if value.kind == "call" else None
    return (call is not None and call.method in _VIEW_QUERYSET_METHODS and call.receiver is not None
            and call.receiver.kind == "name" and call.receiver.ref == "self")


_LOCK_WORDS = frozenset({"lock", "locked", "locking", "mutex"})
_ORDERINGS = frozenset({"order_by", "latest", "earliest"})


def _words(name: str) -> list[str]:
    """`advisory_lock` -> advisory, lock; `RedisLock` -> redis, lock."""
    words, current = [], ""
    for char in name:
        if char == "_" or (char.isupper() and current and not current[-1].isupper()):
            if current:
                words.append(current.lower())
            current = "" if char == "_" else char
        else:
            current += char
    if current:
        words.append(current.lower())
    return words
