"""Token-overlap F1 after SQuAD v1.1 normalisation, best reference: an `evaluate` module that works offline (load it by path).

Scale 0-1 (the SQuAD script reports 0-100).
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists, score_output
from lifecycle.evaluation.metrics.scorers import token_f1

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts.
    per_example: also return "per_example", one score per prediction.
Returns:
    {"token_f1": float, "per_example": list (when asked)}
"""


class TokenF1(base.TextMetric):
    DESCRIPTION = "Token-overlap F1 after SQuAD v1.1 normalisation, best reference."
    CITATION = ""
    KWARGS = _KWARGS

    def _compute(self, predictions, references, per_example=False):
        refs = as_reference_lists(references)
        scores = token_f1(list(predictions), refs)
        return score_output("token_f1", scores, per_example)
