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

from lifecycle.evaluation.metrics.rouge_fast import rouge_per_example
from lifecycle.normalize import label_normalize, squad_normalize

Refs = Sequence[Sequence[str]]


@dataclass
class Scores:
    value: float
    per_example: np.ndarray  # shape (n,)
    stats: np.ndarray  # shape (n, k)
    reduce: Callable[[np.ndarray, int], np.ndarray]  # summed stats (B, k), n -> (B,)
    # label metrics: the label of each block of stats columns, so that two runs that predicted
    # different label sets can be put on one label space for paired tests (`on_labels`)
    labels: tuple[str, ...] | None = None

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
def _norm(normalize: bool):
    return label_normalize if normalize else (lambda s: s)


def _declared(labels: Sequence[str] | None, norm) -> list[str] | None:
    if labels is None:
        return None
    out = list(dict.fromkeys(norm(str(x)) for x in labels))
    if not out:
        raise ValueError("labels: the declared label list is empty")
    return out


def accuracy(predictions: Sequence[str], references: Refs, *, normalize: bool = True) -> Scores:
    norm = _norm(normalize)
    return mean_scores([float(any(norm(p) == norm(r) for r in refs)) for p, refs in zip(predictions, references)])


def _f1_reduce(declared: bool):
    """Macro-F1 from summed one-hot tp | fp | fn blocks; the label count comes from the shape, so the
    same reducer serves any label space. Declared labels are all averaged (an absent one scores 0, as
    scikit-learn with `labels=`); otherwise a label absent from a resample is skipped (sklearn's
    default averages over the labels present)."""
    def reduce(summed: np.ndarray, n: int) -> np.ndarray:
        L = summed.shape[1] // 3
        tp, fp, fn = summed[:, :L], summed[:, L:2 * L], summed[:, 2 * L:]
        denom = 2 * tp + fp + fn
        present = denom > 0
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=float), where=present)
        if declared:
            return f1.sum(axis=1) / max(L, 1)
        return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    reduce.declared = declared
    return reduce


def _f1_stats(y_true: list[str], y_pred: list[str], labels: list[str]) -> np.ndarray:
    index = {lab: i for i, lab in enumerate(labels)}
    L = len(labels)
    stats = np.zeros((len(y_true), 3 * L))  # per example: one-hot tp | fp | fn over the labels
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        ti, pi = index.get(t), index.get(p)
        if t == p and ti is not None:
            stats[i, ti] = 1
            continue
        if pi is not None:
            stats[i, L + pi] = 1       # predicted a (declared) label that is not the true one
        if ti is not None:
            stats[i, 2 * L + ti] = 1   # missed the true label (an off-label answer misses it too)
    return stats


def macro_f1(predictions: Sequence[str], references: Refs, *, normalize: bool = True,
             labels: Sequence[str] | None = None) -> Scores:
    """Macro-averaged F1, as scikit-learn's `f1_score(average="macro")`: over the declared `labels`
    when given (`f1_score(..., labels=labels)`; an off-label answer is a miss for the true label and a
    false positive for none), else over the labels present in references or predictions. The first
    reference is the true label; answers are normalised (`label_normalize`) unless normalize=False."""
    norm = _norm(normalize)
    y_true = [norm(refs[0]) for refs in references]
    y_pred = [norm(p) for p in predictions]
    declared = _declared(labels, norm)
    space = declared if declared is not None else sorted(set(y_true) | set(y_pred))
    stats = _f1_stats(y_true, y_pred, space)
    reduce = _f1_reduce(declared is not None)
    value = float(reduce(stats.sum(axis=0, keepdims=True), len(y_true))[0])
    per_example = np.array([float(t == p) for t, p in zip(y_true, y_pred)])
    return Scores(value, per_example, stats, reduce, tuple(space))


def on_labels(scores: Scores, space: Sequence[str]) -> Scores:
    """The same label scores expressed over a larger label space (columns of labels the run never
    saw are zero), so that a paired test can compare runs that predicted different label sets.
    The value does not change: an unseen label has no tp, fp or fn."""
    if scores.labels is None or tuple(space) == scores.labels:
        return scores
    missing = [lab for lab in scores.labels if lab not in space]
    if missing:
        raise ValueError(f"label space lacks {missing}")
    L, M = len(scores.labels), len(space)
    where = {lab: i for i, lab in enumerate(space)}
    stats = np.zeros((len(scores.stats), 3 * M))
    for j, lab in enumerate(scores.labels):
        for block in range(3):
            stats[:, block * M + where[lab]] = scores.stats[:, block * L + j]
    return Scores(scores.value, scores.per_example, stats, scores.reduce, tuple(space))


def off_label_rate(predictions: Sequence[str], references: Refs, *, normalize: bool = True,
                   labels: Sequence[str] | None = None) -> Scores:
    """Share of answers that are none of the labels (after normalisation): the declared `labels`,
    else the labels the references use. Lower is better; 0 means every answer is a label."""
    norm = _norm(normalize)
    space = set(_declared(labels, norm) or {norm(r) for refs in references for r in refs})
    return mean_scores([float(norm(p) not in space) for p in predictions])


@dataclass
class LabelReport:
    labels: list[str]              # rows and columns; "(off-label)" is the last column when any
    matrix: list[list[int]]        # matrix[true][predicted]
    per_label: list[dict]          # label, precision, recall, f1, support, predicted
    off_label: int


OFF_LABEL = "(off-label)"


def label_report(predictions: Sequence[str], references: Refs, *, labels: Sequence[str] | None = None,
                 normalize: bool = True) -> LabelReport:
    """Confusion matrix (sklearn's `confusion_matrix(y_true, y_pred, labels=...)` layout: rows true,
    columns predicted) plus an off-label column, and per-label precision / recall / F1 / support."""
    norm = _norm(normalize)
    y_true = [norm(refs[0]) for refs in references]
    y_pred = [norm(p) for p in predictions]
    space = _declared(labels, norm) or sorted(set(y_true) | set(y_pred))
    index = {lab: i for i, lab in enumerate(space)}
    off = sum(p not in index for p in y_pred)
    cols = len(space) + (1 if off else 0)
    matrix = [[0] * cols for _ in space]
    for t, p in zip(y_true, y_pred):
        if t in index:
            matrix[index[t]][index.get(p, len(space))] += 1
    per = []
    for i, lab in enumerate(space):
        tp = matrix[i][i]
        predicted = sum(row[i] for row in matrix) + sum(1 for t, p in zip(y_true, y_pred) if p == lab and t not in index)
        support = sum(matrix[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per.append({"label": lab, "precision": precision, "recall": recall, "f1": f1, "support": support,
                    "predicted": predicted})
    return LabelReport(space + ([OFF_LABEL] if off else []), matrix, per, off)


# length statistics ------------------------------------------------------------------------------
def lengths(predictions: Sequence[str], references: Refs) -> dict[str, Scores]:
    """Words (whitespace-separated) per prediction and per (first) reference, and their ratio
    over the corpus (sum of prediction words / sum of reference words)."""
    pred = np.array([len(p.split()) for p in predictions], dtype=float)
    ref = np.array([len(refs[0].split()) for refs in references], dtype=float)
    stats = np.stack([pred, ref], axis=1)

    def ratio(summed: np.ndarray, n: int) -> np.ndarray:
        return np.divide(summed[:, 0], summed[:, 1], out=np.zeros(len(summed)), where=summed[:, 1] > 0)

    per_ratio = ratio(stats, 1)
    return {
        "pred_words": mean_scores(pred),
        "ref_words": mean_scores(ref),
        "length_ratio": Scores(float(ratio(stats.sum(axis=0, keepdims=True), len(pred))[0]), per_ratio, stats, ratio),
    }
