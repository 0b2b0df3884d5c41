"""Exact match after SQuAD v1.1 normalisation (lower case, no punctuation, no articles), best reference: an `evaluate` module that works offline (load it by path).

Scale 0-1 (the SQuAD script reports 0-100).
"""
import datasets
import evaluate
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
            features=[
                datasets.Features({"predictions": datasets.Value("string"),
                                   "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"),
                                   "references": datasets.Value("string")}),
            ],
        )

    def _compute(self, predictions, references, per_example=False):
        refs = [[r] if isinstance(r, str) else list(r) for r in references]
        scores = exact_match(list(predictions), refs)
        out = {"exact_match": scores.value}
        if per_example:
            out["per_example"] = scores.per_example.tolist()
        return out
