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

from lifecycle.errors import ConfigError, EvaluationError, did_you_mean
from lifecycle.tasks import get_task, tasks_for_metric

METRICS_DIR = Path(__file__).resolve().parent / "modules"


@dataclass(frozen=True)
class MetricInfo:
    name: str
    module: str  # file stem under lifecycle/evaluation/metrics/modules/
    higher_is_better: Optional[bool]  # None: descriptive (lengths), no better direction
    aggregation: str  # "mean" of per-example scores, or "corpus" (formula over summed counts)
    scale: str  # value range, e.g. "0-1" or "0-100"
    description: str
    # Inputs beyond predictions and references (context metrics: retrieved passages, gold passage ids,
    # answerability). Empty for the metrics every eval run computes.
    needs: tuple[str, ...] = ()
    suits: tuple[str, ...] = ()  # tasks it suits even when no task suite names it

    @property
    def module_path(self) -> Path:
        if self.needs:  # computed by lifecycle/evaluation/metrics/grounding.py, not an `evaluate` module
            return Path(__file__).resolve().parent / "grounding.py"
        return METRICS_DIR / f"{self.module}.py"

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks this metric suits: those whose suite (lifecycle.tasks) names it or its group."""
        names = {self.name, *(g for g, members in GROUPS.items() if self.name in members)}
        return tuple(dict.fromkeys([*(t for n in names for t in tasks_for_metric(n)), *self.suits]))


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


# Retrieval and groundedness (lifecycle/evaluation/metrics/grounding.py): they need what was retrieved, so
# `lifecycle rag eval` and `--rag` runs compute them (compute_metrics(..., context=...)); kept apart
# from METRICS, which every eval run can compute from predictions and references alone.
_RAG_TASKS = ("question_answering", "chat")
CONTEXT_METRICS: dict[str, MetricInfo] = {m.name: m for m in [
    MetricInfo("recall_at_k", "rag", True, "mean", "0-1",
               "gold passages among the top k retrieved, answerable questions (named recall_at_1, recall_at_3, ...)",
               needs=("retrieved", "gold"), suits=_RAG_TASKS),
    MetricInfo("mrr", "rag", True, "mean", "0-1", "mean reciprocal rank of the first gold passage",
               needs=("retrieved", "gold"), suits=_RAG_TASKS),
    MetricInfo("support_precision", "rag", True, "mean", "0-1",
               "share of the answer's content words, numbers and names found in the retrieved passages",
               needs=("passages",), suits=_RAG_TASKS),
    MetricInfo("unsupported_answer_rate", "rag", False, "mean", "0-1",
               "share of answers (not abstentions) the retrieved passages do not support: invented information",
               needs=("passages",), suits=_RAG_TASKS),
    MetricInfo("abstention_rate", "rag", True, "mean", "0-1", "share of unanswerable questions the model declined",
               needs=("answerable",), suits=_RAG_TASKS),
    MetricInfo("citation_validity", "rag", True, "mean", "0-1",
               "share of [n] citations naming a given passage that supports the citing sentence",
               needs=("passages",), suits=_RAG_TASKS),
]}


def _recall_at(name: str) -> Optional[MetricInfo]:
    """recall_at_<k> (k >= 1) as its own name, sharing recall_at_k's definition."""
    head, _, k = name.rpartition("_")
    if head != "recall_at" or not k.isdigit() or int(k) < 1:
        return None
    base = CONTEXT_METRICS["recall_at_k"]
    return MetricInfo(name, base.module, True, "mean", "0-1", f"gold passages among the top {int(k)} retrieved",
                      needs=base.needs, suits=base.suits)


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


# The project's own metrics (configs/eval.yaml `function: my_pkg.metrics:name`), registered by
# lifecycle.evaluation.metrics.custom when a project's eval config is prepared: name -> (info, function).
PROJECT_METRICS: dict[str, tuple[MetricInfo, Callable]] = {}


def get_metric(name: str) -> MetricInfo:
    if name in PROJECT_METRICS:
        return PROJECT_METRICS[name][0]
    try:
        return METRICS[name] if name in METRICS else CONTEXT_METRICS[name]
    except (KeyError, TypeError):
        recall = _recall_at(str(name))
        if recall is not None:
            return recall
        known = [*METRICS, *CONTEXT_METRICS, *GROUPS]
        same_letters = [k for k in known if k.lower() == str(name).lower()]  # rougel -> rougeL first
        msg = (f"unknown metric '{name}'; did you mean '{same_letters[0]}'?" if same_letters
               else did_you_mean(str(name), known, kind="metric"))
        raise EvaluationError(msg, hint="`lifecycle eval metrics` lists them") from None


def metric_requests(specs) -> list[tuple[str, dict]]:
    """configs/eval.yaml `metrics:` entries (MetricSpec or dicts) -> [(name, args)] with groups expanded."""
    out = []
    for spec in specs:
        name = spec.name if hasattr(spec, "name") else spec["name"]
        args = spec.args if hasattr(spec, "args") else spec.get("args", {})
        stated = spec.higher_is_better if hasattr(spec, "higher_is_better") else spec.get("higher_is_better")
        for m in expand_names([name]):
            known = get_metric(m).higher_is_better
            # the registry decides the direction; a config that says otherwise is a mistake, not an override
            if stated is not None and known is not None and bool(stated) != known:
                raise ConfigError(f"configs/eval.yaml: metrics: {name}: higher_is_better: {str(stated).lower()} "
                                  f"contradicts the metric ({m}: {'higher' if known else 'lower'} is better)",
                                  hint="remove the line or fix it (`lifecycle eval metrics` shows directions)")
            out.append((m, dict(args or {})))
    return out


def list_metrics() -> list[MetricInfo]:
    return [*METRICS.values(), *CONTEXT_METRICS.values()]


def load_module(name: str, **kwargs):
    """The `evaluate.Metric` module of a metric, loaded from its file (works offline)."""
    import evaluate

    info = get_metric(name)
    return evaluate.load(str(info.module_path), **kwargs)


# direct computation -----------------------------------------------------------------------------
def _family_scorer(module: str) -> Callable:
    # lazy: the scorers import numpy, and the registry serves `eval metrics` and validation without it
    from lifecycle.evaluation.metrics import scorers

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


def _context_scores(names: list[str], predictions: Sequence[str], context: Optional[dict], args: dict) -> dict:
    """Retrieval/groundedness metrics from `context`: {"passages": [[text]], "retrieved": [[chunk or id]],
    "gold": [[id]], "answerable": [bool]}, one entry per prediction."""
    from lifecycle.evaluation.metrics import grounding as rag  # lazy: numpy, as above

    out = {}
    for name in names:
        info = get_metric(name)
        missing = [k for k in info.needs if not context or context.get(k) is None]
        if missing:
            raise EvaluationError(f"metric '{name}' needs {', '.join(missing)} of a retrieval run",
                                  hint="`lifecycle rag eval`, or `lifecycle eval run --rag`, computes it")
        for k in info.needs:
            if len(context[k]) != len(predictions):
                raise EvaluationError(f"metric '{name}': {len(context[k])} {k} for {len(predictions)} predictions")
        threshold = float(args.get(name, {}).get("threshold", 0.75))
        if name.startswith("recall_at_"):
            k = int(args.get(name, {}).get("k", 3)) if name == "recall_at_k" else int(name.rsplit("_", 1)[1])
            out[name] = rag.recall_at_k(context["retrieved"], context["gold"], k)
        elif name == "mrr":
            out[name] = rag.mrr(context["retrieved"], context["gold"])
        elif name == "support_precision":
            out[name] = rag.support_precision(predictions, context["passages"])
        elif name == "unsupported_answer_rate":
            out[name] = rag.unsupported_answer_rate(predictions, context["passages"], threshold)
        elif name == "abstention_rate":
            out[name] = rag.abstention_rate(predictions, context["answerable"])
        else:
            out[name] = rag.citation_validity(predictions, context["passages"])
    return out


_CONTEXT_ARGS = {"recall_at_k": ("k",), "unsupported_answer_rate": ("threshold",)}


def compute_metrics(metrics: Sequence[str | tuple[str, dict]], predictions: Sequence[str],
                    references: Sequence, *, workers: int | None = None, context: Optional[dict] = None) -> dict:
    """{name: scorers.Scores} for each requested metric. `metrics` holds names or (name, args).
    Context metrics (CONTEXT_METRICS, recall_at_<k>) read `context` (see _context_scores)."""
    refs = check_inputs(predictions, references)
    wanted: dict[str, dict] = {}
    with_context: dict[str, dict] = {}
    for m in metrics:
        group, args = (m, {}) if isinstance(m, str) else (m[0], dict(m[1] or {}))
        for name in expand_names([group]):
            info = get_metric(name)
            if name in PROJECT_METRICS:
                if args:
                    raise EvaluationError(f"metric '{name}': your function takes no args from configs/eval.yaml",
                                          hint="remove `args:` (set defaults in the function itself)")
                wanted[name] = {}
                continue
            if info.needs:
                allowed = _CONTEXT_ARGS.get(name, ())
                for key in args:
                    if key not in allowed:
                        raise EvaluationError(f"metric '{info.name}': " + did_you_mean(key, list(allowed) or ["(none)"],
                                                                                     kind="argument"))
                with_context[name] = args
                wanted[name] = args
                continue
            _check_args(info, _family_scorer(info.module), args)
            wanted[name] = args
    context_out = _context_scores(list(with_context), predictions, context, with_context) if with_context else {}
    plain = {n: a for n, a in wanted.items() if n not in with_context and n not in PROJECT_METRICS}
    # group by module so that e.g. all ROUGE types share one tokenisation pass
    groups: dict[tuple, list[str]] = {}
    for name, args in plain.items():
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
    out.update(context_out)
    for name in wanted:
        if name in PROJECT_METRICS:
            from lifecycle.evaluation.metrics.custom import score_custom  # custom imports this module

            out[name] = score_custom(name, PROJECT_METRICS[name][1], predictions, refs)
    return {name: out[name] for name in wanted}
