"""`lifecycle eval init`: added to the `eval` sub-app (lifecycle/cli/eval.py imports this module)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.eval import eval_app
from lifecycle.cli.options import PROJECT_OPTION


@eval_app.command(
    "init",
    epilog="Examples:\n\n"
    "  lifecycle eval init\n\n"
    "  lifecycle eval init --force     # replace an existing configs/eval.yaml\n\n"
    "  lifecycle eval init --print     # show it without writing\n\n"
    "Then: lifecycle eval run --shots 0,1,3",
)
def eval_init_cmd(
    force: bool = typer.Option(False, "--force", help="Overwrite an existing configs/eval.yaml."),
    show: bool = typer.Option(False, "--print", help="Print the config instead of writing it."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Write configs/eval.yaml for the project's task: data fields, shots, metric suite, targets."""
    from lifecycle.evaluation.eval_init import eval_config_text, write_eval_config
    from lifecycle.project import Project

    proj = Project.find(project)
    if show:
        typer.echo(eval_config_text(proj)[1], nl=False)
        return
    result = write_eval_config(proj, force=force)
    verb = "replaced" if result.overwritten else "wrote"
    names = ", ".join(m.name for m in result.config.metrics)
    typer.echo(f"{verb} {result.path.relative_to(proj.root)}: task {result.config.task}, shots "
               f"{result.config.shots}, metrics {names}")
    typer.echo("next: lifecycle eval run --shots " + ",".join(map(str, result.config.shots)))
