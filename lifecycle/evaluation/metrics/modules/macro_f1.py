"""F1 averaged over labels, as scikit-learn f1_score(average='macro'); the first reference is the true label: an `evaluate` module that works offline (load it by path).

Scale 0-1.
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists, score_output
from lifecycle.evaluation.metrics.scorers import macro_f1

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts.
    labels: the declared label set; F1 is averaged over all of them (scikit-learn's `labels=`).
    normalize: normalise answers and labels first (first line, case, whitespace, trailing punctuation; default True).
    per_example: also return "per_example", one score per prediction.
Returns:
    {"macro_f1": float, "per_example": list (when asked)}
"""


class MacroF1(base.TextMetric):
    DESCRIPTION = "F1 averaged over labels, as scikit-learn f1_score(average='macro'); the first reference is the true label."
    CITATION = ""
    KWARGS = _KWARGS

    def _compute(self, predictions, references, labels=None, normalize=True, per_example=False):
        refs = as_reference_lists(references)
        scores = macro_f1(list(predictions), refs, normalize=normalize, labels=labels)
        return score_output("macro_f1", scores, per_example)
