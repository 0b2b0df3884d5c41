"""Share of answers that are none of the labels (after label normalisation): the declared labels, else the labels the references use: an `evaluate` module that works offline (load it by path).

Scale 0-1, lower is better.
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists, score_output
from lifecycle.evaluation.metrics.scorers import off_label_rate

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts.
    labels: the declared label set (default: the labels the references use).
    normalize: normalise answers and labels first (first line, case, whitespace, trailing punctuation; default True).
    per_example: also return "per_example", 1 for each off-label answer.
Returns:
    {"off_label_rate": float, "per_example": list (when asked)}
"""


class OffLabelRate(base.TextMetric):
    DESCRIPTION = "Share of answers that are none of the labels (after label normalisation)."
    CITATION = ""
    KWARGS = _KWARGS

    def _compute(self, predictions, references, labels=None, normalize=True, per_example=False):
        refs = as_reference_lists(references)
        scores = off_label_rate(list(predictions), refs, normalize=normalize, labels=labels)
        return score_output("off_label_rate", scores, per_example)
