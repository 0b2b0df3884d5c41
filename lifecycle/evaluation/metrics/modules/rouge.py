"""ROUGE-1/2/L/Lsum as an `evaluate` module that works offline.

Load it by path, never by bare name (the bare name fetches the Hub script):

    >>> import evaluate
    >>> from lifecycle.evaluation.metrics.registry import METRICS
    >>> rouge = evaluate.load(str(METRICS["rougeL"].module_path))
    >>> rouge.compute(predictions=["the cat sat"], references=[["a cat sat down", "the cat"]])

Same numbers as `rouge_score` (tokeniser, Porter stemming, best reference per example); rougeLsum
splits sentences on newlines, as the Hub module does. Differences from the Hub module: stemming is
on by default, and the aggregate is the plain mean of per-example F-measures (the Hub module
reports the median of a random, unseeded bootstrap).
"""
from lifecycle.evaluation.metrics.modules import base
from lifecycle.evaluation.metrics.modules.base import as_reference_lists
from lifecycle.evaluation.metrics.rouge_fast import ROUGE_TYPES, rouge_per_example

_KWARGS = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts (best reference per example).
    rouge_types: subset of ["rouge1", "rouge2", "rougeL", "rougeLsum"] (default: all four).
    use_stemmer: Porter-stem words longer than three characters (default True).
    use_aggregator: True: the mean per type; False: the list of per-example F-measures.
Returns:
    {rouge_type: float or list of float}
"""


class Rouge(base.TextMetric):
    DESCRIPTION = "ROUGE F-measures computed exactly as rouge_score, offline."
    CITATION = "Lin, C.-Y. (2004). ROUGE: A Package for Automatic Evaluation of Summaries."
    KWARGS = _KWARGS
    URLS = ["https://github.com/google-research/google-research/tree/master/rouge"]

    def _compute(self, predictions, references, rouge_types=None, use_stemmer=True, use_aggregator=True):
        rouge_types = list(rouge_types or ROUGE_TYPES)
        refs = as_reference_lists(references)
        per = rouge_per_example(list(predictions), refs, rouge_types=rouge_types, use_stemmer=use_stemmer)
        if not use_aggregator:
            return per
        return {k: sum(v) / len(v) if v else 0.0 for k, v in per.items()}
