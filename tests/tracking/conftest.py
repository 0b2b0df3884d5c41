"""Fixtures for tracking and run-housekeeping tests: the in-process CLI and eval runs as evidence."""

from __future__ import annotations

import pytest


@pytest.fixture
def add_eval_run():
    """add_eval_run(root, shots=0, value=0.3, ci=(lo, hi)) -> a complete eval Run laid out as
    lifecycle/evaluation/runner.py writes it (same eval key as `lifecycle eval run`)."""
    from lifecycle.evaluation.runner import prepare
    from lifecycle.project import Project
    from lifecycle.runs.store import RunStore

    def add(root, shots=0, value=0.3, ci=(0.25, 0.35), metric="rougeL", finish=True):
        project = Project(root)
        ctx = prepare(project)
        run = RunStore(project.runs_dir).create(
            "eval", config={"shots": shots}, model={"id": project.model_config().model},
            dataset=ctx.evalset.describe(), extra={"eval": {"eval_key": ctx.eval_key, "shots": shots}})
        run.write_metrics({"n": 8, "metrics": {metric: {"value": value, "ci": list(ci), "n": 8,
                                                        "higher_is_better": True, "aggregation": "mean"}}})
        if finish:
            run.finish()
        return run

    return add
