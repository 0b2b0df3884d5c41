"""Targets from the scope (lifecycle.yaml `scope.success`) and configs/eval.yaml `targets:`.

A target is met only when the confidence bound on the wrong side clears it: the lower bound for a
higher-is-better metric, the upper bound otherwise. The mean alone is not evidence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Target:
    metric: str
    value: float
    higher_is_better: bool
    source: str  # "scope" or "eval.yaml"


@dataclass
class TargetResult:
    target: Target
    run_id: str | None
    value: float | None
    bound: float | None
    met: bool
    reason: str

    def as_dict(self) -> dict:
        return {"metric": self.target.metric, "target": self.target.value,
                "higher_is_better": self.target.higher_is_better, "source": self.target.source,
                "run": self.run_id, "value": self.value, "bound": self.bound, "met": self.met, "reason": self.reason}


def project_targets(project, cfg) -> list[Target]:
    out: list[Target] = []
    success = project.manifest.scope.success
    out.append(Target(success.metric, success.target, success.higher_is_better, "scope"))
    for t in cfg.targets:
        if not any(o.metric == t.metric and o.value == t.value for o in out):
            out.append(Target(t.metric, t.value, t.higher_is_better, "eval.yaml"))
    return out


def check_target(target: Target, metrics_doc: dict, run_id: str | None) -> TargetResult:
    m = (metrics_doc or {}).get("metrics", {}).get(target.metric)
    if m is None:
        return TargetResult(target, run_id, None, None, False,
                            f"{target.metric} was not computed (add it to metrics: in configs/eval.yaml)")
    lo, hi = m["ci"]
    bound = lo if target.higher_is_better else hi
    met = bound >= target.value if target.higher_is_better else bound <= target.value
    side = "lower" if target.higher_is_better else "upper"
    cmp = ">=" if target.higher_is_better else "<="
    reason = (f"{target.metric} = {m['value']:.4g}, {side} 95% bound {bound:.4g} "
              f"{cmp if met else 'misses'} target {target.value:g}")
    return TargetResult(target, run_id, m["value"], bound, met, reason)


def best_for(target: Target, runs: list[tuple[str, dict]]) -> TargetResult:
    """The result of the run whose bound is best for this target (runs: [(run_id, metrics_doc)])."""
    results = [check_target(target, doc, rid) for rid, doc in runs]
    scored = [r for r in results if r.bound is not None]
    if not scored:
        return results[0] if results else TargetResult(target, None, None, None, False, "no eval runs")
    key = (lambda r: r.bound) if target.higher_is_better else (lambda r: -r.bound)
    return max(scored, key=key)
