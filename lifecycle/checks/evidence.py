"""Reading eval runs as evidence: which runs measure the current eval set, their metric values
and confidence bounds.

Contract with `lifecycle eval run` (lifecycle/evaluation/runner.py), run.yaml of kind "eval":
`eval.eval_key` (hash of eval set, references and prompt wording; shots left out), `eval.shots`,
`model.id`; a fine-tuned model's eval run names `finetune_run` / `model.adapter`
(lifecycle/finetune/evaluation.py). metrics.json as in runs/store.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.evaluation.roles import shots_of  # noqa: F401  (part of this module's API)


@dataclass
class MetricEvidence:
    run: Any            # runs.store.Run
    metric: str
    value: float
    ci: tuple[float, float] | None
    higher_is_better: bool

    @property
    def bound(self) -> float | None:
        """The conservative end of the interval: lower bound when higher is better."""
        if self.ci is None:
            return None
        return self.ci[0] if self.higher_is_better else self.ci[1]

    def meets(self, target: float) -> bool:
        b = self.bound
        return b is not None and (b >= target if self.higher_is_better else b <= target)

    def describe(self) -> str:
        ci = f" (95% CI {self.ci[0]:.4g}..{self.ci[1]:.4g})" if self.ci else " (no confidence interval)"
        return f"{self.metric} {self.value:.4g}{ci} in run {self.run.id}"


def current_eval_key(ctx) -> str:
    """The eval key runs on the current eval config carry (the evaluation package's definition)."""
    from lifecycle.evaluation.evalset import project_eval_set
    from lifecycle.project import Project

    from lifecycle.checks.registry import Blocked
    from lifecycle.errors import DataError

    ctx.manifest  # blocked while lifecycle.yaml is invalid: scope.manifest_valid says why, once
    try:
        evalset = project_eval_set(Project(ctx.root), ctx.eval_config)
    except DataError as err:  # scope.data_sample / validate own this problem; say it once there
        raise Blocked(f"the eval set does not load: {str(err).splitlines()[0]}", err.hint or
                      "fix the eval data (configs/eval.yaml dataset.path)") from err
    prompt_file = ctx.validation.get("prompt")
    prompt = ctx.prompt_config.model_dump(mode="json") if prompt_file and prompt_file.path.is_file() else None
    return evalset.eval_key(prompt)


def _eval_meta(run) -> dict:
    ev = run.meta.get("eval")
    return ev if isinstance(ev, dict) else {}


def eval_key_of(run) -> str | None:
    return _eval_meta(run).get("eval_key") or run.meta.get("eval_key")


def matching_eval_runs(ctx) -> tuple[list, str]:
    """Complete eval runs on the current eval set (oldest first), and the key they share."""
    key = current_eval_key(ctx)
    return [r for r in ctx.runs("eval") if eval_key_of(r) == key], key


def model_of(run) -> str | None:
    model = run.meta.get("model")
    return str(model.get("id")) if isinstance(model, dict) and model.get("id") else None


def same_model(ctx, recorded: str | None, configured: str) -> bool:
    """A run's model id against configs/model.yaml; a local folder may be recorded resolved."""
    if recorded is None or recorded == configured:
        return True
    local = ctx.path(configured)
    return local.is_dir() and Path(recorded).expanduser().resolve() == local.resolve()


def metric_of(run, metric: str) -> MetricEvidence | None:
    data = run.metrics() or {}
    entry = (data.get("metrics") or {}).get(metric) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), (int, float)):
        return None
    ci = entry.get("ci")
    ci = (float(ci[0]), float(ci[1])) if isinstance(ci, (list, tuple)) and len(ci) == 2 else None
    return MetricEvidence(run, metric, float(entry["value"]), ci, bool(entry.get("higher_is_better", True)))


def best(evidence: list[MetricEvidence]) -> MetricEvidence | None:
    """The run with the best conservative bound (runs without an interval rank last)."""
    with_ci = [e for e in evidence if e.bound is not None]
    pool = with_ci or evidence
    if not pool:
        return None
    hib = pool[0].higher_is_better
    key = (lambda e: e.bound) if with_ci else (lambda e: e.value)
    return max(pool, key=key) if hib else min(pool, key=key)
