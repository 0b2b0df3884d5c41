"""Length statistics of predictions and references: an `evaluate` module that works offline.

Words are whitespace-separated. `length_ratio` is the corpus ratio (sum of prediction words over
sum of first-reference words), as BLEU's length ratio.
"""
import evaluate
from lifecycle.evaluation.metric_info import as_reference_lists
from lifecycle.evaluation.metric_info import text_features
from lifecycle.evaluation.scorers import lengths

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts (the first one is measured).
    per_example: also return the per-example word counts.
Returns:
    {"pred_words": mean, "ref_words": mean, "length_ratio": float,
     "pred_words_per_example": list, "ref_words_per_example": list (when asked)}
"""


class Length(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Prediction and reference length statistics.",
            citation="",
            inputs_description=_KWARGS,
            features=text_features(),
        )

    def _compute(self, predictions, references, per_example=False):
        refs = as_reference_lists(references)
        scores = lengths(list(predictions), refs)
        out = {name: s.value for name, s in scores.items()}
        if per_example:
            out["pred_words_per_example"] = scores["pred_words"].per_example.tolist()
            out["ref_words_per_example"] = scores["ref_words"].per_example.tolist()
        return out
