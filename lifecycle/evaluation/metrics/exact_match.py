"""Exact match after SQuAD v1.1 normalisation (lower case, no punctuation, no articles), best reference: an `evaluate` module that works offline (load it by path).

Scale 0-1 (the SQuAD script reports 0-100).
"""
import evaluate
from lifecycle.evaluation.metric_info import as_reference_lists
from lifecycle.evaluation.metric_info import text_features
from lifecycle.evaluation.metric_info import score_output
from lifecycle.evaluation.scorers import exact_match

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts.
    per_example: also return "per_example", one score per prediction.
Returns:
    {"exact_match": float, "per_example": list (when asked)}
"""


class ExactMatch(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Exact match after SQuAD v1.1 normalisation (lower case, no punctuation, no articles), best reference.",
            citation="",
            inputs_description=_KWARGS,
            features=text_features(),
        )

    def _compute(self, predictions, references, per_example=False):
        refs = as_reference_lists(references)
        scores = exact_match(list(predictions), refs)
        return score_output("exact_match", scores, per_example)
