"""The project model: module names and what a name refers to, across modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_lint.engine import Engine, Options
from review_lint.project import Symbol, find_root


def build(tmp_path: Path, files: dict[str, str]):
    root = tmp_path / "proj"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / ".review-lint.yaml").write_text("")
    engine = Engine(Options(paths=[str(root)]), cwd=root)
    result = engine.run()
    return result.project


LAYOUT = {
    "src/shop/__init__.py": "from .api.routes import router as public_router\nfrom . import models\n",
    "src/shop/models.py": "class Order:\n    def total(self):\n        return 1\n\nDEFAULT = Order()\n",
    "src/shop/api/__init__.py": "",
    "src/shop/api/routes.py": (
        "import fastapi\nfrom fastapi import APIRouter as Router\nimport shop.models as m\n"
        "from ..models import Order as O, DEFAULT\nfrom .. import models\nimport sqlalchemy.exc\n"
        "router = Router()\n\ndef helper():\n    pass\n"
    ),
    "scripts/tool.py": "from shop import public_router\nfrom shop.models import *\n",
    "nsapp/views/pages.py": "def page():\n    pass\n",
}


@pytest.fixture
def project(tmp_path):
    return build(tmp_path, LAYOUT)


def test_module_names_for_src_layout_and_namespace_packages(project):
    names = {module.path: module.name for module in project.all_modules}
    assert names["src/shop/__init__.py"] == "shop"
    assert names["src/shop/api/routes.py"] == "shop.api.routes"
    assert names["nsapp/views/pages.py"] == "nsapp.views.pages"
    assert names["scripts/tool.py"] == "scripts.tool"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("fastapi.FastAPI", Symbol("external", "", "fastapi.FastAPI")),
        ("Router", Symbol("external", "", "fastapi.APIRouter")),
        ("m.Order", Symbol("class", "shop.models", "Order")),
        ("m.Order.total", Symbol("function", "shop.models", "Order.total")),
        ("O", Symbol("class", "shop.models", "Order")),
        ("DEFAULT", Symbol("variable", "shop.models", "DEFAULT")),
        ("models.Order", Symbol("class", "shop.models", "Order")),
        ("sqlalchemy.exc.IntegrityError", Symbol("external", "", "sqlalchemy.exc.IntegrityError")),
        ("router", Symbol("variable", "shop.api.routes", "router")),
        ("helper", Symbol("function", "shop.api.routes", "helper")),
        ("print", None),
    ],
)
def test_resolution_inside_a_module(project, name, expected):
    module = project.modules["shop.api.routes"]
    assert project.resolve(module, name) == expected


def test_regular_packages_below_a_namespace_folder_answer_to_both_names(tmp_path):
    project = build(tmp_path, {
        "galaxy/webapps/__init__.py": "",
        "galaxy/webapps/api.py": "from galaxy.managers.jobs import run\n",
        "galaxy/managers/__init__.py": "",
        "galaxy/managers/jobs.py": "def run():\n    pass\n",
    })
    api = project.modules["webapps.api"]
    assert project.modules["galaxy.webapps.api"] is api
    assert project.resolve(api, "run") == Symbol("function", "managers.jobs", "run")


def test_reexports_through_init_and_star_imports(project):
    tool = project.modules["scripts.tool"]
    assert project.resolve(tool, "public_router") == Symbol("variable", "shop.api.routes", "router")
    assert project.resolve(tool, "Order") == Symbol("class", "shop.models", "Order")


def test_variable_values_and_class_ancestry(tmp_path):
    project = build(tmp_path, {
        "app/__init__.py": "",
        "app/base.py": "from pydantic import BaseModel\n\nclass Strict(BaseModel):\n    pass\n",
        "app/frames.py": "from typing import Generic, TypeVar\nfrom .base import Strict\nT = TypeVar('T')\n\n"
                         "class Ready(Strict):\n    pass\n\nclass Page(Strict, Generic[T]):\n    pass\n\n"
                         "class Orders(Page[int]):\n    pass\n",
    })
    frames = project.modules["app.frames"]
    ready = frames.classes["Ready"]
    assert project.base_names(frames, ready) == {"app.base.Strict", "pydantic.BaseModel"}
    orders = frames.classes["Orders"]
    assert project.base_names(frames, orders) == {"app.frames.Page", "app.base.Strict", "pydantic.BaseModel",
                                                  "typing.Generic"}


def test_root_is_the_nearest_marker_above_the_first_path(tmp_path):
    (tmp_path / "repo" / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    assert find_root(tmp_path / "repo" / "pkg" / "sub", tmp_path) == tmp_path / "repo"
    (tmp_path / "repo" / "pkg" / ".review-lint.yaml").write_text("")
    assert find_root(tmp_path / "repo" / "pkg" / "sub", tmp_path) == tmp_path / "repo" / "pkg"
