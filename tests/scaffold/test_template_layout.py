"""The project template is package data found through importlib.resources, and the files it
includes live in `_includes/`: no folder inside lifecycle/templates/ is itself named "templates".
(The current template's includes are checked on the rendered projects in test_scaffold_render.py.)"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

import lifecycle
from lifecycle.scaffold.answers import Answers
from lifecycle.scaffold.jinja_ext import INCLUDES
from lifecycle.scaffold.template import template_dir, template_version, templates_root
from lifecycle.upgrade.history import render_tree, shipped

VERSIONS = shipped()


def test_templates_are_the_packages_own_data():
    assert templates_root() == files("lifecycle") / "templates" == Path(lifecycle.__file__).parent / "templates"
    assert template_dir() == templates_root() / "project"
    assert set(VERSIONS.versions.values()) == {template_dir(), *(templates_root() / "history").iterdir()}


def test_no_folder_inside_is_named_templates():
    assert [p for p in templates_root().rglob("templates") if p.is_dir()] == []
    for folder in VERSIONS.versions.values():
        assert (folder / INCLUDES / "samples").is_dir(), folder


@pytest.mark.parametrize("version", [v for v in VERSIONS.ordered() if v != template_version()])
def test_every_earlier_version_includes_its_samples_from_includes(version):
    folder = VERSIONS.folder(version)
    answers = Answers.model_validate({"name": "demo", "use_case": "Summarise support calls", "task": "chat"})
    tree = render_tree(folder, answers, model_chosen=False)
    assert tree["data/sample.jsonl"] == (folder / INCLUDES / "samples" / "chat.jsonl").read_bytes()
