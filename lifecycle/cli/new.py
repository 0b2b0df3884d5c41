"""`lifecycle new [DIR]`: scaffold a project from the SCOPE answers (wizard, flags or answers file).

Light imports only: the scaffold library pulls in pydantic, and cookiecutter is imported when
rendering starts; torch/transformers are never touched.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import sub_app
from lifecycle.tasks import task_names

EPILOG = (
    "Examples:\n\n"
    "\b\n"  # click: keep these lines as written
    "  lifecycle new support-summarizer                    # the wizard, on a terminal\n"
    "  lifecycle new demo --no-input --task summarization  # defaults for the rest\n"
    "  lifecycle new triage --no-input --task classification --device cpu \\\n"
    "      --use-case 'Route support tickets' --metric macro_f1 --target 0.8\n"
    "  lifecycle new bot --answers answers.yaml --gpu-memory 80GiB  # flags win over the file\n"
    "  lifecycle new demo --no-input --force    # into a non-empty folder: adds files, keeps yours\n\n"
    "\b\n"
    "Answers file (YAML) keys: name, use_case, task, multi_task, sensitivity,\n"
    "commercial_use, device, gpu_memory, num_gpus, metric, target, adaptation, model."
)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


app = sub_app()  # top-level verbs; lifecycle.cli.main adds them

@app.command(
    "new",
    short_help="Create a project from the SCOPE answers (wizard, flags or --answers).",
    help="Create a project: answer the SCOPE questions, get lifecycle.yaml, configs, a data sample, "
    "code and tests that pass. Without a terminal nothing is asked: give the answers as flags, "
    "--answers FILE or --no-input.",
    epilog=EPILOG,
)
def new(
    directory: Optional[str] = typer.Argument(None, metavar="[DIR]", help="Folder to create: a plain name (default: --name), or . for the current empty folder."),
    name: Optional[str] = typer.Option(None, "--name", help="Project name (default: DIR)."),
    use_case: Optional[str] = typer.Option(None, "--use-case", help="The use case in one sentence."),
    task: Optional[str] = typer.Option(None, "--task", help=" | ".join(task_names()) + "."),
    multi_task: Optional[bool] = typer.Option(None, "--multi-task/--single-task", help="Must one model do several tasks? [default: single]"),
    sensitivity: Optional[str] = typer.Option(None, "--sensitivity", help="public | internal | confidential | restricted [default: internal]."),
    commercial_use: Optional[bool] = typer.Option(None, "--commercial/--non-commercial", help="Must the licence allow commercial use? [default: commercial]"),
    device: Optional[str] = typer.Option(None, "--device", help="gpu | cpu [default: gpu]."),
    gpu_memory: Optional[str] = typer.Option(None, "--gpu-memory", help="Memory of one GPU, e.g. 24GiB or 80GB [default: 24GiB]."),
    num_gpus: Optional[str] = typer.Option(None, "--num-gpus", help="GPUs one job may use [default: 1]."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Success metric [default per task, e.g. rougeL]."),
    target: Optional[str] = typer.Option(None, "--target", help="Target value of the metric [default per task]."),
    adaptation: Optional[str] = typer.Option(None, "--adaptation", help="prompting | peft | full [default: prompting]."),
    model: Optional[str] = typer.Option(None, "--model", help="Hub id or local folder [default per task, e.g. google/flan-t5-base]."),
    answers_file: Optional[Path] = typer.Option(None, "--answers", metavar="FILE.yaml", help="Answers in YAML (keys as in the epilog)."),
    no_input: bool = typer.Option(False, "--no-input", help="Never ask; fill unanswered questions with defaults."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty DIR that is not a project: add the template's files, keep every existing file."),
    output_dir: Path = typer.Option(Path("."), "--output-dir", "-o", help="Parent folder of DIR."),
) -> None:
    from lifecycle.scaffold.flow import NewOptions, check_model_id, gather_answers
    from lifecycle.scaffold.render import NewProject, render_project

    options = NewOptions(
        directory=directory, answers_file=answers_file, no_input=no_input, interactive=_interactive(),
        output_dir=output_dir,
        flags=dict(name=name, use_case=use_case, task=task, multi_task=multi_task, sensitivity=sensitivity,
                   commercial_use=commercial_use, device=device, gpu_memory=gpu_memory, num_gpus=num_gpus,
                   metric=metric, target=target, adaptation=adaptation, model=model),
    )
    gathered = gather_answers(options)
    if gathered.model_chosen:
        note = check_model_id(gathered.answers.model, output_dir)
        if note:
            typer.echo(note, err=True)

    def announce(paths: list[str]) -> None:
        if paths:
            typer.echo(f"--force: keeping {len(paths)} existing file(s) in {gathered.target} as they are:")
            for rel in paths:
                typer.echo(f"  {rel}")

    request = NewProject(answers=gathered.answers, target=gathered.target, model_chosen=gathered.model_chosen,
                         force=force)
    result = render_project(request, announce)
    _print_next_steps(result, gathered.answers, directory or gathered.answers.name, output_dir)


def _print_next_steps(result, answers, folder: str, output_dir: Path) -> None:
    from lifecycle.scaffold.tasks import spec

    where = folder if output_dir == Path(".") else str(output_dir / folder)
    kept = f", {len(result.kept)} existing kept" if result.kept else ""
    typer.echo(f"Created {where}/ ({len(result.files)} files{kept}): {answers.task.value} with {answers.model}, "
               f"success = {answers.metric} {'>=' if spec(answers.task).metric(answers.metric).higher_is_better else '<='} "
               f"{answers.target:g}.")
    gpu = f" --gpu-memory {answers.gpu_memory:g}GiB" if answers.gpu_memory else ""
    steps = [
        *([f"cd {where}"] if folder != "." else []),
        "lifecycle status                   # the four stages and their gates",
        "lifecycle check scope              # the SCOPE checklist, with evidence",
        f"lifecycle select{gpu}   # rank candidate models; --apply ID records the choice",
        "lifecycle prompt render --shots 2  # the exact prompt and its token budget",
        "lifecycle eval run --shots 0,1,3   # the zero/one/few-shot ladder",
        "pytest                             # the project's own tests",
    ]
    if answers.use_case.startswith("TODO"):
        steps.insert(1, "$EDITOR lifecycle.yaml            # write scope.use_case")
    typer.echo("Next steps:\n  " + "\n  ".join(steps))
