"""`lifecycle new` ships configs/align.yaml (with its $schema and the commands that use it) and a
preference sample written for the project's task: >= 20 prompt/chosen/rejected pairs whose prompts
are exactly the project's own prompts for its data/sample.jsonl rows."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

TASKS = ["summarization", "classification", "question_answering", "translation", "chat"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    from lifecycle.scaffold.answers import Answers
    from lifecycle.scaffold.render import NewProject, render_project

    root = tmp_path_factory.mktemp("align-new")
    out = {}
    for task in TASKS:
        a = Answers(name=f"a-{task}", use_case=f"A {task} assistant for support tickets", task=task)
        out[task] = render_project(NewProject(answers=a, target=root / a.name)).target
    return out


@pytest.mark.parametrize("task", TASKS)
def test_align_config_and_preference_sample(projects, task):
    from lifecycle.align.pairs import load_align_config
    from lifecycle.align.preferences import load_preferences
    from lifecycle.data import load_jsonl
    from lifecycle.project import Project
    from lifecycle.prompting.builder import format_example

    root = projects[task]
    text = (root / "configs" / "align.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../.lifecycle/schemas/align.schema.json\n# Used by: lifecycle align")
    assert (root / ".lifecycle" / "schemas" / "align.schema.json").is_file()
    project = Project(root)
    cfg = load_align_config(project)  # validates against AlignConfig (extra keys forbidden)
    assert cfg.pairs.greedy_first and cfg.eval.data == "data/preferences/heldout.jsonl"
    rows = load_preferences(root / "data" / "preferences" / "sample.jsonl", min_rows=20)
    prompt_cfg = project.prompt_config()
    examples = load_jsonl(root / "data" / "sample.jsonl", id_field=prompt_cfg.id_field)
    prompts = {format_example(ex, prompt_cfg) for ex in examples}
    assert {r["prompt"] for r in rows} <= prompts  # the project's own prompts, not a generic text
    assert len({r["chosen"] for r in rows}) > 1 and all(r["chosen"] != r["rejected"] for r in rows)


@pytest.mark.parametrize("task", ["summarization", "chat"])
def test_generated_project_still_validates_and_tests_pass(projects, task):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "lifecycle", "validate"], cwd=projects[task],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=projects[task],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0 and " passed" in proc.stdout, proc.stdout + proc.stderr
