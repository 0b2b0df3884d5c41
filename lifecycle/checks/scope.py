"""SCOPE: the decisions are written down and the data the project will use parses."""

from __future__ import annotations

from lifecycle.checks.manual import attested
from lifecycle.checks.registry import failed, passed, register, todo
from lifecycle.errors import DataError

MIN_SAMPLE = 20


@register("scope.manifest_valid", "scope", "lifecycle.yaml and its config files validate")
def manifest_valid(ctx):
    report = ctx.validation
    problems = report.problems
    files = [ctx.shown(f.path) for f in report.files]
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return failed(problems[0] + more, "run `lifecycle validate` to see every problem with file and line",
                      problems=problems)
    return passed(f"{len(files)} files validate: {', '.join(files)}", files=files)


@register("scope.use_case", "scope", "a use case and a task are stated")
def use_case(ctx):
    scope = ctx.manifest.scope
    text = scope.use_case.strip()
    if text.upper().startswith("TODO"):  # the placeholder `lifecycle new --no-input` writes
        return todo("the use case is still the placeholder from `lifecycle new`",
                    "write one sentence in lifecycle.yaml scope.use_case: who uses it, for what")
    if len(text.split()) < 3:
        return failed(f"the use case '{text}' is too short to guide the project",
                      "write one sentence in lifecycle.yaml scope.use_case: who uses it, for what")
    return passed(f"{scope.task.value}: {text}", task=scope.task.value, use_case=text)


@register("scope.target_metric", "scope", "a success metric with a target is set and evaluated")
def target_metric(ctx):
    from lifecycle.errors import EvaluationError
    from lifecycle.evaluation.metrics.registry import get_metric

    success = ctx.manifest.scope.success
    evidence = {"metric": success.metric, "target": success.target}
    try:
        info = get_metric(success.metric)
    except EvaluationError as err:
        return failed(f"scope.success.metric: {err}", "pick a metric from `lifecycle eval metrics`", **evidence)
    if info.higher_is_better is None:
        return failed(f"{success.metric} is descriptive (no better direction), so it cannot be a target",
                      "pick a scored metric from `lifecycle eval metrics`", **evidence)
    if info.higher_is_better != success.higher_is_better:
        return failed(f"scope.success.higher_is_better is {str(success.higher_is_better).lower()} but higher "
                      f"{success.metric} is {'better' if info.higher_is_better else 'worse'}",
                      "fix scope.success.higher_is_better in lifecycle.yaml", **evidence)
    report = ctx.validation.get("eval")
    if report is None or not report.path.is_file():
        return todo(f"target {success.metric} {'>=' if success.higher_is_better else '<='} {success.target}; "
                    "no eval config measures it yet", "run `lifecycle eval init`", **evidence)
    ev = ctx.eval_config
    names = [m.name for m in ev.metrics]
    if success.metric not in names:
        return failed(f"scope.success.metric '{success.metric}' is not among the metrics of "
                      f"{ctx.shown(report.path)} ({', '.join(names)})",
                      "add it to the eval metrics or pick one of them in lifecycle.yaml scope.success.metric",
                      **evidence)
    return passed(f"{success.metric} {'>=' if success.higher_is_better else '<='} {success.target} "
                  f"(lower confidence bound of the best run)", **evidence)


@register("scope.data_sample", "scope", "the data sample parses with the task's fields")
def data_sample(ctx):
    path = ctx.path(ctx.manifest.data.sample)
    fields = ctx.sample_fields()
    try:
        examples = ctx.sample
    except DataError as err:
        return failed(str(err), err.hint or f"each line of {ctx.shown(path)} must be a JSON object with "
                      f"{', '.join(fields)}", path=ctx.shown(path), fields=fields)
    evidence = {"path": ctx.shown(path), "examples": len(examples), "fields": fields}
    if len(examples) < MIN_SAMPLE:
        return failed(f"{ctx.shown(path)} has {len(examples)} examples; at least {MIN_SAMPLE} are needed to "
                      "compare prompts and runs", "add examples from your real data to the sample", **evidence)
    return passed(f"{ctx.shown(path)}: {len(examples)} examples with {', '.join(fields)}", **evidence)


@register("scope.responsible_ai", "scope", "responsible-AI review of the use case and data", "manual")
def responsible_ai(ctx):
    return attested(ctx, "scope.responsible_ai",
                    "review risks, data sensitivity and who is affected by wrong outputs")
