"""The metric computations themselves, without `evaluate` (importing it costs seconds).

Every scorer returns `Scores`: the aggregate value, a per-example score, and per-example
*sufficient statistics* with a `reduce` function that turns summed statistics back into the
aggregate. Mean metrics have one statistic (the example's score); corpus metrics (BLEU, chrF,
macro-F1, length ratio) keep their counts, so that bootstrap resamples and paired tests recompute
the real corpus formula instead of averaging sentence scores.

The `evaluate.Metric` modules in `metrics/` call these same functions, so both paths give the
same numbers (a test checks it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from lifecycle.evaluation.text import label_normalize, squad_normalize, word_count

Refs = Sequence[Sequence[str]]


@dataclass
class Scores:
    value: float
    per_example: np.ndarray  # shape (n,)
    stats: np.ndarray  # shape (n, k)
    reduce: Callable[[np.ndarray, int], np.ndarray]  # summed stats (B, k), n -> (B,)

    def recompute(self, summed: np.ndarray, n: int) -> np.ndarray:
        return np.asarray(self.reduce(np.atleast_2d(summed), n), dtype=float)


def _mean_reduce(summed: np.ndarray, n: int) -> np.ndarray:
    return summed[:, 0] / n


def mean_scores(per_example: Sequence[float]) -> Scores:
    arr = np.asarray(per_example, dtype=float)
    return Scores(float(np.mean(arr)), arr, arr[:, None], _mean_reduce)


# ROUGE ------------------------------------------------------------------------------------------
def rouge(predictions: Sequence[str], references: Refs, *, rouge_types: Sequence[str],
          use_stemmer: bool = True, workers: int | None = None) -> dict[str, Scores]:
    from lifecycle.evaluation.rouge_fast import rouge_per_example

    per = rouge_per_example(predictions, references, rouge_types=rouge_types,
                            use_stemmer=use_stemmer, workers=workers)
    return {k: mean_scores(v) for k, v in per.items()}


# sacreBLEU / chrF -------------------------------------------------------------------------------
def _sacrebleu_streams(references: Refs) -> list[list[str | None]]:
    """sacrebleu wants reference *streams* (one list per reference position); a missing reference
    is None, which sacrebleu skips, so examples may have different numbers of references."""
    k = max(len(r) for r in references)
    return [[refs[j] if j < len(refs) else None for refs in references] for j in range(k)]


def _corpus_scores(metric, predictions: Sequence[str], references: Refs) -> Scores:
    streams = _sacrebleu_streams(references)
    # sacrebleu's own per-segment statistics; corpus score = score of their sum (its definition).
    stats = np.asarray(metric._extract_corpus_statistics(list(predictions), streams), dtype=float)
    value = metric._compute_score_from_stats(stats.sum(axis=0).tolist()).score

    def reduce(summed: np.ndarray, n: int) -> np.ndarray:
        return np.array([metric._compute_score_from_stats(row.tolist()).score for row in summed])

    per_example = reduce(stats, 1)
    return Scores(float(value), per_example, stats, reduce)


def sacrebleu_bleu(predictions: Sequence[str], references: Refs, *, tokenize: str | None = None,
                   lowercase: bool = False, smooth_method: str = "exp",
                   smooth_value: float | None = None) -> Scores:
    from sacrebleu.metrics import BLEU

    bleu = BLEU(lowercase=lowercase, tokenize=tokenize, smooth_method=smooth_method, smooth_value=smooth_value)
    return _corpus_scores(bleu, predictions, references)


def chrf(predictions: Sequence[str], references: Refs, *, char_order: int = 6, word_order: int = 0,
         beta: int = 2, lowercase: bool = False, whitespace: bool = False) -> Scores:
    from sacrebleu.metrics import CHRF

    metric = CHRF(char_order=char_order, word_order=word_order, beta=beta, lowercase=lowercase,
                  whitespace=whitespace)
    return _corpus_scores(metric, predictions, references)


# SQuAD-style QA ---------------------------------------------------------------------------------
def _f1(prediction: str, reference: str) -> float:
    pred = squad_normalize(prediction).split()
    ref = squad_normalize(reference).split()
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision = 1.0 * same / len(pred)
    recall = 1.0 * same / len(ref)
    return (2 * precision * recall) / (precision + recall)


def exact_match(predictions: Sequence[str], references: Refs) -> Scores:
    return mean_scores([max(float(squad_normalize(p) == squad_normalize(r)) for r in refs)
                        for p, refs in zip(predictions, references)])


def token_f1(predictions: Sequence[str], references: Refs) -> Scores:
    return mean_scores([max(_f1(p, r) for r in refs) for p, refs in zip(predictions, references)])


# classification ---------------------------------------------------------------------------------
def accuracy(predictions: Sequence[str], references: Refs, *, normalize: bool = True) -> Scores:
    norm = label_normalize if normalize else (lambda s: s)
    return mean_scores([float(any(norm(p) == norm(r) for r in refs)) for p, refs in zip(predictions, references)])


def macro_f1(predictions: Sequence[str], references: Refs, *, normalize: bool = True) -> Scores:
    """Macro-averaged F1 over the labels present in references or predictions (scikit-learn's
    `f1_score(average="macro")`, zero for a label with no true or predicted positives).
    The first reference is the true label."""
    norm = label_normalize if normalize else (lambda s: s)
    y_true = [norm(refs[0]) for refs in references]
    y_pred = [norm(p) for p in predictions]
    labels = sorted(set(y_true) | set(y_pred))
    index = {lab: i for i, lab in enumerate(labels)}
    L = len(labels)
    # per example: one-hot tp | fp | fn over the labels
    stats = np.zeros((len(y_true), 3 * L))
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        if t == p:
            stats[i, index[t]] = 1
        else:
            stats[i, L + index[p]] = 1
            stats[i, 2 * L + index[t]] = 1

    def reduce(summed: np.ndarray, n: int) -> np.ndarray:
        tp, fp, fn = summed[:, :L], summed[:, L:2 * L], summed[:, 2 * L:]
        denom = 2 * tp + fp + fn
        present = denom > 0  # a label absent from a resample is not averaged (as sklearn)
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=present)
        return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)

    value = float(reduce(stats.sum(axis=0, keepdims=True), len(y_true))[0])
    per_example = np.array([float(t == p) for t, p in zip(y_true, y_pred)])
    return Scores(value, per_example, stats, reduce)


# length statistics ------------------------------------------------------------------------------
def lengths(predictions: Sequence[str], references: Refs) -> dict[str, Scores]:
    """Words (whitespace-separated) per prediction and per (first) reference, and their ratio
    over the corpus (sum of prediction words / sum of reference words)."""
    pred = np.array([word_count(p) for p in predictions], dtype=float)
    ref = np.array([word_count(refs[0]) for refs in references], dtype=float)
    stats = np.stack([pred, ref], axis=1)

    def ratio(summed: np.ndarray, n: int) -> np.ndarray:
        return np.divide(summed[:, 0], summed[:, 1], out=np.zeros(len(summed)), where=summed[:, 1] > 0)

    per_ratio = ratio(stats, 1)
    return {
        "pred_words": mean_scores(pred),
        "ref_words": mean_scores(ref),
        "length_ratio": Scores(float(ratio(stats.sum(axis=0, keepdims=True), len(pred))[0]), per_ratio, stats, ratio),
    }
