"""Incremental judgement (the language server's): after every edit, the findings equal
those of a full judgement of the same texts.

A project of several modules, each rule's findings depending on another module: a
FastAPI handler in `routes.py` reaches asserts in `helpers.py` (RL001); the models of
`schemas.py` are built in `build.py` and `other.py` (RL002); `crud.py` reads and
creates rows through the helpers of `store.py` (RL003, RL004). A sequence of unsaved
edits changes what one module tells the others; after each, the live project's
incremental judgement is compared with a full one, and the findings the edit should
move are checked, so that the comparison is not of two empty lists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from review_lint import libcst_patches
from review_lint.live import LiveProject

HELPERS = """def check_user(user):
    assert user is not None
    return user


def normalise(name):
    return name.strip()
"""
ROUTES = """from fastapi import FastAPI

from .crud import ensure_tag, read_twice
from .helpers import check_user, normalise

app = FastAPI()


@app.get("/users")
def read_user(user: str):
    return check_user(user)


@app.post("/tags")
def add_tag(session, name: str):
    return ensure_tag(session, normalise(name))


@app.get("/tags/{tag_id}")
def show_tag(session, tag_id: int):
    return read_twice(session, tag_id)
"""
SCHEMAS = """from typing import Optional

from pydantic import BaseModel


class Note(BaseModel):
    text: Optional[str]
"""
BUILD = """from .schemas import Note


def make(text: str) -> Note:
    return Note(text=None)
"""
OTHER = """from .schemas import Note


def blank() -> Note:
    return Note(text=None)
"""
MODELS = """class Tag:
    def __init__(self, **values):
        self.values = values
"""
STORE = """from sqlalchemy.orm import Session

from .models import Tag


def get_tag_by_name(session: Session, name: str):
    return session.get(Tag, name)


def get_tag(session: Session, tag_id: int):
    return session.get(Tag, tag_id)


def create_tag(session: Session, name: str):
    tag = Tag(name=name)
    session.add(tag)
    return tag
"""
GUARDED_CREATE = """def create_tag(session: Session, name: str):
    try:
        with session.begin_nested():
            tag = Tag(name=name)
            session.add(tag)
    except IntegrityError:
        return session.get(Tag, name)
    return tag
"""
CRUD = """from sqlalchemy.orm import Session

from .store import create_tag, get_tag, get_tag_by_name


def ensure_tag(session: Session, name: str):
    tag = get_tag_by_name(session, name)
    if tag is None:
        tag = create_tag(session, name)
    return tag


def read_twice(session: Session, tag_id: int):
    first = get_tag(session, tag_id)
    first.used = True
    session.commit()
    return get_tag(session, tag_id)
"""
PROJECT = {".review-lint.yaml": "", "app/__init__.py": "", "app/helpers.py": HELPERS, "app/routes.py": ROUTES,
           "app/schemas.py": SCHEMAS, "app/build.py": BUILD, "app/other.py": OTHER, "app/models.py": MODELS,
           "app/store.py": STORE, "app/crud.py": CRUD}


@pytest.fixture
def live(tmp_path: Path):
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    with libcst_patches.applied():  # as the server runs
        project = LiveProject(tmp_path, cache=False)
        project.source.collector.jobs = 1  # a handful of files: no worker processes
        yield project


def codes(findings, path: str) -> list[str]:
    """The bundled rules' codes (the tests' RL900, which flags any assert, is judged too)."""
    return [d.rule for d in findings.get(path, []) if d.rule != "RL900"]


def edit(live: LiveProject, path: str, text: str | None) -> dict:
    """Apply an unsaved edit (None: close the buffer), judge incrementally, and check
    the findings against a full judgement of the same texts."""
    if text is None:
        live.close_buffer(path)
    else:
        live.set_buffer(path, text)
    incremental = live.judge()
    full = live.judge(full=True)
    assert incremental == full
    return incremental


GUARDED_STORE = "from sqlalchemy.exc import IntegrityError\n" + STORE.replace(STORE[STORE.index("def create_tag"):],
                                                                                 GUARDED_CREATE)
RENAMED_STORE = GUARDED_STORE.replace("def get_tag(", "def fetch_tag(")
RENAMED_CRUD = CRUD.replace("get_tag,", "fetch_tag,").replace("get_tag(session, tag_id)", "fetch_tag(session, tag_id)")

# (what the edit does, file, its new text (None: the buffer closed), file -> the codes expected there)
EDITS = [
    ("an assert added to a helper a handler reaches",
     "app/helpers.py", HELPERS.replace("    return name.strip()", "    assert name\n    return name.strip()"),
     {"app/helpers.py": ["RL001", "RL001"]}),
    ("the assert removed again", "app/helpers.py", HELPERS, {"app/helpers.py": ["RL001"]}),
    ("the handler no longer calls the helper with the assert",
     "app/routes.py", ROUTES.replace("return check_user(user)", "return user"), {"app/helpers.py": []}),
    ("the call restored", "app/routes.py", ROUTES, {"app/helpers.py": ["RL001"]}),
    ("one construction site fills the Optional field (another still gives None)",
     "app/build.py", BUILD.replace("Note(text=None)", "Note(text=text)"), {"app/schemas.py": []}),
    ("the construction site in another module fills it too",
     "app/other.py", OTHER.replace("Note(text=None)", 'Note(text="")'), {"app/schemas.py": ["RL002"]}),
    ("the create helper guards its own insert", "app/store.py", GUARDED_STORE, {"app/crud.py": ["RL003"]}),
    ("the read helper renamed: its callers' import no longer resolves", "app/store.py", RENAMED_STORE,
     {"app/crud.py": []}),
    ("the callers import the new name: the row is read twice again", "app/crud.py", RENAMED_CRUD,
     {"app/crud.py": ["RL003"]}),
    ("a syntax error mid-edit in the helpers' module: its last good facts stay",
     "app/store.py", RENAMED_STORE.replace("def create_tag(session: Session, name: str):", "def create_tag(session:"),
     {"app/store.py": ["RL000"], "app/crud.py": ["RL003"]}),
    ("the syntax error fixed, and the create helper no longer guarded",
     "app/store.py", STORE.replace("def get_tag(", "def fetch_tag("), {"app/store.py": [], "app/crud.py": ["RL004", "RL003"]}),
    ("a body edit that changes nothing another module sees",
     "app/crud.py", RENAMED_CRUD.replace("    first.used = True\n", "    first.used = True\n    first.seen = 1\n"),
     {"app/crud.py": ["RL004", "RL003"]}),
    ("the helpers' buffer closed: the file on disk, where the read helper has its old name", "app/store.py", None,
     {"app/store.py": [], "app/crud.py": ["RL004"]}),
    ("the handlers' buffer closed", "app/routes.py", None, {"app/helpers.py": ["RL001"]}),
]


def test_incremental_findings_equal_a_full_judgement_after_every_edit(live: LiveProject):
    first = live.judge()
    assert first == live.judge(full=True)
    assert codes(first, "app/helpers.py") == ["RL001"]
    assert codes(first, "app/crud.py") == ["RL004", "RL003"]  # get_tag returns the row it reads
    for what, path, text, expected in EDITS:
        findings = edit(live, path, text)
        for where, wanted in expected.items():
            assert codes(findings, where) == wanted, what


def test_an_edit_that_no_other_module_sees_is_judged_alone(live: LiveProject):
    live.judge()
    live.set_buffer("app/schemas.py", SCHEMAS + "\n\ndef unused():\n    return 1\n")
    assert live.judge() == live.judge(full=True)
    again = live.judgements.judged_again
    # Each rule judges the edited module again, and no other: nothing read it. (RL004's
    # project-wide question, is there an IntegrityError handler anywhere, reads an index of
    # the calls that may register one, which the edit did not change.)
    assert again["RL003"] == 1
    assert again["RL004"] == 1
    # RL001's handler search reads every module, but the handlers and the calls among
    # what they reach are those of the last judgement: no module's verdict changes.
    assert again["RL001"] == 0


def test_a_changed_helper_judges_its_callers_again(live: LiveProject):
    live.judge()
    live.set_buffer("app/store.py", STORE.replace("session.add(tag)", "session.add(tag)\n    session.flush()"))
    assert live.judge() == live.judge(full=True)
    # store.py itself; crud.py, which resolved its helpers; and routes.py, which asked
    # whether `ensure_tag` returns a row it reads (it does when `create_tag` returns a row).
    assert live.judgements.judged_again["RL004"] == 3


def test_files_created_and_deleted_start_again_in_full(live: LiveProject, tmp_path: Path):
    live.judge()
    (tmp_path / "app/more.py").write_text("from .schemas import Note\n\n\ndef fill() -> Note:\n    return Note(text='x')\n")
    live.disk_changed("app/more.py")
    assert live.judge() == live.judge(full=True)
    (tmp_path / "app/more.py").unlink()
    live.disk_changed("app/more.py")
    assert live.judge() == live.judge(full=True)


# -- the mechanism: what a memo entry read counts for whoever finds it -----------------
def _project(modules: dict[str, str], earlier=None, changed=frozenset()):
    from review_lint.facts import ModuleFacts
    from review_lint.project import Module, Project

    made = [Module(name, False, ModuleFacts(path=path)) for path, name in modules.items()]
    return Project(Path("."), made, lambda path: False, tracked=True, earlier=earlier, changed=changed), made


def test_a_memo_entry_counts_what_it_read_for_whoever_finds_it():
    from review_lint.project import reading

    project, (a, b, c) = _project({"a.py": "a", "b.py": "b", "c.py": "c"})
    memo = project.memo("answers")
    with reading() as judging_a:
        a.functions  # what forms the key: the asker's own read
        if "question" not in memo:
            c.classes  # what the answer comes from
            memo["question"] = 42
    with reading() as judging_b:
        b.functions
        assert memo["question"] == 42
    assert set(judging_a) == {"a.py", "c.py"}
    assert set(judging_b) == {"b.py", "c.py"}  # c.py through the entry, never read here


def test_a_memo_entry_stored_again_after_a_placeholder_counts_what_it_read_since_its_miss():
    from review_lint.project import reading

    project, (a, b, c) = _project({"a.py": "a", "b.py": "b", "c.py": "c"})
    memo = project.memo("answers")
    with reading():
        a.functions  # the asker's own read, before the miss
        if "question" not in memo:
            memo["question"] = None  # against recursion through the same question
            c.classes
            memo["question"] = 42
    with reading() as finding:
        b.functions
        assert memo["question"] == 42
    assert set(finding) == {"b.py", "c.py"}


def test_a_memo_entry_missed_in_another_frame_counts_everything_its_own_frame_read():
    from review_lint.project import reading

    project, (a, b, c) = _project({"a.py": "a", "b.py": "b", "c.py": "c"})
    memo = project.memo("answers")
    with reading():
        assert "question" not in memo  # a miss whose frame ends here
    with reading():
        a.functions
        c.classes
        memo["question"] = 42  # no miss in this frame: all it read counts
    with reading() as finding:
        assert memo["question"] == 42
    assert set(finding) == {"a.py", "c.py"}


def test_kept_memo_entries_outlive_only_edits_of_modules_they_did_not_read():
    from review_lint.project import reading

    project, (a, b) = _project({"a.py": "a", "b.py": "b"})
    memo = project.memo("answers", kept=True)
    with reading():
        for module in (a, b):
            if module.path not in memo:
                module.facts
                memo[module.path] = module.name.upper()
    again, _ = _project({"a.py": "a", "b.py": "b"}, earlier=project.kept, changed=frozenset({"b.py"}))
    assert dict(again.memo("answers", kept=True)) == {"a.py": "A"}
    assert again.memo("not kept") == {}


def test_a_judgement_that_fails_leaves_the_last_one_to_compare_with(live: LiveProject, monkeypatch):
    from review_lint.engine import Engine

    live.set_buffer("app/store.py", RENAMED_STORE)
    live.set_buffer("app/crud.py", RENAMED_CRUD)
    assert codes(live.judge(), "app/crud.py") == ["RL003"]
    live.set_buffer("app/store.py", GUARDED_STORE)  # the read helper's old name: crud.py's import fails
    monkeypatch.setattr(Engine, "_suppressed", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # the server logs it and goes on
        live.judge()
    monkeypatch.undo()
    live.set_buffer("app/schemas.py", SCHEMAS + "\n")
    findings = live.judge()
    assert findings == live.judge(full=True)
    assert codes(findings, "app/crud.py") == []  # the edit made before the failure was seen


def test_knowledge_shared_through_project_memos_keeps_its_caches_in_memos(live: LiveProject):
    # A cache kept on a shared object (a plain dict the type layer fills) hides what its
    # entries read from every later judgement that finds them: reuse would go wrong.
    from review_lint.project import Memo

    facts = live.source.gather(live.root, live.files).facts()
    project, _ = live.engine.judge(facts, 1, live.judgements)
    shared = [value for memo in project._memos.values() for value in dict.values(memo)
              if type(value).__module__.startswith("review_lint.knowledge")]
    assert {type(value).__name__ for value in shared} >= {"Types", "CallGraph"}
    for value in shared:
        for name, attribute in vars(value).items():
            if isinstance(attribute, (dict, list, set)):
                assert isinstance(attribute, Memo), f"{type(value).__name__}.{name}: use project.memo or project.cache"


# -- project-wide indexes: a module that starts defining a name changes what readers found ---
DISPATCH = {".review-lint.yaml": "", "app/__init__.py": "",
            "app/jobs.py": ("class Job:\n    def run(self):\n        assert self\n\n\nJOBS = {}\n\n\n"
                            "def make():\n    return JOBS.get('job')\n"),
            "app/routes.py": ("from fastapi import FastAPI\n\nfrom .jobs import make\n\napp = FastAPI()\n\n\n"
                              "@app.get('/')\ndef start():\n    job = make()\n    return job.run()\n"),
            "app/other.py": "def unrelated():\n    return 1\n"}


def live_on(tmp_path: Path, files: dict[str, str]) -> LiveProject:
    """A language server's project over `files`, written under tmp_path (patches applied by the caller)."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    live = LiveProject(tmp_path, cache=False)
    live.source.collector.jobs = 1
    return live


def test_a_class_defining_the_dispatched_name_elsewhere_changes_the_family(tmp_path: Path):
    with libcst_patches.applied():
        live = live_on(tmp_path, DISPATCH)
        # `job` holds what project code made, of no known class: `run` is the one family's.
        assert codes(live.judge(), "app/jobs.py") == ["RL001"]
        unrelated = DISPATCH["app/other.py"] + "\n\nclass Other:\n    def run(self):\n        return 2\n"
        assert codes(edit(live, "app/other.py", unrelated), "app/jobs.py") == []  # two families: no guess
        assert codes(edit(live, "app/other.py", DISPATCH["app/other.py"]), "app/jobs.py") == ["RL001"]


FILLED = {".review-lint.yaml": "", "app/__init__.py": "",
          "app/models.py": "class Pref:\n    def set(self, value):\n        assert value\n\n\nclass Other:\n"
                           "    def set(self, value):\n        return value\n",
          "app/prefs.py": ("from .models import Pref\n\n\nclass Registry:\n    found = {}\n\n"
                           "    def add(self, name):\n        Registry.found[name] = Pref()\n\n"
                           "    def get(self, name):\n        return Registry.found[name]\n"),
          "app/routes.py": ("from fastapi import FastAPI\n\nfrom .prefs import Registry\n\napp = FastAPI()\n\n\n"
                            "@app.put('/')\ndef save(name: str):\n    registry = Registry()\n    pref = registry.get(name)\n"
                            "    return pref.set(name)\n")}


def test_a_store_into_a_registry_edited_elsewhere_changes_what_its_items_are(tmp_path: Path):
    with libcst_patches.applied():
        live = live_on(tmp_path, FILLED)
        # Every store puts a Pref in, so what `get` returns is a Pref and `set` is Pref's.
        assert codes(live.judge(), "app/models.py") == ["RL001"]
        mixed = FILLED["app/prefs.py"].replace("import Pref", "import Other, Pref") + (
            "\n    def add_other(self, name):\n        Registry.found[name] = Other()\n")
        assert codes(edit(live, "app/prefs.py", mixed), "app/models.py") == []  # two classes: not known
        assert codes(edit(live, "app/prefs.py", FILLED["app/prefs.py"]), "app/models.py") == ["RL001"]


def test_an_index_read_counts_its_contributors_and_the_key_itself():
    from review_lint.facts import Class, ModuleFacts
    from review_lint.project import Index, Module, reading

    def module(path: str, *names: str) -> Module:
        classes = [Class(name, name, (1, 0, 1, 0)) for name in names]
        return Module(path[:-3], False, ModuleFacts(path=path, classes=classes))

    def by_name(found: Module):
        for cls in found.facts.classes:
            yield cls.name, found.path

    a, b, c = module("a.py", "A", "Shared"), module("b.py"), module("c.py", "Shared")
    index = Index("names", by_name, [a, b, c])
    with reading() as read:
        handed_out = index.get("Shared")
        assert handed_out == ["a.py", "c.py"]
    assert set(read) == {index.read_key("Shared"), "a.py", "c.py"}  # not b.py: it holds none
    b2 = module("b.py", "Shared", "B")
    started = index.update({"b.py": b2}, ["b.py"], {"b.py": b})
    assert started == {index.read_key("Shared"), index.read_key("B")}  # what b.py's readers did not read
    assert index.get("Shared") == ["a.py", "b.py", "c.py"]  # in module order, as a full build has it
    assert handed_out == ["a.py", "c.py"]  # what an earlier judgement holds is never changed under it
    assert index.update({"c.py": module("c.py")}, ["c.py"], {"c.py": c}) == set()  # c.py was read by every reader of its keys
    assert index.get("Shared") == ["a.py", "b.py"]

    # Built for one judgement (a run of `check`), an index says so if updated.
    one_run = Index("names", by_name, [a, b, c], updatable=False)
    assert one_run.get("Shared") == ["a.py", "c.py"] and one_run.get("Missing") == []
    with pytest.raises(RuntimeError, match="one judgement"):
        one_run.update({"b.py": b2}, ["b.py"], {"b.py": b})


def test_an_index_keeps_module_order_when_modules_give_a_key_several_items():
    """Most keys hold items of one module, kept without a position per item; a key that
    gains items of a second module, or loses them again, reads as a full build has it."""
    from review_lint.facts import Class, ModuleFacts
    from review_lint.project import Index, Module, reading

    def module(path: str, *names: str) -> Module:
        classes = [Class(name, name, (1, 0, 1, 0)) for name in names]
        return Module(path[:-3], False, ModuleFacts(path=path, classes=classes))

    def by_name(found: Module):
        for number, cls in enumerate(found.facts.classes):
            yield cls.name, f"{found.path}#{number}"

    a, b, c = module("a.py", "K", "K"), module("b.py", "K"), module("c.py", "K", "L", "K")
    index = Index("names", by_name, [a, b, c])
    held = {"a.py": a, "b.py": b, "c.py": c}  # what the index was last given

    def update(now: Module) -> None:
        index.update({now.path: now}, [now.path], held)
        held[now.path] = now

    assert index.get("K") == ["a.py#0", "a.py#1", "b.py#0", "c.py#0", "c.py#2"]
    update(module("b.py"))
    assert index.get("K") == ["a.py#0", "a.py#1", "c.py#0", "c.py#2"]
    update(module("a.py"))
    assert index.get("K") == ["c.py#0", "c.py#2"]
    with reading() as read:
        index.get("K")
    assert set(read) == {index.read_key("K"), "c.py"}
    update(module("b.py", "K", "K"))
    assert index.get("K") == ["b.py#0", "b.py#1", "c.py#0", "c.py#2"]
    update(module("c.py", "L"))
    assert index.get("K") == ["b.py#0", "b.py#1"] and index.get("L") == ["c.py#0"]
    with reading() as read:
        index.get("K")
    assert set(read) == {index.read_key("K"), "b.py"}
    update(module("b.py"))
    assert index.get("K") == []


def test_an_integrity_error_handler_added_elsewhere_changes_the_race_message(live: LiveProject):
    first = live.judge()
    assert [d.rule for d in first["app/crud.py"]].count("RL004") == 1
    assert "409" not in next(d.message for d in first["app/crud.py"] if d.rule == "RL004")
    registered = ROUTES.replace(
        "app = FastAPI()",
        "from sqlalchemy.exc import IntegrityError\n\napp = FastAPI()\napp.add_exception_handler(IntegrityError, conflict)",
    )
    findings = edit(live, "app/routes.py", registered)  # also compared with a full judgement
    (race,) = [d for d in findings["app/crud.py"] if d.rule == "RL004"]
    assert "app/routes.py:" in race.message
    findings = edit(live, "app/routes.py", ROUTES)
    (race,) = [d for d in findings["app/crud.py"] if d.rule == "RL004"]
    assert "app/routes.py:" not in race.message


INHERITED = {".review-lint.yaml": "", "app/__init__.py": "",
             "app/base.py": "class Base:\n    def save(self, value):\n        return value\n",
             "app/models.py": "from .base import Base\n\n\nclass Thing(Base):\n    pass\n",
             "app/routes.py": ("from fastapi import FastAPI\n\nfrom .models import Thing\n\napp = FastAPI()\n\n\n"
                               "@app.put('/')\ndef put(value: str):\n    thing = Thing()\n    return thing.save(value)\n")}
ROOTED_BASE = ("class Root:\n    def save(self, value):\n        assert value\n        return value\n\n\n"
               "class Base(Root):\n    pass\n")


def test_a_base_class_edited_elsewhere_changes_which_method_a_call_reaches(tmp_path: Path):
    # The class hierarchy (Types.mro) is kept across edits: an edit of the module a base
    # is in must let go of the hierarchies of the subclasses in other modules.
    with libcst_patches.applied():
        live = live_on(tmp_path, INHERITED)
        assert codes(live.judge(), "app/base.py") == []
        assert codes(edit(live, "app/base.py", ROOTED_BASE), "app/base.py") == ["RL001"]  # Thing -> Base -> Root
        assert codes(edit(live, "app/base.py", INHERITED["app/base.py"]), "app/base.py") == []
        moved = "class Base:\n    pass\n"  # `save` no longer defined anywhere Thing inherits from
        assert codes(edit(live, "app/base.py", ROOTED_BASE), "app/base.py") == ["RL001"]
        assert codes(edit(live, "app/models.py", INHERITED["app/models.py"].replace("(Base)", "")), "app/base.py") == []
        assert codes(edit(live, "app/base.py", moved), "app/base.py") == []
