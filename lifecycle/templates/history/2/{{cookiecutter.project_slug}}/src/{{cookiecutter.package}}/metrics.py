"""A custom metric next to the built-in suite (configs/eval.yaml): plain Python, easy to test.

`length_ratio` compares prediction length with reference length, a quick check that a model is not
padding or truncating its answers. Replace it or add your own: a function taking the predictions
and references and returning one number.
"""

from __future__ import annotations

import re
import string

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def words(text: str) -> list[str]:
    return _PUNCT.sub(" ", text.lower()).split()


def length_ratio(predictions: list[str], references: list[str]) -> float:
    """Total prediction words / total reference words (1.0: same length on average)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    ref_words = sum(len(words(r)) for r in references)
    if ref_words == 0:
        raise ValueError("references are empty")
    return sum(len(words(p)) for p in predictions) / ref_words


def word_f1(prediction: str, reference: str) -> float:
    """F1 of the word multisets (SQuAD-style token F1 without article removal)."""
    pred, ref = words(prediction), words(reference)
    common = sum(min(pred.count(w), ref.count(w)) for w in set(pred))
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)
