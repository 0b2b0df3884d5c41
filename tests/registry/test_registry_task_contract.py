"""The contract every registered task keeps: `lifecycle new --no-input --task T` scaffolds a
project that validates, renders a prompt and scores a prediction file. Adding a task to
`lifecycle.tasks` puts it under this test without editing it."""

from __future__ import annotations

import json

import pytest

from lifecycle.tasks import TASKS


@pytest.mark.parametrize("name", list(TASKS))
def test_task_scaffolds_validates_renders_and_scores(name, cli, tmp_path, tiny_t5, tiny_gpt2):
    from lifecycle.evaluation.metrics.registry import compute_metrics, expand_names

    spec = TASKS[name]
    model = tiny_t5 if "encoder-decoder" in spec.architectures else tiny_gpt2  # one that can do the task
    code, _, err = cli("new", "proj", "--no-input", "--task", name, "--model", model, "--output-dir", tmp_path)
    assert code == 0, err
    root = tmp_path / "proj"

    code, out, err = cli("validate", "--project", root)
    assert code == 0 and "valid:" in out, err

    rows = [json.loads(line) for line in (root / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    assert rows and all(tuple(r) == spec.fields for r in rows)
    # fine-tuning trains on held-out examples by default: none of them is in the eval set
    from lifecycle.config.finetune import FinetuneConfig
    from lifecycle.finetune.overlap import project_overlap
    from lifecycle.project import Project

    train_path = Project(root).finetune_config().data.train
    assert train_path == FinetuneConfig().data.train == "data/train.jsonl"
    train = [json.loads(line) for line in (root / train_path).read_text(encoding="utf-8").splitlines()]
    assert len(train) >= 20 and all(tuple(r) == spec.fields for r in train)
    overlap = project_overlap(Project(root), train_path)
    assert overlap["overlap"] == 0 and overlap["train_n"] == len(train) and overlap["eval_n"] == len(rows)
    # the arithmetic set `lifecycle tools eval` reads is the generator's, at the CLI's defaults
    from lifecycle.tools.arithmetic import arithmetic_jsonl

    assert (root / "data" / "tools" / "arith.jsonl").read_text(encoding="utf-8") == arithmetic_jsonl(50, seed=0)
    code, out, err = cli("prompt", "render", "--project", root, "--json")
    assert code == 0, err
    prompt = json.loads(out)["text"]
    assert all(str(rows[0][f]) in prompt for f in spec.input_fields)  # the template read the task's fields

    # predictions equal to the references: each metric must give what the registry computes directly
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": r["id"], "prediction": r[spec.reference_field]}) + "\n"
                             for r in rows), encoding="utf-8")
    code, out, err = cli("eval", "run", "--project", root, "--predictions", preds, "--json", "--no-report")
    assert code == 0, err
    metrics = json.loads(out)["runs"][0]["metrics"]
    suite = expand_names(spec.metric_names)
    assert [m for m in metrics if m in suite] == suite  # the whole suite, in order (the runner may add more)
    refs = [r[spec.reference_field] for r in rows]
    expected = compute_metrics(spec.metric_names, refs, refs)
    assert {k: metrics[k]["value"] for k in suite} == pytest.approx({k: s.value for k, s in expected.items()})
    assert metrics[spec.default_metric]["value"] >= spec.default_target  # perfect predictions meet the target
