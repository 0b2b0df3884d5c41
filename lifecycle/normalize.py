"""Answer normalisation: how a model's answer is compared with a reference or a class label.

Core, because the prompt config checks its labels with it and the metrics score with it."""

from __future__ import annotations

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def squad_normalize(text: str) -> str:
    """Lower-case, drop punctuation and English articles, collapse whitespace: the SQuAD v1.1
    evaluation script's `normalize_answer`, step for step."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


# Recorded in every eval run that scores labels (run.yaml eval.label_normalization), so a reader
# knows that "Shopping." and "shopping" counted as the same answer.
LABEL_NORMALIZATION = ("first non-empty line; surrounding quotes, brackets and whitespace removed; trailing "
                       "punctuation (. , ; : ! ?) removed; inner whitespace collapsed; case folded")
_TRAILING = ".,;:!?"
_WRAPPERS = "\"'`()[]{}<>*"


def label_normalize(text: str) -> str:
    """A class label as a model writes it -> the label it means (LABEL_NORMALIZATION, step for step):
    "  Shopping.\nBecause the customer..." -> "shopping"."""
    lines = [line for line in str(text).splitlines() if line.strip()]
    first = lines[0] if lines else ""
    prev = None
    while prev != first:  # "(shopping.)" and "shopping.)" both end as "shopping"
        prev = first
        first = first.strip().strip(_WRAPPERS).rstrip(_TRAILING)
    return " ".join(first.split()).casefold()

