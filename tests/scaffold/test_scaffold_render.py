"""Every task renders a project that validates, whose own tests pass, and that plain cookiecutter
renders identically from the same template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lifecycle.config.eval import EvalConfig
from lifecycle.config.finetune import FinetuneConfig
from lifecycle.config.generation import GenerationSettings
from lifecycle.config.model import ModelConfig
from lifecycle.config.prompt import PromptConfig
from lifecycle.config.yaml_io import load_config
from lifecycle.manifest import DEFAULT_METRIC, Manifest, Task
from lifecycle.scaffold.answers import Answers
from lifecycle.scaffold.render import NewProject, render_project
from lifecycle.scaffold.tasks import TASKS as SPECS

CONFIG_MODELS = {"model": ModelConfig, "prompt": PromptConfig, "generation": GenerationSettings,
                 "eval": EvalConfig, "finetune": FinetuneConfig}
TASKS = [t.value for t in Task]
SAMPLE_FIELDS = {
    "summarization": {"id", "dialogue", "summary"},
    "classification": {"id", "text", "label"},
    "question_answering": {"id", "context", "question", "answer"},
    "translation": {"id", "source", "target"},
    "chat": {"id", "instruction", "response"},
}
SUITES = {
    "summarization": ["rouge1", "rouge2", "rougeL", "rougeLsum", "length"],
    "classification": ["accuracy", "macro_f1"],
    "question_answering": ["exact_match", "token_f1"],
    "translation": ["sacrebleu", "chrf"],
    "chat": ["rougeL", "length"],
}


def scaffold(tmp_path: Path, task: str, **answers) -> Path:
    a = Answers(name=f"p-{task}", use_case=f"A {task} assistant for support tickets", task=task, **answers)
    return render_project(NewProject(answers=a, target=tmp_path / a.name)).target


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("projects")
    return {task: scaffold(root, task) for task in TASKS}


@pytest.mark.parametrize("task", TASKS)
def test_data_files_are_the_templates_includes(projects, task):
    """`{% include "samples/..." %}` finds lifecycle/templates/project/_includes/ (jinja_ext.INCLUDES)."""
    from lifecycle.scaffold.jinja_ext import INCLUDES
    from lifecycle.scaffold.template import template_dir

    samples, root = template_dir() / INCLUDES / "samples", projects[task]
    for rel, src in (("data/sample.jsonl", f"{task}.jsonl"), ("data/train.jsonl", f"train/{task}.jsonl"),
                     ("data/preferences/sample.jsonl", f"preferences/{task}.jsonl")):
        assert (root / rel).read_bytes() == (samples / src).read_bytes(), rel


@pytest.mark.parametrize("task", TASKS)
def test_project_validates_against_every_model(projects, task):
    root = projects[task]
    manifest = load_config(root / "lifecycle.yaml", Manifest)
    assert manifest.scope.task == Task(task)
    metric, target = DEFAULT_METRIC[Task(task)]
    assert (manifest.scope.success.metric, manifest.scope.success.target) == (metric, target)
    assert manifest.data.source == SPECS[Task(task)].dataset
    configs = {name: load_config(root / "configs" / f"{name}.yaml", model) for name, model in CONFIG_MODELS.items()}
    assert configs["eval"].task == task
    assert [m.name for m in configs["eval"].metrics if not m.function] == SUITES[task]
    assert [(t.metric, t.value) for t in configs["eval"].targets] == [(metric, target)]
    assert configs["model"].model == SPECS[Task(task)].default_model
    assert configs["prompt"].target_field in SAMPLE_FIELDS[task]


@pytest.mark.parametrize("task", TASKS)
def test_yaml_headers_point_at_schemas_and_name_their_command(projects, task):
    root = projects[task]
    for path in [root / "lifecycle.yaml", *sorted((root / "configs").glob("*.yaml"))]:
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# yaml-language-server: $schema="), path
        schema = (path.parent / lines[0].split("$schema=", 1)[1]).resolve()
        assert schema.is_file(), schema
        assert json.loads(schema.read_text())["title"]
        if path.parent.name == "configs":
            assert lines[1].startswith("# Used by: lifecycle "), path


@pytest.mark.parametrize("task", TASKS)
def test_sample_has_20_original_examples_with_the_task_fields(projects, task):
    lines = (projects[task] / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()
    examples = [json.loads(line) for line in lines]
    assert len(examples) >= 20
    assert all(set(e) == SAMPLE_FIELDS[task] for e in examples)
    assert all(all(isinstance(v, str) and v.strip() for v in e.values()) for e in examples)
    assert len({e["id"] for e in examples}) == len(examples)
    if task == "summarization":
        assert all(e["dialogue"].startswith("#Person1#: ") for e in examples)
    readme = (projects[task] / "data" / "README.md").read_text(encoding="utf-8")
    assert SPECS[Task(task)].dataset in readme


def test_tool_files(projects):
    root = projects["summarization"]
    record = yaml.safe_load((root / ".lifecycle" / "template.yaml").read_text())
    assert record["template"] == "project" and record["template_version"] == "4"
    assert record["answers"]["task"] == "summarization" and record["answers"]["name"] == "p-summarization"
    assert (root / ".lifecycle" / "README.md").is_file()
    assert (root / ".lifecycle" / "schemas" / "lifecycle.schema.json").is_file()
    assert (root / "runs" / ".gitkeep").is_file()
    assert (root / "src" / "p_summarization" / "prompts.py").is_file()
    assert "lifecycle status" in (root / "README.md").read_text()


def test_cpu_and_chosen_model(tmp_path):
    root = scaffold(tmp_path, "chat", device="cpu", model="/models/my-chat", adaptation="full")
    a = Answers(name="x", use_case="abc", task="chat", device="cpu", model="/models/my-chat")
    manifest = load_config(root / "lifecycle.yaml", Manifest)
    assert manifest.scope.hardware.gpu_memory_gib is None and manifest.scope.hardware.device.value == "cpu"
    assert manifest.selection.model is None  # chosen only through `new --model` / `select --apply`
    assert load_config(root / "configs" / "model.yaml", ModelConfig).model == a.model
    assert load_config(root / "configs" / "finetune.yaml", FinetuneConfig).method == "full"


@pytest.mark.parametrize("task", TASKS)
def test_generated_project_tests_pass(projects, task):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=projects[task],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_generated_tests_can_fail(projects, tmp_path):
    """The generated tests check something: a sample with a missing field makes them fail."""
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(projects["translation"], root)
    sample = root / "data" / "sample.jsonl"
    lines = sample.read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[3])
    del bad["target"]
    sample.write_text("\n".join(lines[:3] + [json.dumps(bad)] + lines[4:]) + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "sample.jsonl:4: field 'target' is missing" in proc.stdout


def test_plain_cookiecutter_renders_the_same_project(projects, tmp_path):
    """The template is a real cookiecutter template: its CLI gives the same files (minus our extras)."""
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    if not cookiecutter.exists():
        pytest.skip("cookiecutter console script not installed next to this python")
    from lifecycle.scaffold.template import template_dir

    (tmp_path / "home").mkdir()
    proc = subprocess.run([str(cookiecutter), str(template_dir()), "--no-input", "-o", str(tmp_path / "out"),
                           "name=p-summarization", "use_case=A summarization assistant for support tickets",
                           "task=summarization"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path / "home")})
    assert proc.returncode == 0, proc.stderr
    theirs, ours = tmp_path / "out" / "p-summarization", projects["summarization"]
    their_files = {str(p.relative_to(theirs)) for p in theirs.rglob("*") if p.is_file()}
    our_files = {str(p.relative_to(ours)) for p in ours.rglob("*") if p.is_file()}
    extras = {f for f in our_files if f.startswith(".lifecycle/schemas/") or f == ".lifecycle/template.yaml"}
    assert their_files == our_files - extras
    for rel in their_files:
        assert (theirs / rel).read_bytes() == (ours / rel).read_bytes(), rel


@pytest.mark.parametrize("task", TASKS)
def test_eval_config_is_what_eval_init_would_write(projects, task):
    """`lifecycle eval init --force` right after `new` changes nothing of substance."""
    from lifecycle.evaluation.eval_yaml import build_eval_config
    from lifecycle.project import Project

    from lifecycle.evaluation.eval_yaml import render_eval_config

    root = projects[task]
    cfg = build_eval_config(Project.find(root))
    assert cfg == load_config(root / "configs" / "eval.yaml", EvalConfig)
    # one renderer: the file `new` writes is byte for byte what `eval init --print` shows
    assert render_eval_config(cfg, preset="greedy") == (root / "configs" / "eval.yaml").read_text(encoding="utf-8")
    assert [m.function for m in cfg.metrics if m.function] == [f"p_{task}.metrics:relative_length"]
