"""chrF via sacrebleu, as an `evaluate` module that works offline (load it by path).

Same value as `sacrebleu.corpus_chrf(...)` / `sacrebleu.metrics.CHRF(...).corpus_score(...)`.
"""
import evaluate
from lifecycle.evaluation.metric_info import as_reference_lists
from lifecycle.evaluation.metric_info import text_features
from lifecycle.evaluation.metric_info import score_output
from lifecycle.evaluation.scorers import chrf

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts or of lists of texts (same count per example).
    char_order, word_order, beta, lowercase, whitespace: as sacrebleu.metrics.CHRF.
    per_example: also return "per_example".
Returns:
    {"score": float (0-100), "per_example": list (when asked)}
"""


class Chrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="chrF corpus score, offline.",
            citation="Popovic, M. (2015). chrF: character n-gram F-score for automatic MT evaluation.",
            inputs_description=_KWARGS,
            features=text_features(),
            codebase_urls=["https://github.com/mjpost/sacreBLEU"],
        )

    def _compute(self, predictions, references, char_order=6, word_order=0, beta=2, lowercase=False,
                 whitespace=False, per_example=False):
        refs = as_reference_lists(references)
        scores = chrf(list(predictions), refs, char_order=char_order, word_order=word_order, beta=beta,
                      lowercase=lowercase, whitespace=whitespace)
        return score_output("score", scores, per_example)
