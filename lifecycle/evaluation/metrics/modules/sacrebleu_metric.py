"""Corpus BLEU via sacrebleu, as an `evaluate` module that works offline (load it by path).

Same value as `sacrebleu.corpus_bleu(predictions, reference_streams, ...)`. References: one text
or a list of texts per prediction (the same number for every prediction, as sacrebleu requires).
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists, score_output
from lifecycle.evaluation.metrics.scorers import sacrebleu_bleu

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts or of lists of texts (same count per example).
    tokenize, lowercase, smooth_method, smooth_value: as sacrebleu.metrics.BLEU.
    per_example: also return "per_example", the corpus formula on each example alone.
Returns:
    {"score": float (0-100), "per_example": list (when asked)}
"""


class SacreBleu(base.TextMetric):
    DESCRIPTION = "sacreBLEU corpus score, offline."
    CITATION = "Post, M. (2018). A Call for Clarity in Reporting BLEU Scores."
    KWARGS = _KWARGS
    URLS = ["https://github.com/mjpost/sacreBLEU"]

    def _compute(self, predictions, references, tokenize=None, lowercase=False, smooth_method="exp",
                 smooth_value=None, per_example=False):
        refs = as_reference_lists(references)
        scores = sacrebleu_bleu(list(predictions), refs, tokenize=tokenize, lowercase=lowercase,
                                smooth_method=smooth_method, smooth_value=smooth_value)
        return score_output("score", scores, per_example)
