"""Fixtures for the evidence tests: eval runs laid out as lifecycle/evaluation/runner.py writes them."""

from __future__ import annotations

import pytest


@pytest.fixture
def add_eval_run():
    """add_eval_run(root, shots=0, value=0.3, ci=(lo, hi), metric="rougeL", **meta) -> a complete Run whose
    examples all got their K (run.yaml `budget`)."""
    from lifecycle.evaluation.runner import prepare
    from lifecycle.project import Project
    from lifecycle.runs.store import RunStore

    def add(root, shots=0, value=0.3, ci=(0.25, 0.35), metric="rougeL", **meta):
        project = Project(root)
        ctx = prepare(project)
        budget = {"k_asked": shots, "n": 8, "k_mean_used": float(shots), "full_k": 8, "truncated": 0}
        run = RunStore(project.runs_dir).create(
            "eval", config={"shots": shots}, model={"id": project.model_config().model},
            dataset=ctx.evalset.describe(),
            extra={"eval": {"eval_key": ctx.eval_key, "shots": shots}, "budget": budget, **meta})
        run.write_metrics({"n": 8, "metrics": {metric: {"value": value, "ci": list(ci), "n": 8,
                                                        "higher_is_better": True, "aggregation": "mean"}}})
        run.finish()
        return run

    return add
