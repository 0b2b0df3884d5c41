"""Token-overlap F1 after SQuAD v1.1 normalisation, best reference: an `evaluate` module that works offline (load it by path).

Scale 0-1 (the SQuAD script reports 0-100).
"""
import datasets
import evaluate
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
            features=[
                datasets.Features({"predictions": datasets.Value("string"),
                                   "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"),
                                   "references": datasets.Value("string")}),
            ],
        )

    def _compute(self, predictions, references, per_example=False):
        refs = [[r] if isinstance(r, str) else list(r) for r in references]
        scores = token_f1(list(predictions), refs)
        out = {"token_f1": scores.value}
        if per_example:
            out["per_example"] = scores.per_example.tolist()
        return out
