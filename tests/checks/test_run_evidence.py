"""Adapt-stage checks read real run folders: todo until runs exist, then the run they used."""

from __future__ import annotations

from lifecycle.checks import run_checks


def _adapt(root) -> dict:
    return {r.id: r for r in run_checks(root, "adapt")}


def test_no_runs_yet_is_todo(make_project):
    res = _adapt(make_project())
    for check in ("adapt.baseline", "adapt.icl_ladder", "adapt.target_met"):
        assert res[check].status == "todo" and res[check].message.startswith("no run yet")
    assert res["adapt.finetune_beats_baseline"].status == "pass"  # prompting only: not required
    assert "not required" in res["adapt.finetune_beats_baseline"].message


def test_baseline_ladder_and_target_by_lower_bound(make_project, add_eval_run):
    root = make_project()
    zero = add_eval_run(root, shots=0, value=0.32, ci=(0.26, 0.38))
    add_eval_run(root, shots=1, value=0.9, ci=(0.85, 0.95), status="running")  # unfinished: not evidence
    res = _adapt(root)
    assert res["adapt.baseline"].status == "pass" and zero.id in res["adapt.baseline"].message
    assert res["adapt.baseline"].evidence["run"] == zero.id
    assert res["adapt.icl_ladder"].status == "todo" and "missing one-shot, few-shot" in res["adapt.icl_ladder"].message
    # value 0.32 is above the 0.30 target but its lower bound 0.26 is not
    t = res["adapt.target_met"]
    assert t.status == "fail" and t.evidence["run"] == zero.id and "bound 0.26 is not >= 0.3" in t.message

    one = add_eval_run(root, shots=1, value=0.35, ci=(0.29, 0.41))
    three = add_eval_run(root, shots=3, value=0.36, ci=(0.31, 0.41))
    res = _adapt(root)
    ladder = res["adapt.icl_ladder"]
    assert ladder.status == "pass" and ladder.evidence["runs"] == {"0": zero.id, "1": one.id, "3": three.id}
    assert ladder.message == "rougeL: 0-shot 0.32, 1-shot 0.35, 3-shot 0.36"
    t = res["adapt.target_met"]
    assert t.status == "pass" and t.evidence["run"] == three.id and t.evidence["ci"] == [0.31, 0.41]


def test_runs_on_other_data_or_other_model_do_not_count(make_project, add_eval_run):
    root = make_project()
    add_eval_run(root, shots=0)
    sample = root / "data" / "sample.jsonl"
    sample.write_text(sample.read_text(encoding="utf-8") + sample.read_text(encoding="utf-8").splitlines()[0]
                      .replace('"id": "', '"id": "new-') + "\n", encoding="utf-8")
    res = _adapt(root)
    assert res["adapt.baseline"].status == "todo"  # the eval set changed: the old run is stale
    add_eval_run(root, shots=0)
    assert _adapt(root)["adapt.baseline"].status == "pass"
    text = (root / "configs" / "model.yaml").read_text(encoding="utf-8")
    (root / "configs" / "model.yaml").write_text(text.replace("google/flan-t5-base", "google/flan-t5-large"))
    text = (root / "lifecycle.yaml").read_text(encoding="utf-8")
    (root / "lifecycle.yaml").write_text(text.replace("google/flan-t5-base", "google/flan-t5-large"))
    res = _adapt(root)
    assert res["adapt.baseline"].status == "todo" and "none a greedy zero-shot run of google/flan-t5-large" in \
        res["adapt.baseline"].message


def test_run_without_interval_cannot_meet_the_target(make_project, add_eval_run):
    root = make_project()
    run = add_eval_run(root, shots=0, value=0.9, ci=None)
    t = _adapt(root)["adapt.target_met"]
    assert t.status == "fail" and "no confidence interval" in t.message and t.evidence["run"] == run.id


def test_finetune_must_beat_the_prompting_baseline(make_project, add_eval_run):
    from lifecycle.runs.store import RunStore

    root = make_project(adaptation="peft")
    res = _adapt(root)["adapt.finetune_beats_baseline"]
    assert res.status == "todo" and "no complete fine-tuning run" in res.message
    ft = RunStore(root / "runs").create("finetune", config={"method": "lora"})
    ft.finish()
    res = _adapt(root)["adapt.finetune_beats_baseline"]
    assert res.status == "todo" and ft.id in res.message and "has not been evaluated" in res.message
    base = add_eval_run(root, shots=3, value=0.33, ci=(0.3, 0.36))
    tuned = add_eval_run(root, shots=0, value=0.31, ci=(0.28, 0.34), finetune_run=ft.id)
    res = _adapt(root)["adapt.finetune_beats_baseline"]
    assert res.status == "fail" and res.evidence["finetuned_run"] == tuned.id
    assert res.evidence["baseline_run"] == base.id
    better = add_eval_run(root, shots=0, value=0.41, ci=(0.37, 0.45), finetune_run=ft.id)
    res = _adapt(root)["adapt.finetune_beats_baseline"]
    assert res.status == "pass" and res.evidence["finetuned_run"] == better.id
    # the fine-tuned run is not the zero-shot baseline of the base model
    assert _adapt(root)["adapt.baseline"].status == "todo"


def _finetune_with_comparison(root, eval_run, baseline_run, diff, ci):
    """A finetune run laid out as lifecycle/finetune/evaluation.py leaves it after evaluating."""
    import json

    from lifecycle.runs.store import RunStore

    ft = RunStore(root / "runs").create("finetune", config={"method": "lora"})
    comp = {"baseline_run": baseline_run.id, "finetuned_run": eval_run.id, "n": 8, "success_metric": "rougeL",
            "metrics": {"rougeL": {"baseline": 0.3, "finetuned": 0.3 + diff, "difference": diff, "ci": list(ci)}}}
    (ft.path / "comparison.json").write_text(json.dumps(comp), encoding="utf-8")
    ft.finish(evaluation={"eval_run": eval_run.id, "baseline_run": baseline_run.id})
    return ft


def test_paired_comparison_from_finetune_is_preferred(make_project, add_eval_run):
    root = make_project(adaptation="full")
    base = add_eval_run(root, shots=0, value=0.3)
    tuned = add_eval_run(root, shots=0, value=0.34, finetune_run="x", model={"id": "m", "adapter": "a"})
    ft = _finetune_with_comparison(root, tuned, base, 0.04, (-0.01, 0.09))
    res = _adapt(root)["adapt.finetune_beats_baseline"]
    assert res.status == "fail" and "(not significant)" in res.message and res.evidence["finetune_run"] == ft.id
    ft2 = _finetune_with_comparison(root, tuned, base, 0.04, (0.01, 0.07))
    res = _adapt(root)["adapt.finetune_beats_baseline"]
    assert res.status == "pass" and res.evidence["finetune_run"] == ft2.id
    assert "paired 95% CI +0.01..+0.07" in res.message


def test_prompt_wording_change_makes_runs_stale(make_project, add_eval_run):
    root = make_project()
    add_eval_run(root, shots=0)
    assert _adapt(root)["adapt.baseline"].status == "pass"
    prompt = root / "configs" / "prompt.yaml"
    prompt.write_text(prompt.read_text(encoding="utf-8").replace("k: 0", "k: 2"), encoding="utf-8")
    assert _adapt(root)["adapt.baseline"].status == "pass"  # shots are not part of the eval set
    prompt.write_text(prompt.read_text(encoding="utf-8").replace("Summarize", "Summarise"), encoding="utf-8")
    assert _adapt(root)["adapt.baseline"].status == "todo"


def test_broken_eval_data_blocks_instead_of_failing_everywhere(make_project):
    root = make_project()
    (root / "data" / "sample.jsonl").write_text('{"id": "1", "dialogue": "x"}\n', encoding="utf-8")
    res = {r.id: r for r in run_checks(root)}
    assert res["scope.data_sample"].status == "fail"
    assert res["adapt.baseline"].status == "todo" and res["adapt.baseline"].message.startswith("blocked:")
