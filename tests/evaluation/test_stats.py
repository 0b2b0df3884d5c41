"""Bootstrap intervals and paired tests: seeded, equal to a plain loop, sensible on known cases."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.evaluation.metrics.registry import compute_metrics
from lifecycle.evaluation.metrics.scorers import mean_scores
from lifecycle.evaluation.statistics.bootstrap import (bootstrap_ci, bootstrap_distribution, compare_scores,
                                        paired_bootstrap, permutation_test)


def test_bootstrap_equals_a_plain_loop_and_is_seeded():
    x = np.random.default_rng(1).normal(0.4, 0.1, size=257)
    s = mean_scores(x)
    dist = bootstrap_distribution(s, samples=500, seed=7)
    idx = np.random.default_rng(7).integers(0, len(x), size=(500, len(x)))
    np.testing.assert_allclose(dist, [x[i].mean() for i in idx], rtol=0, atol=1e-12)
    assert bootstrap_ci(s, samples=500, seed=7) == bootstrap_ci(s, samples=500, seed=7)
    assert bootstrap_ci(s, samples=500, seed=7) != bootstrap_ci(s, samples=500, seed=8)


def test_bootstrap_interval_width_matches_the_normal_approximation():
    x = np.random.default_rng(2).normal(0.5, 0.2, size=2000)
    lo, hi = bootstrap_ci(mean_scores(x), samples=2000)
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert lo < x.mean() < hi
    assert abs((hi - lo) / 2 - half) / half < 0.1


def test_corpus_metric_interval_recomputes_bleu(summary_pairs):
    import sacrebleu

    preds, refs = summary_pairs
    bleu = compute_metrics(["sacrebleu"], preds, refs)["sacrebleu"]
    dist = bootstrap_distribution(bleu, samples=3, seed=3)
    idx = np.random.default_rng(3).integers(0, len(preds), size=(3, len(preds)))
    for value, rows in zip(dist, idx):
        want = sacrebleu.corpus_bleu([preds[i] for i in rows], [[refs[i][0] for i in rows]] +
                                     [[refs[i][1] if len(refs[i]) > 1 else None for i in rows]]).score
        assert abs(value - want) < 1e-9


def test_paired_tests_on_known_cases():
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 1, size=300)
    same = compare_scores("m", mean_scores(a), mean_scores(a), higher_is_better=True)
    assert same.diff == 0 and same.ci == (0.0, 0.0) and same.p_value == 1.0
    assert same.verdict == "no significant difference"

    shifted = mean_scores(np.clip(a + 0.05, 0, None))
    lo, hi = paired_bootstrap(mean_scores(a), shifted)
    assert lo == pytest.approx(0.05, abs=1e-9) and hi == pytest.approx(0.05, abs=1e-9)
    res = compare_scores("m", mean_scores(a), shifted, higher_is_better=True)
    assert res.p_value < 0.001 and res.verdict == "B better"
    worse = compare_scores("m", mean_scores(a), shifted, higher_is_better=False)
    assert worse.verdict == "A better"

    noise = mean_scores(a + rng.normal(0, 0.01, size=300))
    assert permutation_test(mean_scores(a), noise) > 0.05


def test_permutation_p_value_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    a = rng.normal(0.5, 0.2, size=80)
    b = a + rng.normal(0.03, 0.1, size=80)
    ours = permutation_test(mean_scores(a), mean_scores(b), samples=20000, seed=1)
    ref = stats.permutation_test((b, a), lambda x, y: np.mean(x) - np.mean(y), permutation_type="samples",
                                 n_resamples=20000, rng=np.random.default_rng(1)).pvalue
    assert abs(ours - ref) < 0.02


def test_paired_test_refuses_different_lengths():
    from lifecycle.errors import EvaluationError

    with pytest.raises(EvaluationError, match="same examples"):
        paired_bootstrap(mean_scores([0.1, 0.2]), mean_scores([0.1, 0.2, 0.3]))
