"""Share of predictions equal to a reference label (answers normalised: first line, case, whitespace, trailing punctuation; unless normalize=False): an `evaluate` module that works offline (load it by path).

Scale 0-1.
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists, score_output
from lifecycle.evaluation.metrics.scorers import accuracy

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts.
    normalize: normalise answers and labels first (first line, case, whitespace, trailing punctuation; default True).
    per_example: also return "per_example", one score per prediction.
Returns:
    {"accuracy": float, "per_example": list (when asked)}
"""


class Accuracy(base.TextMetric):
    DESCRIPTION = "Share of predictions equal to a reference label (answers normalised: first line, case, whitespace, trailing punctuation; unless normalize=False)."
    CITATION = ""
    KWARGS = _KWARGS

    def _compute(self, predictions, references, normalize=True, per_example=False):
        refs = as_reference_lists(references)
        scores = accuracy(list(predictions), refs, normalize=normalize)
        return score_output("accuracy", scores, per_example)
