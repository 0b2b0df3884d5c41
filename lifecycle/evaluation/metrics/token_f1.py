"""Token-overlap F1 after SQuAD v1.1 normalisation, best reference: an `evaluate` module that works offline (load it by path).

Scale 0-1 (the SQuAD script reports 0-100).
"""
import evaluate
from lifecycle.evaluation.metric_info import as_reference_lists
from lifecycle.evaluation.metric_info import text_features
from lifecycle.evaluation.metric_info import score_output
from lifecycle.evaluation.scorers import token_f1

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts.
    per_example: also return "per_example", one score per prediction.
Returns:
    {"token_f1": float, "per_example": list (when asked)}
"""


class TokenF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Token-overlap F1 after SQuAD v1.1 normalisation, best reference.",
            citation="",
            inputs_description=_KWARGS,
            features=text_features(),
        )

    def _compute(self, predictions, references, per_example=False):
        refs = as_reference_lists(references)
        scores = token_f1(list(predictions), refs)
        return score_output("token_f1", scores, per_example)
