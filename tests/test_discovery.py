"""Which files a walk (outside a git work tree) takes into the project."""

from __future__ import annotations

import os

from review_lint.discovery import project_files


def test_walk_skips_virtual_environments_and_tool_folders_and_follows_file_links(tmp_path):
    files = {
        "app/main.py": "", "app/types.pyi": "", "app/README.md": "",
        "env/pyvenv.cfg": "home = /usr\n", "env/lib/site.py": "", "env/tool.py": "",
        "node_modules/x.py": "", ".review-lint-cache/y.py": "", "app/__pycache__/main.py": "",
        "looks/pyvenv.cfg/inner.py": "",  # a folder named pyvenv.cfg does not make a virtual environment
        "target/real.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    os.symlink("target/real.py", tmp_path / "linked.py")  # a link to a file counts
    os.symlink("target", tmp_path / "linked_folder")  # a link to a folder is not walked
    os.symlink("nowhere.py", tmp_path / "dangling.py")  # nor is a dangling link a file
    assert project_files(tmp_path) == [
        "app/main.py", "app/types.pyi", "linked.py", "looks/pyvenv.cfg/inner.py", "target/real.py",
    ]
