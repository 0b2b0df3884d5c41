"""Your own metrics, scored by `lifecycle eval run` next to the built-in suite.

configs/eval.yaml names each by import path:

    - name: relative_length
      function: {{cookiecutter.package}}.metrics:relative_length
      higher_is_better: null     # true / false / null (descriptive, no better direction)

A metric is a function of one prediction and one reference returning a number; the run's value is
the mean over examples, with the same bootstrap interval and paired tests as the built-in metrics
(with several references an example scores its best one). `relative_length` (prediction words / reference words) checks that a model is
not padding or truncating its answers. Add your own below and list it in configs/eval.yaml.
"""

from __future__ import annotations

import re
import string

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def words(text: str) -> list[str]:
    return _PUNCT.sub(" ", text.lower()).split()


def relative_length(prediction: str, reference: str) -> float:
    """Prediction words / reference words (1.0: same length; an empty reference counts as one word)."""
    return len(words(prediction)) / max(1, len(words(reference)))


def word_f1(prediction: str, reference: str) -> float:
    """F1 of the word multisets (SQuAD-style token F1 without article removal)."""
    pred, ref = words(prediction), words(reference)
    common = sum(min(pred.count(w), ref.count(w)) for w in set(pred))
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)
