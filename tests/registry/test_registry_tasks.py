"""The task registry is the one home of per-task facts: everything that names a task derives from
`lifecycle.tasks` or is checked against it here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lifecycle.tasks import TASKS, Task, get_task, task_names

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "lifecycle" / "templates" / "project"
SAMPLES = TEMPLATE / "_includes" / "samples"
FIXTURES = REPO / "tests" / "fixtures"


def test_enum_and_defaults_derive_from_the_registry():
    from lifecycle.manifest import DEFAULT_METRIC
    from lifecycle.catalog.selection import ARCH_FOR_TASK
    from lifecycle.scaffold.tasks import TASKS as SCAFFOLD

    assert [t.value for t in Task] == task_names() == list(TASKS)
    assert {t.value: v for t, v in DEFAULT_METRIC.items()} == {
        n: (s.default_metric, s.default_target) for n, s in TASKS.items()}
    assert ARCH_FOR_TASK == {n: s.architectures for n, s in TASKS.items()}
    assert [t.value for t in SCAFFOLD] == task_names()


def test_template_choices_match_the_registry():
    cookie = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    prompts = yaml.safe_load((TEMPLATE / "prompts.yaml").read_text(encoding="utf-8"))
    assert cookie["task"] == task_names()
    assert prompts["task"]["choices"] == task_names()
    manifest = (TEMPLATE / "{{cookiecutter.project_slug}}" / "lifecycle.yaml").read_text(encoding="utf-8")
    listed = next(line for line in manifest.splitlines() if "classification" in line and "|" in line)
    assert [t.strip(" #.") for t in listed.split("|")] == task_names()


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_has_a_sample_and_a_fixture_with_its_fields(name):
    spec = TASKS[name]
    for folder in (SAMPLES, FIXTURES):
        rows = [json.loads(line) for line in (folder / spec.sample_file).read_text(encoding="utf-8").splitlines()
                if line.strip()]
        assert rows and all(tuple(r) == spec.fields for r in rows), folder


@pytest.mark.parametrize("name", list(TASKS))
def test_suite_metrics_are_registered_and_list_the_task(name):
    from lifecycle.evaluation.metrics.registry import GROUPS, METRICS, suite

    for m in suite(name):
        members = GROUPS.get(m.name, (m.name,))
        assert all(name in METRICS[x].tasks for x in members)
        assert {METRICS[x].higher_is_better for x in members} == {m.higher_is_better}


def test_length_has_one_direction_everywhere(cli, tmp_path):
    """configs/eval.yaml (new and eval init) says what `lifecycle eval metrics` says: no direction."""
    from lifecycle.evaluation.eval_yaml import build_eval_config, render_eval_config
    from lifecycle.project import Project

    code, out, _ = cli("eval", "metrics", "--task", "chat")
    assert code == 0
    shown = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:] if not line.startswith("groups")}
    assert shown["pred_words"] == shown["length_ratio"] == "-" and shown["rougeL"] == "higher"
    code, _, err = cli("new", "chatty", "--no-input", "--task", "chat", "--output-dir", tmp_path)
    assert code == 0, err
    written = yaml.safe_load((tmp_path / "chatty" / "configs" / "eval.yaml").read_text(encoding="utf-8"))
    directions = {m["name"]: m["higher_is_better"] for m in written["metrics"]}
    assert directions == {"rougeL": True, "length": None, "relative_length": None}  # the last: the project's own
    rendered = yaml.safe_load(render_eval_config(build_eval_config(Project(tmp_path / "chatty"))))
    assert {m["name"]: m["higher_is_better"] for m in rendered["metrics"]} == directions


@pytest.mark.parametrize("argv", [
    ("eval", "metrics", "--task", "summarisation"),
    ("models", "ls", "--task", "summarisation"),
])
def test_a_task_typo_is_a_usage_error_with_did_you_mean(cli, argv):
    code, _, err = cli(*argv)
    assert code == 2 and "did you mean 'summarization'" in err and "'--task'" in err


@pytest.mark.parametrize("argv", [("new", "--help"), ("models", "ls", "--help"), ("eval", "metrics", "--help")])
def test_task_help_lists_every_registered_task(cli, argv):
    code, out, _ = cli(*argv)
    flat = " ".join(out.split())
    assert code == 0 and all(name in flat for name in task_names())


def test_unknown_task_names_the_registry():
    from lifecycle.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'translation'"):
        get_task("translaton")


def test_register_task_refuses_an_inconsistent_entry():
    from dataclasses import replace

    from lifecycle.tasks import register_task

    base = TASKS["summarization"]
    with pytest.raises(ValueError, match="registered twice"):
        register_task(base)
    with pytest.raises(ValueError, match="not in its suite"):
        register_task(replace(base, name="x1", default_metric="accuracy"))
    with pytest.raises(ValueError, match="not among its fields"):
        register_task(replace(base, name="x2", reference_field="gold"))
    assert "x1" not in TASKS and "x2" not in TASKS
