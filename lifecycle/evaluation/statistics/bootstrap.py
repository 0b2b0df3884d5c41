"""Confidence intervals and paired tests over per-example statistics (seeded, vectorised numpy).

Everything works on `Scores.stats` (per-example sufficient statistics) and `Scores.reduce`, so a
corpus metric such as BLEU is recomputed with its own formula on every resample rather than
approximated by a mean of sentence scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lifecycle.errors import EvaluationError
from lifecycle.evaluation.metrics.scorers import Scores, on_labels
from lifecycle.evaluation.statistics.verdict import paired_verdict

# Resamples are processed in blocks so that memory stays ~ block * n * k floats.
_BLOCK_ELEMENTS = 4_000_000


def _blocks(total: int, n: int, k: int):
    size = max(1, min(total, _BLOCK_ELEMENTS // max(1, n * k)))
    for start in range(0, total, size):
        yield min(size, total - start)


def bootstrap_distribution(scores: Scores, *, samples: int = 1000, seed: int = 42) -> np.ndarray:
    """The metric on `samples` resamples (with replacement) of the examples."""
    stats = scores.stats
    n, k = stats.shape
    rng = np.random.default_rng(seed)
    out = []
    for b in _blocks(samples, n, k):
        idx = rng.integers(0, n, size=(b, n))
        out.append(scores.recompute(stats[idx].sum(axis=1), n))
    return np.concatenate(out)


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def bootstrap_ci(scores: Scores, *, samples: int = 1000, confidence: float = 0.95,
                 seed: int = 42) -> tuple[float, float]:
    """Percentile bootstrap interval of the metric. With one example the interval is the point."""
    if len(scores.stats) < 2:
        return scores.value, scores.value
    return percentile_interval(bootstrap_distribution(scores, samples=samples, seed=seed), confidence)


@dataclass
class PairedResult:
    metric: str
    a: float
    b: float
    diff: float  # b - a
    ci: tuple[float, float]
    p_value: float
    n: int
    higher_is_better: bool | None
    method: str

    @property
    def judged(self):
        """The shared verdict (lifecycle.evaluation.statistics.verdict): significant only when the interval
        excludes 0 and p < 0.05."""
        return paired_verdict(self.diff, self.ci, self.p_value, self.higher_is_better)

    @property
    def verdict(self) -> str:
        return self.judged.short()

    def as_dict(self) -> dict:
        return {"metric": self.metric, "a": self.a, "b": self.b, "diff": self.diff, "ci": list(self.ci),
                "p_value": self.p_value, "n": self.n, "higher_is_better": self.higher_is_better,
                "method": self.method, "verdict": self.verdict}


def _check_pair(a: Scores, b: Scores) -> tuple[Scores, Scores]:
    """Both sides on one statistics layout: label metrics (macro-F1) of runs that predicted different
    label sets are first put on the union of their labels (values unchanged)."""
    if a.labels is not None and b.labels is not None and a.labels != b.labels and len(a.stats) == len(b.stats):
        space = tuple(sorted(set(a.labels) | set(b.labels)))
        a, b = on_labels(a, space), on_labels(b, space)
    if a.stats.shape != b.stats.shape:
        raise EvaluationError(f"paired test needs the same examples on both sides "
                              f"({a.stats.shape[0]} vs {b.stats.shape[0]} examples)")
    return a, b


def paired_bootstrap(a: Scores, b: Scores, *, samples: int = 1000, confidence: float = 0.95,
                     seed: int = 42) -> tuple[float, float]:
    """Interval of metric(B) - metric(A) when both are resampled on the same examples."""
    a, b = _check_pair(a, b)
    n, k = a.stats.shape
    rng = np.random.default_rng(seed)
    diffs = []
    for blk in _blocks(samples, n, 2 * k):
        idx = rng.integers(0, n, size=(blk, n))
        diffs.append(b.recompute(b.stats[idx].sum(axis=1), n) - a.recompute(a.stats[idx].sum(axis=1), n))
    return percentile_interval(np.concatenate(diffs), confidence)


def permutation_test(a: Scores, b: Scores, *, samples: int = 10000, seed: int = 42) -> float:
    """Two-sided paired approximate-randomisation test: swap A's and B's statistics on a random
    subset of examples; p = (1 + #(|diff*| >= |diff|)) / (1 + samples)."""
    a, b = _check_pair(a, b)
    n, k = a.stats.shape
    observed = abs(b.value - a.value)
    sum_a, sum_b = a.stats.sum(axis=0), b.stats.sum(axis=0)
    delta = b.stats - a.stats  # swapping example i moves delta[i] from B's sum to A's sum
    rng = np.random.default_rng(seed)
    hits = 0
    for blk in _blocks(samples, n, 1):
        swap = rng.integers(0, 2, size=(blk, n)).astype(float)
        moved = swap @ delta  # (blk, k)
        perm_a = a.recompute(sum_a + moved, n)
        perm_b = b.recompute(sum_b - moved, n)
        # a tiny tolerance so that ties in float arithmetic count as ties
        hits += int(np.sum(np.abs(perm_b - perm_a) >= observed - 1e-12))
    return (1 + hits) / (1 + samples)


def compare_scores(metric: str, a: Scores, b: Scores, *, higher_is_better: bool | None,
                   samples: int = 1000, confidence: float = 0.95, seed: int = 42,
                   permutations: int = 10000) -> PairedResult:
    ci = paired_bootstrap(a, b, samples=samples, confidence=confidence, seed=seed)
    p = permutation_test(a, b, samples=permutations, seed=seed)
    return PairedResult(metric, a.value, b.value, b.value - a.value, ci, p, len(a.stats), higher_is_better,
                        f"paired bootstrap ({samples}, {confidence:.0%}) + paired permutation ({permutations})")
