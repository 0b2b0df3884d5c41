"""Share of predictions equal to a reference label (answers normalised: first line, case, whitespace, trailing punctuation; unless normalize=False): an `evaluate` module that works offline (load it by path).

Scale 0-1.
"""
import evaluate
from lifecycle.evaluation.metric_info import as_reference_lists
from lifecycle.evaluation.metric_info import text_features
from lifecycle.evaluation.metric_info import score_output
from lifecycle.evaluation.scorers import accuracy

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts.
    normalize: normalise answers and labels first (first line, case, whitespace, trailing punctuation; default True).
    per_example: also return "per_example", one score per prediction.
Returns:
    {"accuracy": float, "per_example": list (when asked)}
"""


class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Share of predictions equal to a reference label (answers normalised: first line, case, whitespace, trailing punctuation; unless normalize=False).",
            citation="",
            inputs_description=_KWARGS,
            features=text_features(),
        )

    def _compute(self, predictions, references, normalize=True, per_example=False):
        refs = as_reference_lists(references)
        scores = accuracy(list(predictions), refs, normalize=normalize)
        return score_output("accuracy", scores, per_example)
