"""Scores with confidence intervals, in the metrics.json format every other command reads:

    {"n": N, "metrics": {name: {"value", "ci": [lo, hi], "n", "higher_is_better", "aggregation"}},
     "confidence": 0.95, "bootstrap_samples": 1000, "seed": 42}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lifecycle.evaluation.registry import compute_metrics, expand_names, get_metric
from lifecycle.evaluation.scorers import Scores
from lifecycle.evaluation.stats import bootstrap_ci


@dataclass
class StatsSettings:
    samples: int = 1000
    confidence: float = 0.95
    seed: int = 42


def metric_requests(specs) -> list[tuple[str, dict]]:
    """configs/eval.yaml `metrics:` entries (MetricSpec or dicts) -> [(name, args)] with groups expanded."""
    from lifecycle.errors import ConfigError

    out = []
    for spec in specs:
        name = spec.name if hasattr(spec, "name") else spec["name"]
        args = spec.args if hasattr(spec, "args") else spec.get("args", {})
        stated = spec.higher_is_better if hasattr(spec, "higher_is_better") else spec.get("higher_is_better")
        for m in expand_names([name]):
            known = get_metric(m).higher_is_better
            # the registry decides the direction; a config that says otherwise is a mistake, not an override
            if stated is not None and known is not None and bool(stated) != known:
                raise ConfigError(f"configs/eval.yaml: metrics: {name}: higher_is_better: {str(stated).lower()} "
                                  f"contradicts the metric ({m}: {'higher' if known else 'lower'} is better)",
                                  hint="remove the line or fix it (`lifecycle eval metrics` shows directions)")
            out.append((m, dict(args or {})))
    return out


def score(predictions: Sequence[str], references: Sequence[Sequence[str]], requests: list[tuple[str, dict]],
          settings: StatsSettings | None = None) -> tuple[dict[str, Scores], dict]:
    """(Scores per metric, the metrics.json document)."""
    settings = settings or StatsSettings()
    scores = compute_metrics(requests, predictions, references)
    doc = {"n": len(predictions), "metrics": {}, "confidence": settings.confidence,
           "bootstrap_samples": settings.samples, "seed": settings.seed, "ci_method": "percentile bootstrap"}
    for name, s in scores.items():
        lo, hi = bootstrap_ci(s, samples=settings.samples, confidence=settings.confidence, seed=settings.seed)
        info = get_metric(name)
        doc["metrics"][name] = {"value": s.value, "ci": [lo, hi], "n": len(s.per_example),
                                "higher_is_better": info.higher_is_better, "aggregation": info.aggregation}
    return scores, doc


def per_example_rows(ids: Sequence[str], scores: dict[str, Scores]) -> list[dict]:
    """One row per example with every metric's per-example score (scores.jsonl)."""
    names = list(scores)
    return [{"id": i, **{n: float(scores[n].per_example[k]) for n in names}} for k, i in enumerate(ids)]
