"""Projects rendered from the shipped template versions 1 and 2 (what `lifecycle new` wrote before
the template moved on), copied fresh for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from upgrade_matrix import NAME, V1, V2


@pytest.fixture(scope="session")
def pristine_v1(tmp_path_factory) -> Path:
    from lifecycle.scaffold.answers import Answers
    from lifecycle.scaffold.render import NewProject, render_project

    answers = Answers(name=NAME, use_case="summarize support chats for the next agent", task="summarization")
    target = tmp_path_factory.mktemp("v1") / NAME
    render_project(NewProject(answers, target, template=V1))
    return target


@pytest.fixture
def v1_project(pristine_v1, tmp_path) -> Path:
    root = tmp_path / NAME
    shutil.copytree(pristine_v1, root, symlinks=True)
    return root




@pytest.fixture(scope="session")
def pristine_v2(tmp_path_factory) -> Path:
    from lifecycle.scaffold.answers import Answers
    from lifecycle.scaffold.render import NewProject, render_project

    answers = Answers(name=NAME, use_case="summarize support chats for the next agent", task="summarization")
    target = tmp_path_factory.mktemp("v2") / NAME
    render_project(NewProject(answers, target, template=V2))
    return target


@pytest.fixture
def v2_project(pristine_v2, tmp_path) -> Path:
    root = tmp_path / NAME
    shutil.copytree(pristine_v2, root, symlinks=True)
    return root
