"""The interactive SCOPE wizard (only on a TTY). Questions come from lifecycle/templates/project/prompts.yaml;
answers are validated by the same pydantic model as flags and answers files, and a rejected answer
is asked again with the reason. Ctrl-C raises click's Abort: nothing has been written yet."""

from __future__ import annotations

from typing import Any

import click

from lifecycle.errors import ScaffoldError
from lifecycle.manifest import DEFAULT_METRIC, Task
from lifecycle.scaffold.answers import Answers, Sources, validate_answers
from lifecycle.scaffold.tasks import spec
from lifecycle.scaffold.template import questions


def _default(field: str, values: dict[str, Any]) -> Any:
    if values.get(field) not in (None, ""):  # e.g. the name from DIR
        return values[field]
    task = values.get("task")
    task_ok = task in Task._value2member_map_
    if field == "metric" and task_ok:
        return DEFAULT_METRIC[Task(task)][0]
    if field == "target" and task_ok:
        metric, target = DEFAULT_METRIC[Task(task)]
        return target if values.get("metric", metric) == metric else None
    if field == "model" and task_ok:
        return spec(task).default_model
    if field == "use_case":
        return None
    info = Answers.model_fields[field]
    if info.is_required():
        return None
    default = info.get_default(call_default_factory=True)
    return getattr(default, "value", default)


def _ask(field: str, question: dict, values: dict[str, Any]) -> Any:
    label = question.get("title", field)
    text = f"{label} ({question['text']})" if question.get("text") else label
    default = _default(field, values)
    choices = question.get("choices")
    if question.get("choices_from_task") and values.get("task") in Task._value2member_map_:
        choices = spec(values["task"]).metric_names
    kind = question.get("kind")
    if kind == "bool":
        return click.confirm(text, default=bool(default))
    if choices:
        return click.prompt(text, type=click.Choice(choices), default=default if default in choices else choices[0])
    value_type = {"int": int, "float": float}.get(kind, str)
    return click.prompt(text, default=default, type=value_type, show_default=default is not None)


def _applies(question: dict, values: dict[str, Any]) -> bool:
    return all(values.get(k) == v for k, v in (question.get("only_if") or {}).items())


def run_wizard(sources: Sources) -> Answers:
    """Ask every question the flags and answers file left open; re-ask rejected answers."""
    all_questions = questions()
    given = {**sources.file_data, **sources.flags}
    todo = [f for f in all_questions if f not in given]
    click.echo("New project: the SCOPE questions (Ctrl-C to stop; nothing is written until the end).")
    while True:
        for field in todo:
            values = sources.merged()
            if _applies(all_questions[field], values):
                sources.asked[field] = _ask(field, all_questions[field], values)
        try:
            return validate_answers(sources)
        except ScaffoldError as err:
            click.echo(f"error: {err}", err=True)
            todo = [f for f in getattr(err, "fields", []) if f in all_questions and f not in given]
            if not todo:
                raise
            for field in todo:  # a rejected answer is not offered again as the default
                sources.asked.pop(field, None)
