"""`lifecycle eval init`: a valid eval config per task, derived from the project, never clobbering."""

from __future__ import annotations

import pytest

from lifecycle.config.eval import EvalConfig
from lifecycle.config.yaml_io import load_config
from lifecycle.manifest import Manifest

SUITES = {
    "summarization": ["rouge1", "rouge2", "rougeL", "rougeLsum", "length"],
    "classification": ["accuracy", "macro_f1"],
    "question_answering": ["exact_match", "token_f1"],
    "translation": ["sacrebleu", "chrf"],
    "chat": ["rougeL", "length"],
}
INPUTS = {"summarization": (["dialogue"], "summary"), "classification": (["text"], "label"),
          "question_answering": (["context", "question"], "answer"), "translation": (["source"], "target"),
          "chat": (["instruction"], "response")}


@pytest.mark.parametrize("task", list(SUITES))
def test_writes_the_task_suite(task, make_project, cli):
    root = make_project(task)
    (root / "configs" / "eval.yaml").unlink()
    code, out, err = cli("eval", "init", "--project", root)
    assert code == 0, err
    assert out.startswith(f"wrote configs/eval.yaml: task {task}, shots [0, 1, 3]")
    path = root / "configs" / "eval.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../.lifecycle/schemas/eval.schema.json"
    assert any(line.startswith("# Run it: lifecycle eval run --shots 0,1,3") for line in lines[:4])
    cfg = load_config(path, EvalConfig)
    assert cfg.task == task and cfg.shots == [0, 1, 3]
    assert [m.name for m in cfg.metrics] == SUITES[task]
    # directions are the metric registry's: length is descriptive (null), as `lifecycle eval metrics` shows
    assert all(m.higher_is_better == (None if m.name == "length" else True) for m in cfg.metrics)
    assert (cfg.dataset.input_fields, cfg.dataset.reference_field) == INPUTS[task]
    assert cfg.dataset.path == "data/sample.jsonl" and cfg.dataset.id_field == "id"
    success = load_config(root / "lifecycle.yaml", Manifest).scope.success
    assert [(t.metric, t.value, t.higher_is_better) for t in cfg.targets] == [
        (success.metric, success.target, success.higher_is_better)]
    code, _, _ = cli("validate", "--project", root)
    assert code == 0


def test_refuses_to_overwrite_without_force(make_project, cli):
    root = make_project()
    path = root / "configs" / "eval.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# my notes\n", encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    code, out, err = cli("eval", "init", "--project", root)
    assert code == 2 and "already exists" in err and "--force" in err
    assert path.read_text(encoding="utf-8") == before
    code, out, _ = cli("eval", "init", "--force", "--project", root)
    assert code == 0 and out.startswith("replaced configs/eval.yaml")
    assert "# my notes" not in path.read_text(encoding="utf-8")


def test_custom_success_metric_and_prompt_fields(make_project, cli):
    root = make_project()
    (root / "configs" / "eval.yaml").unlink()
    manifest = root / "lifecycle.yaml"
    manifest.write_text(manifest.read_text().replace("metric: rougeL", "metric: chrf"), encoding="utf-8")
    prompt = root / "configs" / "prompt.yaml"
    prompt.write_text(prompt.read_text().replace("{dialogue}", "{dialogue} (topic: {id})"), encoding="utf-8")
    code, _, err = cli("eval", "init", "--project", root)
    assert code == 0, err
    cfg = load_config(root / "configs" / "eval.yaml", EvalConfig)
    assert cfg.metrics[0].name == "chrf" and cfg.targets[0].metric == "chrf"
    assert cfg.dataset.input_fields == ["dialogue", "id"]


def test_data_that_lacks_the_prompt_fields_is_refused(make_project, cli):
    root = make_project()
    (root / "configs" / "eval.yaml").unlink()
    prompt = root / "configs" / "prompt.yaml"
    prompt.write_text(prompt.read_text().replace("{dialogue}", "{conversation}"), encoding="utf-8")
    code, _, err = cli("eval", "init", "--project", root)
    assert code == 1 and "lacks conversation" in err
    assert not (root / "configs" / "eval.yaml").exists()


def test_print_writes_nothing(make_project, cli):
    root = make_project()
    (root / "configs" / "eval.yaml").unlink()
    code, out, _ = cli("eval", "init", "--print", "--project", root)
    assert code == 0 and out.startswith("# yaml-language-server:") and "metrics:" in out
    assert not (root / "configs" / "eval.yaml").exists()


def test_unknown_success_metric_is_refused(make_project, cli):
    root = make_project()
    (root / "configs" / "eval.yaml").unlink()
    manifest = root / "lifecycle.yaml"
    manifest.write_text(manifest.read_text().replace("metric: rougeL", "metric: rouge_l"), encoding="utf-8")
    code, _, err = cli("eval", "init", "--project", root)
    assert code == 1 and "unknown metric 'rouge_l'" in err and "did you mean" in err
    assert not (root / "configs" / "eval.yaml").exists()
