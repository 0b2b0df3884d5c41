"""lifecycle.yaml: the pydantic model accepts what projects write and rejects mistakes with lines."""

from __future__ import annotations

import pytest

from lifecycle.config.yaml_io import dump_yaml
from lifecycle.errors import ConfigError
from lifecycle.manifest import DEFAULT_METRIC, Manifest, Task, load_manifest


def _manifest(**scope_overrides) -> dict:
    scope = {"use_case": "Summarize support chats for agents.", "task": "summarization",
             "success": {"metric": "rougeL", "target": 0.3}}
    scope.update(scope_overrides)
    return {"schema_version": 1, "project": {"name": "demo", "package": "demo"}, "scope": scope}


def test_minimal_manifest_gets_defaults(tmp_path):
    p = tmp_path / "lifecycle.yaml"
    p.write_text(dump_yaml(_manifest()), encoding="utf-8")
    m = load_manifest(p)
    assert m.scope.task is Task.summarization
    assert m.scope.hardware.device.value == "gpu" and m.scope.hardware.gpu_memory_gib == 24.0
    assert m.adaptation.prompt == "configs/prompt.yaml" and m.evaluation.config == "configs/eval.yaml"
    assert m.selection.model is None


@pytest.mark.parametrize("task", list(Task))
def test_every_task_has_a_default_metric(task):
    metric, target = DEFAULT_METRIC[task]
    m = Manifest.model_validate(_manifest(task=task.value, success={"metric": metric, "target": target}))
    assert m.scope.success.metric == metric


@pytest.mark.parametrize("name", ["../evil", "/abs", "{{ 7*7 }}", "", "ü", "a b", "x" * 65])
def test_bad_project_names_are_rejected(name):
    data = _manifest()
    data["project"]["name"] = name
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as exc:
        Manifest.model_validate(data)
    assert [e["loc"] for e in exc.value.errors()] == [("project", "name")]


def test_gpu_without_memory_is_rejected():
    with pytest.raises(Exception, match="gpu_memory_gib is required"):
        Manifest.model_validate(_manifest(hardware={"device": "gpu", "gpu_memory_gib": None}))


def test_errors_are_located_and_all_reported(tmp_path):
    p = tmp_path / "lifecycle.yaml"
    p.write_text(
        "schema_version: 1\n"
        "project:\n  name: demo\n  package: demo\n"
        "scope:\n"
        "  use_case: Summarize chats.\n"
        "  task: summarisation\n"              # line 7: wrong enum value
        "  multi_task: maybe\n"                # line 8: wrong type
        "  success:\n    metric: rougeL\n    target: high\n"   # line 11
        "  colour: blue\n",                    # line 12: unknown key
        encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_manifest(p)
    problems = exc.value.problems
    assert len(problems) == 4, problems
    assert any(q.startswith(f"{p}:7: scope.task:") for q in problems)
    assert any(q.startswith(f"{p}:8: scope.multi_task:") for q in problems)
    assert any(q.startswith(f"{p}:11: scope.success.target:") for q in problems)
    assert f"{p}:12: scope.colour: unknown key (remove it or check its spelling)" in problems


def test_unsupported_schema_version(tmp_path):
    data = _manifest()
    data["schema_version"] = 2
    p = tmp_path / "lifecycle.yaml"
    p.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lifecycle.yaml:1: schema_version: .*supports schema_version 1"):
        load_manifest(p)
