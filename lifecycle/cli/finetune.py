"""`lifecycle finetune`: full or PEFT fine-tuning on the project's prompt format, resumable after a
crash, optionally distributed with accelerate; `lifecycle finetune merge RUN` folds a LoRA adapter
into the base weights. Thin: parse -> lifecycle.finetune -> print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import sub_app, PROJECT_OPTION

from lifecycle.cli.choices import METHOD, METHOD_HELP, METHOD_LIST  # --method: the method registry's names

finetune_app = sub_app(
    help=f"Fine-tune the project's model ({METHOD_LIST}) on configs/finetune.yaml, "
    "then evaluate it against the zero-shot baseline.",
    epilog="Examples:\n\n"
    "  lifecycle finetune --method lora --max-steps 200\n\n"
    "  lifecycle finetune --resume                      # after a crash: continue from the last complete checkpoint\n\n"
    "  lifecycle finetune --resume --run 20260101T1200  # a specific run\n\n"
    "  lifecycle finetune --launch accelerate --config-file configs/accelerate/multi_gpu.yaml\n\n"
    "  lifecycle finetune merge RUN --out models/merged",
    invoke_without_command=True,
    no_args_is_help=False,  # a bare `lifecycle finetune` trains
)


@finetune_app.callback()
def finetune_cmd(
    ctx: typer.Context,
    method: Optional[str] = typer.Option(None, "--method", parser=METHOD, metavar="METHOD",
                                         help=METHOD_HELP + " Default: configs/finetune.yaml's method."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Stop after N optimizer steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue the latest unfinished run from its last complete checkpoint."),
    run: Optional[str] = typer.Option(None, "--run", help="With --resume: the run to continue (id, prefix or folder)."),
    force: bool = typer.Option(False, "--force", help="Resume even though the model, data or method changed."),
    launch: Optional[str] = typer.Option(None, "--launch", help="'accelerate': run distributed with accelerate launch."),
    config_file: Optional[Path] = typer.Option(None, "--config-file", help="accelerate config (configs/accelerate/*.yaml)."),
    no_eval: bool = typer.Option(False, "--no-eval", help="Skip evaluating the tuned model afterwards."),
    project_dir: Optional[Path] = PROJECT_OPTION,
    worker_run: Optional[Path] = typer.Option(None, "--worker-run", hidden=True),
    worker_resume_from: Optional[Path] = typer.Option(None, "--worker-resume-from", hidden=True),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from lifecycle.project import Project

    project = Project.find(project_dir)
    if worker_run is not None:  # one process of `accelerate launch`, started by --launch
        from lifecycle.finetune.pipeline import worker

        worker(project, worker_run, worker_resume_from, typer.echo)
        return
    import sys

    from lifecycle.finetune.pipeline import FinetuneRequest, finetune

    req = FinetuneRequest(method=method, max_steps=max_steps, resume=resume, run=run, force=force, launch=launch,
                          config_file=config_file, evaluate=not no_eval, argv=["lifecycle", *sys.argv[1:]],
                          echo=typer.echo)
    done = finetune(project, req)
    typer.echo(f"run folder: {done.path}")


@finetune_app.command(
    "merge",
    epilog="Examples:\n\n"
    "  lifecycle finetune merge 20260101T1200          # a new merge run: runs/<time>-merge-<hash>/model/\n\n"
    "  lifecycle finetune merge RUN --out models/summarizer-merged\n\n"
    "  python -c \"from transformers import AutoModelForSeq2SeqLM as A; A.from_pretrained('models/summarizer-merged')\"\n\n"
    "--overwrite replaces only an earlier merged model (a folder this command wrote); the project, runs/, "
    "data/, configs/ and any other folder are never replaced.",
)
def merge_cmd(
    run: str = typer.Argument(..., help="A finetune run with a LoRA adapter (id, prefix or folder)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder: new, empty, or an earlier merged model with --overwrite (default: a new merge run)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier merged model at --out (never anything else)."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Merge a LoRA adapter into the base weights: a folder plain transformers loads."""
    from lifecycle.finetune.merge import merge_run
    from lifecycle.project import Project

    project = Project.find(project_dir)
    target = merge_run(project, run, out=out, overwrite=overwrite)
    typer.echo(f"merged model: {target}")
