"""RL003 / RL004 messages that the fixtures' line marks cannot tell apart."""

from __future__ import annotations

import textwrap
from pathlib import Path

from review_lint.engine import Engine, Options


def messages(tmp_path: Path, code: str, files: dict[str, str]) -> dict[int, str]:
    (tmp_path / "pyproject.toml").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    engine = Engine(Options(paths=[str(tmp_path)], root=str(tmp_path), select=[code]), cwd=tmp_path)
    return {d.line: d.message for d in engine.run().diagnostics if d.rule == code}


MODELS = """\
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Pool(Base):
        __tablename__ = "pools"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(unique=True)
        note: Mapped[str]
    """


def test_a_second_get_served_by_the_identity_map_says_no_sql_runs(tmp_path):
    found = messages(tmp_path, "RL003", {"models.py": MODELS, "app.py": """\
        from models import Pool


        def twice(session, pool_id):
            first = session.get(Pool, pool_id)
            return first, session.get(Pool, pool_id)


        def after_commit(session, pool_id):
            first = session.get(Pool, pool_id)
            session.commit()
            return first, session.get(Pool, pool_id)
        """})
    assert set(found) == {6, 12}
    assert "identity map without a round trip" in found[6]
    assert "identity map" not in found[12] and "refresh once after the last write" in found[12]


GET_OR_CREATE = """\
    from models import Pool


    def by_name(session, name):
        pool = session.query(Pool).filter_by(name=name).first()
        if pool is None:
            session.add(Pool(name=name))


    def by_note(session, note):
        pool = session.query(Pool).filter_by(note=note).first()
        if pool is None:
            session.add(Pool(note=note))
    """


def test_a_get_or_create_without_a_unique_constraint_says_a_duplicate_is_inserted(tmp_path):
    found = messages(tmp_path, "RL004", {"models.py": MODELS, "app.py": GET_OR_CREATE})
    assert set(found) == {7, 13}
    assert "unhandled IntegrityError" in found[7]
    assert "no unique constraint of `Pool` covers the looked-up column(s) `note`" in found[13]
    assert "silently inserts a duplicate" in found[13]


def test_a_statement_kept_in_a_name_is_judged_by_its_model_constraints(tmp_path):
    kept = """\
    from sqlalchemy import select

    from models import Pool


    def by_note(session, note):
        statement = select(Pool).where(Pool.note == note)
        pool = session.scalars(statement).one_or_none()
        if pool is None:
            session.add(Pool(note=note))
    """
    found = messages(tmp_path, "RL004", {"models.py": MODELS, "app.py": kept})
    assert set(found) == {10}
    assert "no unique constraint of `Pool` covers the looked-up column(s) `note`" in found[10]


def test_a_project_wide_integrity_error_handler_changes_the_message_not_the_finding(tmp_path):
    server = """\
        import sqlalchemy as sa
        from fastapi import FastAPI


        async def conflict(request, exc):
            ...


        def create_app():
            return FastAPI(exception_handlers={sa.exc.IntegrityError: conflict})
        """
    found = messages(tmp_path, "RL004", {"models.py": MODELS, "app.py": GET_OR_CREATE, "server.py": server})
    assert set(found) == {7, 13}
    assert "project-wide IntegrityError handler (server.py:10)" in found[7]
    assert "unhandled IntegrityError" not in found[7]


CASCADE = """\
    from sqlalchemy import ForeignKey, select
    from sqlalchemy.orm import mapped_column, relationship

    from models import Base, Pool


    class Slot(Base):
        __tablename__ = "slots"
        pool_id = mapped_column(ForeignKey("pools.id"), primary_key=True)
        pool = relationship(Pool)


    def reserve(session, name):
        pool = session.scalars(select(Pool).where(Pool.name == name)).first()
        if pool is None:
            pool = Pool(name=name)
        session.add(Slot(pool=pool))
    """


def test_an_insert_by_relationship_cascade_names_the_parent_and_where_it_was_built(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    for name, text in {"models.py": MODELS, "app.py": CASCADE}.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    engine = Engine(Options(paths=[str(tmp_path)], root=str(tmp_path), select=["RL004"]), cwd=tmp_path)
    [finding] = [d for d in engine.run().diagnostics if d.rule == "RL004"]
    assert finding.line == 17
    assert "also inserts the new `Pool`" in finding.message and "relationship cascade" in finding.message
    assert [r.span[0] for r in finding.related] == [14, 15, 16]  # read, missing branch, the new parent


DJANGO_MODELS = """\
    from django.db import models


    class Topic(models.Model):
        title = models.CharField(max_length=80, unique=True)


    class Forum(models.Model):
        name = models.CharField(max_length=80, unique=True)
    """

DJANGO_CREATE_THEN_OTHER_GUARD = """\
    from django.db import IntegrityError, transaction

    from models import Forum, Topic


    def open_topic(title, forum_name):
        if Topic.objects.filter(title=title).first() is None:
            Topic.objects.create(title=title)
        try:
            with transaction.atomic():
                Forum(name=forum_name).save()
        except IntegrityError:
            Forum.objects.get(name=forum_name)
    """


def test_a_django_insert_is_not_guarded_by_a_later_saves_handler(tmp_path):
    # Django's create() runs its INSERT at once: the later save's `except IntegrityError` is not its guard
    found = messages(tmp_path, "RL004", {"models.py": DJANGO_MODELS, "app.py": DJANGO_CREATE_THEN_OTHER_GUARD})
    assert "no `except IntegrityError` around the insert" in found[8]
