"""What the project template renders from: the validated answers and everything derived from them
(manifest, task spec, per-config values), built once in Python so that the template only lays out
text. Shared by `lifecycle new` and a plain `cookiecutter lifecycle/templates/project` run (via the Jinja
extension), so both produce the same project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.manifest import Adaptation, Manifest
from lifecycle.scaffold.answers import Answers
from lifecycle.scaffold.tasks import TaskSpec, spec

# Keys of the cookiecutter context that are answers (the rest are template bookkeeping).
ANSWER_KEYS = tuple(Answers.model_fields)


@dataclass(frozen=True)
class ProjectView:
    answers: Answers
    manifest: Manifest
    spec: TaskSpec
    finetune_method: str
    lifecycle_version: str

    @property
    def task(self) -> str:
        return self.answers.task.value

    @property
    def eval_yaml(self) -> str:
        """configs/eval.yaml, rendered by the one renderer `lifecycle eval init` uses."""
        from lifecycle.config.eval import EvalConfig
        from lifecycle.evaluation.eval_yaml import CUSTOM_METRIC, eval_config_data, render_eval_config
        from lifecycle.prompt_template import template_fields

        m = self.manifest
        data = eval_config_data(
            task=self.task, sample=m.data.sample, id_field="id", inputs=template_fields(self.spec.template),
            target_field=self.spec.reference_field, prompt_file=m.adaptation.prompt,
            generation_file=m.adaptation.generation, success=m.scope.success, n_examples=None,
            custom=[{**CUSTOM_METRIC, "function": f"{m.project.package}.{CUSTOM_METRIC['function']}"}])
        return render_eval_config(EvalConfig.model_validate(data), preset="greedy")

    @property
    def arithmetic_jsonl(self) -> str:
        """data/tools/arith.jsonl: the generator `lifecycle tools arith-set` uses, at its defaults."""
        from lifecycle.tools.arithmetic import arithmetic_jsonl

        return arithmetic_jsonl()

    @property
    def targets(self) -> list[dict[str, Any]]:
        success = self.manifest.scope.success
        return [{"metric": success.metric, "value": success.target, "higher_is_better": success.higher_is_better}]


def answers_from_context(ctx: dict[str, Any]) -> tuple[Answers, bool]:
    """Cookiecutter context -> Answers. Empty strings mean 'use the default'."""
    values = {k: ctx[k] for k in ANSWER_KEYS if k in ctx and ctx[k] not in ("", None)}
    chosen = str(ctx.get("model_chosen", False)).lower() in ("true", "yes", "1")
    return Answers.model_validate(values), chosen


def build_view(answers: Answers, *, model_chosen: bool) -> ProjectView:
    from lifecycle import __version__

    method = "full" if answers.adaptation == Adaptation.full else "lora"
    return ProjectView(
        answers=answers, manifest=answers.to_manifest(model_chosen=model_chosen), spec=spec(answers.task),
        finetune_method=method, lifecycle_version=__version__,
    )


_CACHE: dict[tuple, ProjectView] = {}


def view_from_context(ctx: dict[str, Any]) -> ProjectView:
    """Called once per rendered file; cached on the answer values."""
    key = tuple((k, str(ctx.get(k))) for k in ANSWER_KEYS + ("model_chosen",))
    if key not in _CACHE:
        answers, chosen = answers_from_context(ctx)
        _CACHE.clear()
        _CACHE[key] = build_view(answers, model_chosen=chosen)
    return _CACHE[key]
