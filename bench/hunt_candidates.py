"""Recall hunt (issue 16): list candidate sites of the rules' shapes in an unpacked application,
by parsing (never importing) its files, each marked R when review-lint already reports it
(from the JSON of bench/hunt.sh) and - when not. A candidate is not a finding: every one is
read by hand (docs/real-world.md, "Twelve applications, every rule"). Deliberately loose:
- RL004: an `if` on a name bound from a read (`.first()`, `.one_or_none()`, `.scalar()`,
  `.exists()`, `objects.get`, `find_*`/`fetch_*`/`get_*_by_*`) or on `not ...exists()`, whose
  missing branch calls an insert (`session.add`, `objects.create`, `.save()`, `insert`,
  `create_*`); a `try` whose handler for DoesNotExist/NoResultFound inserts.
- RL003: the same read call, textually, twice in one function.
- RL001: every assert outside tests.
- RL002: every Optional field of a pydantic/dataclass/TypedDict/NamedTuple/attrs class.
Usage: python bench/hunt_candidates.py APP_ROOT FINDINGS_JSON > candidates.tsv
Columns: rule, path, line, function or class, shape, R/-, function mentions IntegrityError.
"""
import ast, json, os, re, sys

root, findings = sys.argv[1], sys.argv[2]
reported = {}
for d in json.load(open(findings))["diagnostics"]:
    reported.setdefault(d["rule"], set()).add((d["path"], d["line"]))
    for r in d.get("related", []):
        reported.setdefault(d["rule"] + "rel", set()).add((r["path"], r["line"]))

READ = {"first", "one_or_none", "scalar_one_or_none", "scalar", "get", "exists", "one", "get_one",
        "scalar_one", "filter_by_first"}
INSERT = {"add", "add_all", "create", "save", "bulk_create", "insert", "execute_insert"}
SKIPDIR = re.compile(r"(^|/)(tests?|testing|migrations|_migrations|alembic|versions)(/|$)")


def calls(node):
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            yield n


def cname(call):
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def is_read(call):
    n = cname(call)
    if n in READ:
        if n == "get":
            src = ast.unparse(call.func)
            return "objects" in src or "session" in src or "query" in src or src.endswith("db.get")
        return True
    return bool(re.match(r"(find|fetch|read|load|lookup)_|get_\w+_by_", n))


def is_insert(call):
    n = cname(call)
    if n in INSERT:
        src = ast.unparse(call.func)
        if n in ("add", "add_all"):
            return "session" in src or src.startswith("db.") or src == "db.add"
        if n == "create":
            return "objects" in src or "session" in src
        return True
    return bool(re.match(r"(create|insert)_", n))


def assigned_reads(fn):
    out = {}
    for n in ast.walk(fn):
        if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None:
            v = n.value.value if isinstance(n.value, ast.Await) else n.value
            if isinstance(v, ast.Call) and any(is_read(c) for c in calls(v)):
                tg = n.targets[0] if isinstance(n, ast.Assign) else n.target
                if isinstance(tg, ast.Name):
                    out.setdefault(tg.id, n.lineno)
    return out


def missing_test(test, names):
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        t = test.operand
        if isinstance(t, ast.Name) and t.id in names:
            return t.id
        if isinstance(t, ast.Call) and cname(t) == "exists":
            return "exists()"
        if isinstance(t, ast.Await) and isinstance(t.value, ast.Call):
            return "await-read"
        if isinstance(t, ast.Call) and is_read(t):
            return ast.unparse(t)[:60]
    if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id in names \
            and isinstance(test.ops[0], ast.Is) and isinstance(test.comparators[0], ast.Constant):
        return test.left.id
    return None


def body_inserts(stmts):
    return [c for s in stmts for c in calls(s) if is_insert(c)]


out = []
for dp, dn, fn_ in os.walk(root):
    rel_dir = os.path.relpath(dp, root)
    if SKIPDIR.search(rel_dir.replace(os.sep, "/")):
        continue
    for f in fn_:
        if not f.endswith(".py") or f.startswith("test"):
            continue
        path = os.path.normpath(os.path.join(rel_dir, f))
        try:
            tree = ast.parse(open(os.path.join(dp, f), encoding="utf-8", errors="replace").read())
        except SyntaxError:
            continue
        src_text = None
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            fsrc = ast.get_source_segment(open(os.path.join(dp, f), encoding="utf-8", errors="replace").read(), fn) or ""
            guarded = "IntegrityError" in fsrc or "get_or_create" in fsrc or "update_or_create" in fsrc
            # RL004 shape 1: if-not-found branch inserts
            names = assigned_reads(fn)
            for n in ast.walk(fn):
                if isinstance(n, ast.If):
                    m = missing_test(n.test, names)
                    branch = n.body
                    if not m:
                        t = n.test
                        if isinstance(t, ast.Name) and t.id in names:
                            m, branch = t.id + "(else)", n.orelse
                        elif isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id in names and isinstance(t.ops[0], ast.IsNot):
                            m, branch = t.left.id + "(else)", n.orelse
                        elif isinstance(t, ast.Call) and cname(t) == "exists":
                            m, branch = "exists(else)", n.orelse
                    if m:
                        ins = body_inserts(branch)
                        if ins:
                            line = ins[0].lineno
                            tag = "R" if (path, line) in reported.get("RL004", set()) else "-"
                            out.append(("RL004", path, line, fn.name, f"if-missing[{m}] -> {cname(ins[0])}", tag, guarded))
                # shape 2: try: ...get(...) except DoesNotExist: insert
                if isinstance(n, ast.Try):
                    if any(is_read(c) for s in n.body for c in calls(s)):
                        for h in n.handlers:
                            if h.type is not None and re.search(r"DoesNotExist|NoResultFound|NotFound", ast.unparse(h.type)):
                                ins = body_inserts(h.body)
                                if ins:
                                    line = ins[0].lineno
                                    tag = "R" if (path, line) in reported.get("RL004", set()) else "-"
                                    out.append(("RL004", path, line, fn.name, f"except-missing -> {cname(ins[0])}", tag, guarded))
            # RL003: identical read calls twice in one function
            seen = {}
            for c in calls(fn):
                n = cname(c)
                if n in ("get", "first", "one_or_none", "scalar_one_or_none", "scalar", "one", "get_one", "refresh_from_db") or re.match(r"get_\w+_by_|fetch_|read_|load_", n):
                    s = ast.unparse(c)
                    if n == "get" and not re.search(r"session|objects|query|db\.get", s):
                        continue
                    if len(s) < 12:
                        continue
                    seen.setdefault(s, []).append(c.lineno)
            for s, lines in seen.items():
                if len(set(lines)) > 1:
                    ln = sorted(set(lines))
                    tag = "R" if any((path, l) in reported.get("RL003", set()) for l in ln) else "-"
                    out.append(("RL003", path, ln[-1], fn.name, f"{s[:90]} at {ln}", tag, False))
            # RL001 candidates: asserts in functions (non-test)
            for n in ast.walk(fn):
                if isinstance(n, ast.Assert):
                    tag = "R" if (path, n.lineno) in reported.get("RL001", set()) else "-"
                    out.append(("RL001", path, n.lineno, fn.name, ast.unparse(n.test)[:70], tag, False))
        # RL002 candidates: class fields Optional without default
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            bases = " ".join(ast.unparse(b) for b in cls.bases) + " " + " ".join(ast.unparse(d) for d in cls.decorator_list)
            if not re.search(r"BaseModel|Schema|TypedDict|NamedTuple|dataclass|Struct|attr|define|frozen|RootModel", bases):
                continue
            for st in cls.body:
                if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name):
                    ann = ast.unparse(st.annotation)
                    if re.search(r"Optional\[|\| None|None \|", ann):
                        dflt = "no-default" if st.value is None else ("=" + ast.unparse(st.value)[:30])
                        tag = "R" if (path, st.lineno) in reported.get("RL002", set()) else "-"
                        out.append(("RL002", path, st.lineno, cls.name, f"{st.target.id}: {ann[:50]} {dflt} [{bases.strip()[:40]}]", tag, False))

for r in sorted(out):
    print("\t".join(str(x) for x in r))
