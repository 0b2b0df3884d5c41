"""Scores with confidence intervals, in the metrics.json format every other command reads:

    {"n": N, "metrics": {name: {"value", "ci": [lo, hi], "n", "higher_is_better", "aggregation"}},
     "confidence": 0.95, "bootstrap_samples": 1000, "seed": 42}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from lifecycle.evaluation.metrics.registry import compute_metrics, get_metric
from lifecycle.evaluation.metrics.scorers import Scores
from lifecycle.evaluation.statistics.bootstrap import bootstrap_ci


@dataclass
class StatsSettings:
    samples: int = 1000
    confidence: float = 0.95
    seed: int = 42


def score(predictions: Sequence[str], references: Sequence[Sequence[str]], requests: list[tuple[str, dict]],
          settings: StatsSettings | None = None) -> tuple[dict[str, Scores], dict]:
    """(Scores per metric, the metrics.json document)."""
    settings = settings or StatsSettings()
    scores = compute_metrics(requests, predictions, references)
    doc = {"n": len(predictions), **metrics_doc(scores, samples=settings.samples, confidence=settings.confidence,
                                                seed=settings.seed)}
    return scores, doc


def per_example_rows(ids: Sequence[str], scores: dict[str, Scores]) -> list[dict]:
    """One row per example with every metric's per-example score (scores.jsonl)."""
    names = list(scores)
    return [{"id": i, **{n: float(scores[n].per_example[k]) for n in names}} for k, i in enumerate(ids)]


def metrics_doc(scores: dict[str, Scores], *, samples: int = 1000, confidence: float = 0.95, seed: int = 42) -> dict:
    """The metrics.json layout: each metric's value, percentile-bootstrap interval, n, direction and
    aggregation (a metric with no examples gets value None)."""
    doc = {"metrics": {}, "confidence": confidence, "bootstrap_samples": samples, "seed": seed,
           "ci_method": "percentile bootstrap"}
    for name, s in scores.items():
        n = len(s.per_example)
        if n == 0:
            doc["metrics"][name] = {"value": None, "ci": [None, None], "n": 0}
            continue
        lo, hi = bootstrap_ci(s, samples=samples, confidence=confidence, seed=seed)
        info = get_metric(name)
        doc["metrics"][name] = {"value": s.value, "ci": [lo, hi], "n": n,
                                "higher_is_better": info.higher_is_better, "aggregation": info.aggregation}
    return doc
