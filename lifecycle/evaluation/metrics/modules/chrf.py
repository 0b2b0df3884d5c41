"""chrF via sacrebleu, as an `evaluate` module that works offline (load it by path).

Same value as `sacrebleu.corpus_chrf(...)` / `sacrebleu.metrics.CHRF(...).corpus_score(...)`.
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists, score_output
from lifecycle.evaluation.metrics.scorers import chrf

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts or of lists of texts (same count per example).
    char_order, word_order, beta, lowercase, whitespace: as sacrebleu.metrics.CHRF.
    per_example: also return "per_example".
Returns:
    {"score": float (0-100), "per_example": list (when asked)}
"""


class Chrf(base.TextMetric):
    DESCRIPTION = "chrF corpus score, offline."
    CITATION = "Popovic, M. (2015). chrF: character n-gram F-score for automatic MT evaluation."
    KWARGS = _KWARGS
    URLS = ["https://github.com/mjpost/sacreBLEU"]

    def _compute(self, predictions, references, char_order=6, word_order=0, beta=2, lowercase=False,
                 whitespace=False, per_example=False):
        refs = as_reference_lists(references)
        scores = chrf(list(predictions), refs, char_order=char_order, word_order=word_order, beta=beta,
                      lowercase=lowercase, whitespace=whitespace)
        return score_output("score", scores, per_example)
