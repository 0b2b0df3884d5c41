"""`lifecycle runs ls | rm | export`: the run folders under runs/. Thin: parse -> call -> print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

runs_app = sub_app(
    help="List, remove and export the run folders under runs/.",
    epilog="Examples:\n\n"
    "  lifecycle runs ls\n\n"
    "  lifecycle runs ls --kind eval --json\n\n"
    "  lifecycle runs rm 20261201T101500123456Z-eval-1a2b3c4\n\n"
    "  lifecycle runs export --to mlflow --tracking-uri http://localhost:5000",
)


@runs_app.command("ls", epilog="Examples:\n\n  lifecycle runs ls\n\n  lifecycle runs ls --kind finetune\n\n"
                  "  lifecycle runs ls --json\n\nThe metric column is lifecycle.yaml's success metric "
                  "(value and confidence interval) when the run measured it.")
def ls_cmd(
    kind: Optional[str] = typer.Option(None, "--kind", help="Only runs of this kind (eval, finetune, generate, ...)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON list instead of the table."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """List runs, oldest first: id, kind, status, created, key metric."""
    from lifecycle.project import find_root
    from lifecycle.tracking.listing import list_rows

    rows = list_rows(find_root(project), kind=kind)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    if not rows:
        typer.echo("no runs yet (runs/ is empty); start with `lifecycle eval run`")
        return
    width = max(len(r.id) for r in rows)
    typer.echo(f"{'ID':{width}}  {'KIND':9} {'STATUS':11} {'CREATED':27} METRIC")
    for r in rows:
        typer.echo(f"{r.id:{width}}  {r.kind:9} {r.status:11} {r.created:27} {r.metric}")


@runs_app.command("rm", epilog="Examples:\n\n  lifecycle runs rm 20261201T101500123456Z-eval-1a2b3c4\n\n"
                  "  lifecycle runs rm 1a2b3c4            # a unique id suffix or prefix\n\n"
                  "  lifecycle runs rm 1a2b3c4 --force    # even if a check uses it as evidence\n\n"
                  "Only folders directly under runs/ holding a run.yaml are removed; symlinks never.")
def rm_cmd(
    runs: list[str] = typer.Argument(..., metavar="RUN...", help="Run ids (or unique prefix/suffix) or folders."),
    force: bool = typer.Option(False, "--force", help="Remove even a running run or one that checks use as evidence."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Delete run folders; refuses runs that are running or that checks use as evidence."""
    from lifecycle.project import find_root
    from lifecycle.tracking.listing import remove_run

    root = find_root(project)
    for ref in runs:
        run, users = remove_run(root, ref, force=force)
        note = f" (was evidence for {', '.join(users)})" if users else ""
        typer.echo(f"removed {run.id}{note}")


@runs_app.command("export", epilog="Examples:\n\n  lifecycle runs export --to mlflow            # ./mlruns, or $MLFLOW_TRACKING_URI\n\n"
                  "  lifecycle runs export --to mlflow --tracking-uri http://localhost:5000\n\n"
                  "  lifecycle runs export --to mlflow --kind eval --experiment support-summarizer\n\n"
                  "  mlflow ui --backend-store-uri ./mlruns    # then browse them\n\n"
                  "Runs already exported to the experiment (tag lifecycle.run_id) are skipped.")
def export_cmd(
    to: str = typer.Option(..., "--to", help="Tracker: mlflow."),
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help="Default: $MLFLOW_TRACKING_URI or ./mlruns."),
    experiment: Optional[str] = typer.Option(None, "--experiment", help="Default: the project name."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only runs of this kind."),
    run_ids: Optional[list[str]] = typer.Argument(None, metavar="[RUN...]", help="Default: every finished run."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Log run folders (params, metrics with CI bounds, per-step loss, reports) to an experiment tracker."""
    from lifecycle.project import find_root
    from lifecycle.runs.store import RunStore
    from lifecycle.tracking.mlflow_export import default_tracking_uri, export_runs

    if to != "mlflow":
        raise typer.BadParameter(f"'{to}' is not supported; use mlflow", param_hint="--to")
    root = find_root(project)
    store = RunStore(root / "runs")
    if run_ids:
        runs = [store.get(r) for r in run_ids]
    else:  # a run still being written is not evidence yet
        runs = [r for r in store.list(kind=kind) if r.status != "running"]
    uri = tracking_uri or default_tracking_uri(root)
    result = export_runs(runs, tracking_uri=uri, experiment=experiment or root.name)
    for run_id, mlflow_id in result.exported:
        typer.echo(f"exported {run_id} -> mlflow run {mlflow_id}")
    for run_id in result.skipped:
        typer.echo(f"skipped  {run_id} (already in experiment {result.experiment})")
    typer.echo(f"{len(result.exported)} exported, {len(result.skipped)} skipped: {uri} experiment {result.experiment}")
