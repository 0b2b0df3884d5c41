"""`lifecycle eval init`: write configs/eval.yaml for the project's task.

The config is derived, not guessed: dataset fields from the prompt config and the data sample (both
checked), the metric suite of the task (with each metric's direction), the target from
lifecycle.yaml scope.success. It is validated by `EvalConfig` and re-read from the rendered text
before anything is written, and an existing file is only replaced with `force`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lifecycle.config.eval import EvalConfig
from lifecycle.config.yaml_io import atomic_write_text, parse_yaml, validate_data
from lifecycle.data import load_jsonl
from lifecycle.errors import ConfigError, DataError, LifecycleError
from lifecycle.evaluation.metrics.registry import expand_names, suite
from lifecycle.hooks import load_function
from lifecycle.prompt_template import template_fields

DEFAULT_SHOTS = (0, 1, 3)
RUN_COMMAND = "lifecycle eval run --shots 0,1,3"


@dataclass
class EvalInitResult:
    path: Path
    config: object   # lifecycle.config.eval.EvalConfig
    text: str
    overwritten: bool


def _suite(task):
    """(name, higher_is_better, note) for the task's metric suite; directions from the metric registry."""
    return [(m.name, m.higher_is_better, m.note) for m in suite(task)]


def build_eval_config(project):
    """The EvalConfig for a project (lifecycle.project.Project); raises ConfigError/DataError."""
    manifest = project.manifest
    prompt = project.prompt_config()
    inputs = template_fields(prompt.template)
    if not inputs:
        raise ConfigError(f"{manifest.adaptation.prompt}: template has no {{field}} placeholder, so there is "
                          "nothing to evaluate on", hint="add the input field, e.g. {dialogue}")
    sample = manifest.data.sample
    needed = [prompt.id_field, *inputs, prompt.target_field]
    examples = load_jsonl(project.path(sample), id_field=prompt.id_field, limit=50,
                          fields=dict(prompt.fields or {}) or None)
    for i, ex in enumerate(examples, start=1):
        missing = [f for f in needed if f != prompt.id_field and f not in ex]
        if missing:
            raise DataError(f"{sample}: example {i} lacks {', '.join(missing)} (the prompt config reads them); "
                            f"fields: {', '.join(sorted(ex))}",
                            hint="make data and configs/prompt.yaml agree, then re-run `lifecycle eval init`")
    return EvalConfig.model_validate(eval_config_data(
        task=manifest.scope.task.value, sample=sample, id_field=prompt.id_field, inputs=inputs,
        target_field=prompt.target_field, prompt_file=manifest.adaptation.prompt,
        generation_file=manifest.adaptation.generation, success=manifest.scope.success,
        n_examples=len(examples), custom=_custom_metrics(project)))


def _custom_metrics(project) -> list[dict]:
    """The example custom metric of the template, when the project's package still has it."""
    package = project.manifest.project.package
    spec = f"{package}.{CUSTOM_METRIC['function']}"
    try:
        load_function(project.root, package, spec, where="src")
    except LifecycleError:
        return []
    return [{**CUSTOM_METRIC, "function": spec}]


# The template's example of a project metric (src/<package>/metrics.py); `function` is relative to the package.
CUSTOM_METRIC = {"name": "relative_length", "function": "metrics:relative_length", "higher_is_better": None}


def eval_config_data(*, task: str, sample: str, id_field: str, inputs: list[str], target_field: str,
                     prompt_file: str, generation_file: str, success, n_examples: int | None,
                     custom: list[dict] = ()) -> dict:
    """configs/eval.yaml as data: the one definition `lifecycle new` (through the scaffold view)
    and `lifecycle eval init` both render with `render_eval_config`."""
    metrics = [{"name": n, "higher_is_better": h} for n, h, _ in _suite(task)]
    expand_names([success.metric] + [m["name"] for m in metrics])  # unknown names: did-you-mean, now
    if success.metric not in {m["name"] for m in metrics}:
        metrics.insert(0, {"name": success.metric, "higher_is_better": success.higher_is_better})
    metrics += [dict(m) for m in custom if m["name"] not in {x["name"] for x in metrics}]
    shots = [k for k in DEFAULT_SHOTS if n_examples is None or k < n_examples] or [0]
    return {
        "task": task,
        "dataset": {"path": sample, "id_field": id_field, "input_fields": inputs,
                    "reference_field": target_field, "limit": None},
        "prompt": prompt_file,
        "generation": generation_file,
        "model": "configs/model.yaml",
        "shots": shots,
        "metrics": metrics,
        "targets": [{"metric": success.metric, "value": success.target,
                     "higher_is_better": success.higher_is_better}],
        "bootstrap_samples": 1000,
        "confidence": 0.95,
        "seed": 42,
    }


def _v(value) -> str:
    """A YAML scalar or flow sequence (JSON is valid YAML flow syntax)."""
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def render_eval_config(cfg, *, preset: str | None = None) -> str:
    notes = {n: note for n, _, note in _suite(cfg.task)}
    lines = [
        "# yaml-language-server: $schema=../.lifecycle/schemas/eval.schema.json",
        "# Used by: lifecycle eval run, lifecycle eval sweep, lifecycle check",
        f"# Run it: {RUN_COMMAND}   (one run per shot count; `lifecycle check adapt` reads them)",
        f"# What `lifecycle eval run` scores for task {cfg.task}, on which data, against which targets.",
        "# Edit freely (`lifecycle validate` checks it); `lifecycle eval init --force` writes it afresh.",
        f"task: {_v(cfg.task)}",
        "dataset:",
        f"  path: {_v(cfg.dataset.path)}   # point at the real data once you have it",
        f"  id_field: {_v(cfg.dataset.id_field)}",
        f"  input_fields: {_v(cfg.dataset.input_fields)}   # the prompt template's placeholders",
        f"  reference_field: {_v(cfg.dataset.reference_field)}",
        f"  limit: {_v(cfg.dataset.limit)}   # score only the first N examples (quick checks)",
        f"prompt: {_v(cfg.prompt)}",
        f"generation: {_v(cfg.generation)}" + (f"   # preset: {preset}" if preset else ""),
        f"model: {_v(cfg.model)}",
        f"shots: {_v(cfg.shots)}   # the in-context-learning ladder: zero-, one- and few-shot",
        f"# The metric suite for {cfg.task}; each declares its direction.",
        "metrics:",
    ]
    for m in cfg.metrics:
        if m.function:
            lines += [f"  - name: {_v(m.name)}   # your own metric, in src/: the mean of f(prediction, reference)",
                      f"    function: {_v(m.function)}",
                      f"    higher_is_better: {_v(m.higher_is_better)}   # true / false / null (descriptive)"]
            continue
        note = notes.get(m.name, "the scope's success metric")
        lines += [f"  - name: {_v(m.name)}   # {note}", f"    higher_is_better: {_v(m.higher_is_better)}"]
    lines.append("# From scope.success in lifecycle.yaml: the best run's lower confidence bound must reach it.")
    lines.append("targets:" if cfg.targets else "targets: []")
    for t in cfg.targets:
        lines += [f"  - metric: {_v(t.metric)}", f"    value: {_v(t.value)}",
                  f"    higher_is_better: {_v(t.higher_is_better)}"]
    lines += [f"bootstrap_samples: {_v(cfg.bootstrap_samples)}   # resamples for the confidence intervals",
              f"confidence: {_v(cfg.confidence)}", f"seed: {_v(cfg.seed)}"]
    return "\n".join(lines) + "\n"


def eval_config_text(project):
    """(EvalConfig, its text): what `eval init` writes or prints, re-read and checked equal."""
    target = project.path(project.manifest.evaluation.config)
    cfg = build_eval_config(project)
    try:
        preset = project.generation_config().preset
    except LifecycleError:  # a broken generation.yaml is `lifecycle validate`'s to report
        preset = None
    text = render_eval_config(cfg, preset=preset)
    reread = validate_data(EvalConfig, parse_yaml(text, target), target)
    if reread != cfg:  # the rendered text must say exactly what was validated
        raise ConfigError(f"{target}: internal error: rendered config differs from the validated one")
    return cfg, text


def write_eval_config(project, *, force: bool = False) -> EvalInitResult:
    """Build, render, re-validate and atomically write the project's eval config."""
    target = project.path(project.manifest.evaluation.config)
    exists = target.exists()
    if exists and not force:
        raise ConfigError(f"{target}: already exists; not overwriting it",
                          hint="pass --force to replace it (your edits in it will be lost)")
    cfg, text = eval_config_text(project)
    atomic_write_text(target, text)
    return EvalInitResult(target, cfg, text, exists)
