"""The project's own metrics: configs/eval.yaml entries that name a function in the project's
src/ package, scored by `lifecycle eval run` next to the built-in suite, with the same bootstrap
intervals and paired tests.

    metrics:
      - name: relative_length
        function: my_pkg.metrics:relative_length   # def relative_length(prediction: str, reference: str) -> float
        higher_is_better: null                  # true / false / null (descriptive: no better direction)

The function scores one example; the run's value is the mean over examples. With several
references an example scores its best reference (as SQuAD's F1 does; the lowest when lower is better).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from lifecycle.errors import EvaluationError
from lifecycle.evaluation.metrics.registry import CONTEXT_METRICS, GROUPS, METRICS, PROJECT_METRICS, MetricInfo
from lifecycle.hooks import load_function


def register_project_metrics(project, specs) -> list[str]:
    """Load every `function:` metric of configs/eval.yaml (replacing an earlier project's)."""
    PROJECT_METRICS.clear()
    names = []
    for i, spec in enumerate(specs):
        function = getattr(spec, "function", None)
        if not function:
            continue
        where = f"configs/eval.yaml: metrics.{i}.function"
        if spec.name in METRICS or spec.name in CONTEXT_METRICS or spec.name in GROUPS:
            raise EvaluationError(f"{where}: '{spec.name}' is a built-in metric; give your function another name")
        func = load_function(project.root, project.manifest.project.package, function, where=where)
        info = MetricInfo(spec.name, "custom", spec.higher_is_better, "mean", "",
                          f"your function {function} (mean over examples)")
        PROJECT_METRICS[spec.name] = (info, func)
        names.append(spec.name)
    return names


def score_custom(name: str, func: Callable, predictions: Sequence[str], references: Sequence[Sequence[str]]):
    from lifecycle.evaluation.metrics.scorers import mean_scores  # lazy: numpy, only when scoring

    lower_better = PROJECT_METRICS[name][0].higher_is_better is False if name in PROJECT_METRICS else False
    values = []
    for i, (pred, refs) in enumerate(zip(predictions, references)):
        try:
            scores = [float(func(pred, ref)) for ref in (refs or [""])]
        except Exception as err:  # the user's code: one line naming the metric and the example
            raise EvaluationError(f"metric {name}: your function failed on example {i + 1}: "
                                  f"{type(err).__name__}: {err}", hint="fix it in your src/ package; `pytest` runs "
                                  "its tests") from err
        best = min(scores) if lower_better else max(scores)  # the best reference, in the metric's direction
        if not math.isfinite(best):
            raise EvaluationError(f"metric {name}: your function returned {best} on example {i + 1}",
                                  hint="return a finite number for every example")
        values.append(best)
    return mean_scores(values)
