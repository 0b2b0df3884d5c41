"""Length statistics of predictions and references: an `evaluate` module that works offline.

Words are whitespace-separated. `length_ratio` is the corpus ratio (sum of prediction words over
sum of first-reference words), as BLEU's length ratio.
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists
from lifecycle.evaluation.metrics.scorers import lengths

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts (the first one is measured).
    per_example: also return the per-example word counts.
Returns:
    {"pred_words": mean, "ref_words": mean, "length_ratio": float,
     "pred_words_per_example": list, "ref_words_per_example": list (when asked)}
"""


class Length(base.TextMetric):
    DESCRIPTION = "Prediction and reference length statistics."
    CITATION = ""
    KWARGS = _KWARGS

    def _compute(self, predictions, references, per_example=False):
        refs = as_reference_lists(references)
        scores = lengths(list(predictions), refs)
        out = {name: s.value for name, s in scores.items()}
        if per_example:
            out["pred_words_per_example"] = scores["pred_words"].per_example.tolist()
            out["ref_words_per_example"] = scores["ref_words"].per_example.tolist()
        return out
