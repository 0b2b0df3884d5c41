"""The metric registry: names, direction, aggregation, and the `evaluate` module behind each.

Two ways to compute, same numbers:
  * `compute_metrics(...)` calls the scorers directly (fast path of `lifecycle eval run`; no
    `import evaluate`, which alone takes seconds);
  * `load_module(name)` returns the shipped `evaluate.Metric` module, loaded by absolute path
    (never by bare name: that would go to the Hub), for users who want the `evaluate` API.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from lifecycle.errors import EvaluationError, did_you_mean
from lifecycle.tasks import get_task, tasks_for_metric

METRICS_DIR = Path(__file__).resolve().parent / "metrics"


@dataclass(frozen=True)
class MetricInfo:
    name: str
    module: str  # file stem under lifecycle/evaluation/metrics/
    higher_is_better: Optional[bool]  # None: descriptive (lengths), no better direction
    aggregation: str  # "mean" of per-example scores, or "corpus" (formula over summed counts)
    scale: str  # value range, e.g. "0-1" or "0-100"
    description: str

    @property
    def module_path(self) -> Path:
        return METRICS_DIR / f"{self.module}.py"

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks this metric suits: those whose suite (lifecycle.tasks) names it or its group."""
        names = {self.name, *(g for g, members in GROUPS.items() if self.name in members)}
        return tuple(dict.fromkeys(t for n in names for t in tasks_for_metric(n)))


METRICS: dict[str, MetricInfo] = {m.name: m for m in [
    MetricInfo("rouge1", "rouge", True, "mean", "0-1", "ROUGE-1 F-measure (unigrams, Porter stemming)"),
    MetricInfo("rouge2", "rouge", True, "mean", "0-1", "ROUGE-2 F-measure (bigrams, Porter stemming)"),
    MetricInfo("rougeL", "rouge", True, "mean", "0-1", "ROUGE-L F-measure (longest common subsequence)"),
    MetricInfo("rougeLsum", "rouge", True, "mean", "0-1",
               "ROUGE-Lsum F-measure (summary-level LCS, sentences split on newlines)"),
    MetricInfo("sacrebleu", "sacrebleu_metric", True, "corpus", "0-100", "corpus BLEU via sacrebleu"),
    MetricInfo("chrf", "chrf", True, "corpus", "0-100", "chrF (character n-gram F-score) via sacrebleu"),
    MetricInfo("exact_match", "exact_match", True, "mean", "0-1",
               "exact match after SQuAD normalisation, best reference"),
    MetricInfo("token_f1", "token_f1", True, "mean", "0-1",
               "token-overlap F1 after SQuAD normalisation, best reference"),
    MetricInfo("accuracy", "accuracy", True, "mean", "0-1", "label matches a reference (after label normalisation: first line, case, spaces, trailing punctuation)"),
    MetricInfo("macro_f1", "macro_f1", True, "corpus", "0-1", "F1 averaged over labels (scikit-learn's macro)"),
    MetricInfo("off_label_rate", "off_label", False, "mean", "0-1",
               "share of answers that are none of the labels (after normalisation)"),
    MetricInfo("pred_words", "length", None, "mean", "words", "words per prediction"),
    MetricInfo("ref_words", "length", None, "mean", "words", "words per (first) reference"),
    MetricInfo("length_ratio", "length", None, "corpus", "ratio",
               "prediction words / reference words over the corpus"),
]}


# Names that stand for several metrics computed together (as the `evaluate` modules return them).
GROUPS: dict[str, tuple[str, ...]] = {
    "rouge": ("rouge1", "rouge2", "rougeL", "rougeLsum"),
    "length": ("pred_words", "ref_words", "length_ratio"),
}


def expand_names(names: Sequence[str]) -> list[str]:
    """Metric names with groups ("rouge", "length") expanded, duplicates dropped, order kept."""
    out: dict[str, None] = {}
    for n in names:
        for m in GROUPS.get(n, (n,)):
            get_metric(m)
            out[m] = None
    return list(out)


def direction(name: str) -> Optional[bool]:
    """higher_is_better of a metric or a group (a group's members share one direction)."""
    found = {get_metric(m).higher_is_better for m in GROUPS.get(name, (name,))}
    if len(found) != 1:
        raise EvaluationError(f"metric group '{name}' mixes directions; list its members one by one")
    return found.pop()


@dataclass(frozen=True)
class MetricDef:
    """One entry of a task's configs/eval.yaml suite, its direction taken from this registry."""

    name: str
    higher_is_better: Optional[bool]  # None: descriptive, no better side
    note: str


def suite(task) -> tuple[MetricDef, ...]:
    """The task's metric suite (lifecycle.tasks) with each metric's direction from this registry."""
    return tuple(MetricDef(m.name, direction(m.name), m.note) for m in get_task(task).metrics)


def get_metric(name: str) -> MetricInfo:
    try:
        return METRICS[name]
    except KeyError:
        known = [*METRICS, *GROUPS]
        same_letters = [k for k in known if k.lower() == str(name).lower()]  # rougel -> rougeL first
        msg = (f"unknown metric '{name}'; did you mean '{same_letters[0]}'?" if same_letters
               else did_you_mean(str(name), known, kind="metric"))
        raise EvaluationError(msg, hint="`lifecycle eval metrics` lists them") from None


def list_metrics() -> list[MetricInfo]:
    return list(METRICS.values())


def load_module(name: str, **kwargs):
    """The `evaluate.Metric` module of a metric, loaded from its file (works offline)."""
    import evaluate

    info = get_metric(name)
    return evaluate.load(str(info.module_path), **kwargs)


# direct computation -----------------------------------------------------------------------------
def _family_scorer(module: str) -> Callable:
    from lifecycle.evaluation import scorers

    return {
        "rouge": scorers.rouge, "sacrebleu_metric": scorers.sacrebleu_bleu, "chrf": scorers.chrf,
        "exact_match": scorers.exact_match, "token_f1": scorers.token_f1, "accuracy": scorers.accuracy,
        "macro_f1": scorers.macro_f1, "length": scorers.lengths,
        "off_label": scorers.off_label_rate,
    }[module]


def check_inputs(predictions: Sequence, references: Sequence) -> list[list[str]]:
    """References as a list of lists; one clear error for every shape problem."""
    if len(predictions) != len(references):
        raise EvaluationError(f"{len(predictions)} predictions but {len(references)} references: "
                              "they must pair up one to one")
    if not predictions:
        raise EvaluationError("nothing to score: no predictions")
    refs: list[list[str]] = []
    for i, (p, r) in enumerate(zip(predictions, references)):
        if not isinstance(p, str):
            raise EvaluationError(f"prediction #{i + 1} is {type(p).__name__}, expected text")
        r = [r] if isinstance(r, str) else list(r or [])
        if not r or not all(isinstance(x, str) for x in r):
            raise EvaluationError(f"example #{i + 1}: references must be text or a non-empty list of texts")
        refs.append(r)
    return refs


def _check_args(info: MetricInfo, fn: Callable, args: dict) -> None:
    params = [p for p, v in inspect.signature(fn).parameters.items() if v.kind == v.KEYWORD_ONLY]
    for key in args:
        if key not in params or key == "rouge_types":
            allowed = [p for p in params if p != "rouge_types"]
            raise EvaluationError(f"metric '{info.name}': " + did_you_mean(key, allowed or ["(none)"], kind="argument"))


def compute_metrics(metrics: Sequence[str | tuple[str, dict]], predictions: Sequence[str],
                    references: Sequence, *, workers: int | None = None) -> dict:
    """{name: scorers.Scores} for each requested metric. `metrics` holds names or (name, args)."""
    refs = check_inputs(predictions, references)
    wanted: dict[str, dict] = {}
    for m in metrics:
        group, args = (m, {}) if isinstance(m, str) else (m[0], dict(m[1] or {}))
        for name in expand_names([group]):
            info = get_metric(name)
            _check_args(info, _family_scorer(info.module), args)
            wanted[name] = args
    # group by module so that e.g. all ROUGE types share one tokenisation pass
    groups: dict[tuple, list[str]] = {}
    for name, args in wanted.items():
        key = (METRICS[name].module, tuple(sorted(args.items(), key=lambda kv: kv[0])))
        groups.setdefault(key, []).append(name)
    out = {}
    for (module, args_items), names in groups.items():
        fn = _family_scorer(module)
        args = dict(args_items)
        try:
            if module == "rouge":
                result = fn(predictions, refs, rouge_types=names, workers=workers, **args)
            else:
                result = fn(predictions, refs, **args)
        except (ValueError, TypeError, KeyError) as err:
            raise EvaluationError(f"metric {', '.join(names)}: {err}") from err
        if isinstance(result, dict):
            out.update({n: result[n] for n in names})
        else:
            out[names[0]] = result
    return {name: out[name] for name in wanted}
