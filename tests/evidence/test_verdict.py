"""One verdict for `eval compare`, `finetune` and the adapt checks: never "better" with an interval
that crosses 0 or a p-value >= 0.05, and the same words everywhere."""

from __future__ import annotations

import pytest

from lifecycle.evaluation.statistics.verdict import paired_verdict


@pytest.mark.parametrize("diff,ci,p,hib,status", [
    (0.0011, (-0.0046, 0.0067), 0.24, True, "no_difference"),   # the "beats the baseline" case
    (0.02, (0.01, 0.03), 0.001, True, "better"),
    (0.02, (0.01, 0.03), 0.2, True, "no_difference"),           # CI and p disagree: not significant
    (0.02, (-0.01, 0.03), 0.01, True, "no_difference"),
    (-0.02, (-0.03, -0.01), 0.001, True, "worse"),
    (-0.02, (-0.03, -0.01), 0.001, False, "better"),           # lower is better
    (1.5, (0.5, 2.5), 0.001, None, "higher"),                  # descriptive metric
])
def test_verdicts(diff, ci, p, hib, status):
    v = paired_verdict(diff, ci, p, hib)
    assert v.status == status
    assert v.better == (status == "better")
    text = v.sentence("fine-tuning", "the baseline")
    assert ("beats" in text) == (status == "better")
    if ci[0] <= 0 <= ci[1]:
        assert "crosses 0" in text and "does not significantly differ" in text


def test_compare_and_check_use_the_same_verdict(make_project, add_eval_run):
    """A comparison.json with a CI crossing 0: the check fails and says why, as compare would."""
    import json

    from lifecycle.checks import run_checks
    from lifecycle.evaluation.statistics.bootstrap import PairedResult
    from lifecycle.runs.store import RunStore

    root = make_project(adaptation="full")
    base = add_eval_run(root, shots=0, value=0.3)
    tuned = add_eval_run(root, shots=0, value=0.301, finetune_run="x", model={"id": "m", "adapter": "a"})
    ft = RunStore(root / "runs").create("finetune", config={"method": "lora"})
    m = {"baseline": 0.3, "finetuned": 0.3011, "difference": 0.0011, "ci": [-0.0046, 0.0067], "p_value": 0.24}
    (ft.path / "comparison.json").write_text(json.dumps({"baseline_run": base.id, "finetuned_run": tuned.id,
                                                         "metrics": {"rougeL": m}}))
    ft.finish(evaluation={"eval_run": tuned.id, "baseline_run": base.id})
    res = {r.id: r for r in run_checks(root, "adapt")}["adapt.finetune_beats_baseline"]
    assert res.status == "fail" and "does not significantly differ" in res.message and "beats" not in res.message
    compare = PairedResult("rougeL", 0.3, 0.3011, 0.0011, (-0.0046, 0.0067), 0.24, 8, True, "paired")
    assert compare.verdict == "no significant difference"
