"""`lifecycle prompt`: render a prompt exactly as the model sees it, measure the token budget,
list the built-in presets. Thin: parse -> call lifecycle.prompting -> print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import sub_app, PROJECT_OPTION, parse_shots

prompt_app = sub_app(
    help="Prompts: the exact text a model sees, its token budget, built-in presets.",
    epilog="Examples:\n\n"
    "  lifecycle prompt render --shots 2\n\n"
    "  lifecycle prompt budget --shots 0,1,3,5\n\n"
    "  lifecycle prompt presets --task summarization",
)

_MODEL = typer.Option(None, "--model", "-m", help="Hub id or local folder; overrides configs/model.yaml.")
_CONFIG = typer.Option(None, "--config", "-c", help="Prompt config file (default: configs/prompt.yaml).")
_PRESET = typer.Option(None, "--preset", help="Use a built-in preset's wording instead of the config's template.")
_DATA = typer.Option(None, "--data", "-d", help="JSONL dataset (default: configs/eval.yaml's dataset, else data/sample.jsonl).")


def _inputs(project, model, config, preset, data, limit=None):
    from lifecycle.project import Project
    from lifecycle.prompting.project_inputs import load_prompt_inputs

    return load_prompt_inputs(Project.find(project), model=model, config=config, preset=preset, data=data, limit=limit)


@prompt_app.command(
    "render",
    epilog="Examples:\n\n"
    "  lifecycle prompt render              # the first example, K = shots.k\n\n"
    "  lifecycle prompt render --shots 2 --example s3\n\n"
    "  lifecycle prompt render --preset dialogue-flan --shots 1\n\n"
    "  lifecycle prompt render --model ./models/flan-t5-base --json\n\n"
    "The prompt is printed exactly (chat template applied), then its token count against the budget, "
    "the shots used and whether anything was cut. Exit code 1 when it cannot fit under the budget policy.",
)
def render_cmd(
    shots: Optional[int] = typer.Option(None, "--shots", "-k", min=0, help="Number of shots K (default: shots.k)."),
    example: Optional[str] = typer.Option(None, "--example", "-e", help="Example id (default: the first)."),
    model: Optional[str] = _MODEL,
    config: Optional[Path] = _CONFIG,
    preset: Optional[str] = _PRESET,
    data: Optional[Path] = _DATA,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Print the exact prompt for one example and its token count."""
    inp = _inputs(project, model, config, preset, data)
    rendered = inp.render_one(example, shots)
    if as_json:
        typer.echo(json.dumps({"id": rendered.id, "text": rendered.text, "model": inp.model_ref,
                               "limit": inp.limit, "context_window": inp.context_window,
                               "preset": inp.cfg.preset, "chat_template": rendered.chat,
                               **rendered.budget_record()}, ensure_ascii=False))
        return
    from lifecycle.text_safety import printable  # the prompt quotes data: escapes are shown, not obeyed

    typer.echo(f"--- prompt for example '{printable(rendered.id)}' (preset: {inp.cfg.preset or 'none'}; "
               f"{'chat template' if rendered.chat else 'plain text'}) ---")
    typer.echo(printable(rendered.text))
    typer.echo("--- end of prompt ---")
    shots_text = f"{rendered.shots_used} of {rendered.shots_requested}"
    if rendered.shot_ids:
        shots_text += f" ({', '.join(rendered.shot_ids)})"
    if rendered.shots_used < rendered.shots_requested:
        shots_text += " - shots dropped to fit the budget"
    end = "end" if inp.cfg.budget.truncate_side == "right" else "start"
    cut = (f"{rendered.truncated_tokens} tokens cut from the {end} of '{rendered.truncated_field}'"
           if rendered.truncated else "no")
    typer.echo(f"tokens: {rendered.n_tokens} of {inp.budget_text()}")
    typer.echo(f"shots: {shots_text}")
    typer.echo(f"truncated: {cut}")
    typer.echo(f"model: {inp.model_ref}")


@prompt_app.command(
    "budget",
    epilog="Examples:\n\n"
    "  lifecycle prompt budget\n\n"
    "  lifecycle prompt budget --shots 0,1,2,4,8\n\n"
    "  lifecycle prompt budget --model ./models/flan-t5-base --data data/dev.jsonl --limit 200\n\n"
    "For each K: the p50 / p95 / max prompt length in tokens over the dataset (exactly K shots, no "
    "budget policy applied) and how many examples fit; then the largest K that fits them all.",
)
def budget_cmd(
    shots: str = typer.Option("0,1,3,5", "--shots", "-k", help="Comma-separated K values."),
    model: Optional[str] = _MODEL,
    config: Optional[Path] = _CONFIG,
    preset: Optional[str] = _PRESET,
    data: Optional[Path] = _DATA,
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Only the first N examples."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Prompt lengths over the dataset for each K, and the largest K that fits every example."""
    from lifecycle.prompting.budget_report import budget_report

    ks = parse_shots(shots, example="0,1,3,5")
    inp = _inputs(project, model, config, preset, data, limit)
    report = budget_report(inp, ks)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    for line in report.lines():
        typer.echo(line)


@prompt_app.command(
    "presets",
    epilog="Examples:\n\n"
    "  lifecycle prompt presets\n\n"
    "  lifecycle prompt presets --task summarization\n\n"
    "Use one with `preset: NAME` in configs/prompt.yaml (fields written next to it override the preset), "
    "or try it with `lifecycle prompt render --preset NAME`.",
)
def presets_cmd(
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task's presets."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """List the built-in prompt presets per task."""
    from lifecycle.errors import PromptError, did_you_mean
    from lifecycle.manifest import Task
    from lifecycle.config.prompt import presets_for

    tasks = [t.value for t in Task]
    if task is not None and task not in tasks:
        raise PromptError(did_you_mean(task, tasks, kind="task"))
    found = presets_for(task)
    if as_json:
        typer.echo(json.dumps([{"name": p.name, "task": p.task, "description": p.description, **p.fields}
                               for p in found], ensure_ascii=False))
        return
    current = None
    for p in found:
        if p.task != current:
            current = p.task
            typer.echo(f"{current}:")
        typer.echo(f"  {p.name:<22} {p.description}")
        typer.echo(f"  {'':<22} template: {json.dumps(p.fields['template'])}"
                   + (f"  answer_prefix: {json.dumps(p.fields['answer_prefix'])}" if p.fields.get("answer_prefix") else "")
                   + f"  target_field: {p.fields['target_field']}")
