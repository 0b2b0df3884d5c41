"""Helpers for checklist tests: run the CLI in-process (fast) and write run folders as evidence."""

from __future__ import annotations

import pytest


@pytest.fixture
def add_eval_run():
    """add_eval_run(root, shots=0, value=0.3, ci=(lo, hi), metric="rougeL", **meta) -> Run, complete; run.yaml
    laid out as lifecycle/evaluation/runner.py writes it."""
    from lifecycle.evaluation.runner import prepare
    from lifecycle.project import Project
    from lifecycle.runs.store import RunStore

    def add(root, shots=0, value=0.3, ci=(0.25, 0.35), metric="rougeL", status="complete", **meta):
        project = Project(root)
        ctx = prepare(project)  # the eval key exactly as `lifecycle eval run` computes it
        run = RunStore(project.runs_dir).create(
            "eval", config={"shots": shots}, model={"id": project.model_config().model},
            dataset=ctx.evalset.describe(), extra={"eval": {"eval_key": ctx.eval_key, "shots": shots},
                                                   "budget": {"k_asked": shots, "n": 8, "k_mean_used": float(shots or 0),
                                                              "full_k": 8, "truncated": 0}, **meta})
        run.write_metrics({"n": 8, "metrics": {metric: {"value": value, "ci": list(ci) if ci else None, "n": 8,
                                                        "higher_is_better": True, "aggregation": "mean"}}})
        if status == "complete":
            run.finish()
        return run

    return add
