"""Every metric against the reference library called directly, to 1e-9, on real text."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.evaluation.metrics.registry import compute_metrics

from squad_v1_reference import exact_match_score, f1_score, metric_max_over_ground_truths

TOL = 1e-9


def test_rouge_matches_rouge_score_per_example(summary_pairs):
    from rouge_score import rouge_scorer

    preds, refs = summary_pairs
    ours = compute_metrics(["rouge1", "rouge2", "rougeL", "rougeLsum"], preds, refs)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    expected = [scorer.score_multi(r, p) for p, r in zip(preds, refs)]
    for name, scores in ours.items():
        want = np.array([e[name].fmeasure for e in expected])
        np.testing.assert_allclose(scores.per_example, want, rtol=0, atol=TOL)
        assert abs(scores.value - want.mean()) < TOL
    # the texts really exercise the summary-level path: Lsum differs from L somewhere
    assert np.any(np.abs(ours["rougeLsum"].per_example - ours["rougeL"].per_example) > 1e-6)


def test_rouge_parallel_equals_single_process(summary_pairs):
    from lifecycle.evaluation.metrics.rouge_fast import rouge_per_example

    preds, refs = summary_pairs
    one = rouge_per_example(preds, refs, workers=1)
    two = rouge_per_example(preds, refs, workers=2)
    assert one == two


def test_rouge_without_stemming(summary_pairs):
    from rouge_score import rouge_scorer

    preds, refs = summary_pairs
    ours = compute_metrics([("rougeL", {"use_stemmer": False})], preds, refs)["rougeL"]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    want = [scorer.score_multi(r, p)["rougeL"].fmeasure for p, r in zip(preds, refs)]
    np.testing.assert_allclose(ours.per_example, want, rtol=0, atol=TOL)


def test_bit_parallel_lcs_equals_dynamic_programming():
    import random

    from rouge_score.rouge_scorer import _lcs_table

    from lifecycle.evaluation.metrics.rouge_fast import lcs_length

    rng = random.Random(0)
    for _ in range(500):
        a = [rng.randrange(6) for _ in range(rng.randrange(1, 90))]
        b = [rng.randrange(6) for _ in range(rng.randrange(1, 90))]
        assert lcs_length(a, b) == _lcs_table(a, b)[-1][-1]


def _streams(refs):
    k = max(map(len, refs))
    return [[r[j] if j < len(r) else None for r in refs] for j in range(k)]


def test_sacrebleu_and_chrf_match_sacrebleu(summary_pairs):
    import sacrebleu

    preds, refs = summary_pairs
    ours = compute_metrics(["sacrebleu", "chrf"], preds, refs)
    assert abs(ours["sacrebleu"].value - sacrebleu.corpus_bleu(preds, _streams(refs)).score) < TOL
    assert abs(ours["chrf"].value - sacrebleu.corpus_chrf(preds, _streams(refs)).score) < TOL
    lower = compute_metrics([("sacrebleu", {"lowercase": True, "tokenize": "intl"})], preds, refs)["sacrebleu"]
    want = sacrebleu.corpus_bleu(preds, _streams(refs), lowercase=True, tokenize="intl").score
    assert abs(lower.value - want) < TOL
    # the corpus value is recomputed from summed statistics, as the bootstrap does
    bleu = ours["sacrebleu"]
    assert abs(bleu.recompute(bleu.stats.sum(axis=0), len(preds))[0] - bleu.value) < TOL


def test_squad_metrics_match_the_official_script(label_pairs, summary_pairs):
    for preds, refs in (label_pairs, summary_pairs):
        ours = compute_metrics(["exact_match", "token_f1"], preds, refs)
        em = [float(metric_max_over_ground_truths(exact_match_score, p, r)) for p, r in zip(preds, refs)]
        f1 = [metric_max_over_ground_truths(f1_score, p, r) for p, r in zip(preds, refs)]
        np.testing.assert_allclose(ours["exact_match"].per_example, em, rtol=0, atol=TOL)
        np.testing.assert_allclose(ours["token_f1"].per_example, f1, rtol=0, atol=TOL)
        assert abs(ours["token_f1"].value - np.mean(f1)) < TOL
        assert 0 < ours["exact_match"].value < 1


def test_accuracy_and_macro_f1_match_scikit_learn(label_pairs):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    preds, refs = label_pairs
    ours = compute_metrics(["accuracy", "macro_f1"], preds, refs)
    y_true = [r[0].strip().casefold() for r in refs]
    y_pred = [p.strip().casefold() for p in preds]
    any_ref = [float(any(p == x.strip().casefold() for x in r)) for p, r in zip(y_pred, refs)]
    assert abs(ours["accuracy"].value - np.mean(any_ref)) < TOL
    single = compute_metrics(["accuracy"], preds, [[r[0]] for r in refs])["accuracy"]
    assert abs(single.value - sklearn_metrics.accuracy_score(y_true, y_pred)) < TOL
    want = sklearn_metrics.f1_score(y_true, y_pred, average="macro", zero_division=0)
    assert abs(ours["macro_f1"].value - want) < TOL
    # a bootstrap resample recomputes the real macro-F1 of that resample
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(preds), len(preds))
    m = ours["macro_f1"]
    got = m.recompute(m.stats[idx].sum(axis=0), len(idx))[0]
    want_rs = sklearn_metrics.f1_score([y_true[i] for i in idx], [y_pred[i] for i in idx], average="macro",
                                       zero_division=0)
    assert abs(got - want_rs) < TOL


def test_length_statistics(summary_pairs):
    preds, refs = summary_pairs
    ours = compute_metrics(["length"], preds, refs)
    p = np.array([len(x.split()) for x in preds], dtype=float)
    r = np.array([len(x[0].split()) for x in refs], dtype=float)
    assert set(ours) == {"pred_words", "ref_words", "length_ratio"}
    assert abs(ours["pred_words"].value - p.mean()) < TOL
    assert abs(ours["ref_words"].value - r.mean()) < TOL
    assert abs(ours["length_ratio"].value - p.sum() / r.sum()) < TOL


@pytest.mark.parametrize("preds,refs,message", [
    (["a", "b"], [["a"]], "2 predictions but 1 references"),
    ([], [], "no predictions"),
    ([None], [["a"]], "prediction #1 is NoneType"),
    (["a"], [[]], "example #1: references must be text or a non-empty list"),
])
def test_bad_inputs_are_one_clear_error(preds, refs, message):
    from lifecycle.errors import EvaluationError

    with pytest.raises(EvaluationError, match=message):
        compute_metrics(["rougeL"], preds, refs)


def test_empty_prediction_texts_score_zero_not_crash():
    scores = compute_metrics(["rougeL", "token_f1", "sacrebleu"], ["", "a cat"], [["a cat"], ["a cat"]])
    assert scores["rougeL"].per_example.tolist() == [0.0, 1.0]
    assert scores["token_f1"].per_example.tolist() == [0.0, 1.0]
