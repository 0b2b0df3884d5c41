"""The base of the `evaluate.Metric` modules in this folder, and the pieces they share.

Those modules are loaded by path (evaluate copies them into its cache), so what they share lives
here, in the installed package, and they import it absolutely. They import this *module* (not the
class): evaluate takes the first `Metric` subclass in a module's namespace as its metric.
"""

import evaluate


class TextMetric(evaluate.Metric):
    """A metric over prediction texts and reference texts: `_info` from the class attributes."""

    DESCRIPTION = ""
    CITATION = ""
    KWARGS = ""
    URLS: list = []

    def _info(self):
        return evaluate.MetricInfo(description=self.DESCRIPTION, citation=self.CITATION,
                                   inputs_description=self.KWARGS, features=text_features(),
                                   codebase_urls=list(self.URLS))


def text_features():
    """The accepted input shapes: a string prediction with one string or a list of string references."""
    import datasets  # lazy: only the metric modules, which already need datasets, call this

    return [
        datasets.Features({"predictions": datasets.Value("string"),
                           "references": datasets.Sequence(datasets.Value("string"))}),
        datasets.Features({"predictions": datasets.Value("string"),
                           "references": datasets.Value("string")}),
    ]


def as_reference_lists(references):
    """One list of reference texts per example (a bare string becomes a one-item list)."""
    return [[r] if isinstance(r, str) else list(r) for r in references]


def score_output(name, scores, per_example):
    """`{name: value}`, plus "per_example" (one score per prediction) when asked."""
    out = {name: scores.value}
    if per_example:
        out["per_example"] = scores.per_example.tolist()
    return out
