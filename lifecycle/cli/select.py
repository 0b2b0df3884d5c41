"""`lifecycle select`: rank catalog models for the project's scope, or record one with --apply.
Thin: parse -> call lifecycle.catalog.selection -> print. torch loads only when ranking estimates memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from lifecycle.cli.display import console, params_label
from lifecycle.cli.options import sub_app, PROJECT_OPTION


def _rank_with_progress(rank, req, only):
    """Each uncached memory estimate simulates a step (about a second a model): show which one runs,
    on stderr and only on a terminal."""
    import sys

    if not sys.stderr.isatty():
        return rank(req, only)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("ranking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, model_id: str) -> None:
            bar.update(task, completed=done, total=total, description=model_id)

        return rank(req, only, progress)


app = sub_app()  # top-level verbs; lifecycle.cli.main adds them

@app.command(
    "select",
    epilog="Examples:\n\n"
    "  lifecycle select\n\n"
    "  lifecycle select --gpu-memory 24GiB --top 5\n\n"
    "  lifecycle select --memory 16GiB --json\n\n"
    "  lifecycle select --apply google/flan-t5-base\n\n"
    "  lifecycle select --apply models/flan-t5-base   # a local folder (offline); its README.md `base_model:` names the catalog model",
)
def select_cmd(
    gpu_memory: Optional[str] = typer.Option(None, "--gpu-memory", help="Override scope.hardware: one GPU's memory, e.g. 24GiB or 80GB (binary units: 80GB = 80GiB, as in `new`)."),
    memory: Optional[str] = typer.Option(None, "--memory", help="RAM budget for CPU projects (default: this machine's RAM, the rule `check select` uses too)."),
    top: Optional[int] = typer.Option(None, "--top", min=1, help="Show only the best N."),
    only: Optional[List[str]] = typer.Option(None, "--candidate", help="Evaluate only these ids (repeatable)."),
    apply: Optional[str] = typer.Option(None, "--apply", help="Record this model (catalog id or local folder) in lifecycle.yaml and configs/model.yaml."),
    project: Optional[Path] = PROJECT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Rank catalog models for this project's scope, with a reason per criterion; --apply records one."""
    from lifecycle.catalog.selection import apply_selection, request_for_project
    from lifecycle.project import Project

    proj = Project.find(project)
    if apply:
        name, reason = apply_selection(proj, apply, gpu_memory=gpu_memory, memory=memory)
        typer.echo(f"selected {name}: {reason}")
        typer.echo(f"updated {proj.manifest_path.name} (selection.model, selection.reason) and configs/model.yaml (model)")
        return
    from lifecycle.catalog.selection import rank

    req, data_note = request_for_project(proj, gpu_memory=gpu_memory, memory=memory)
    cands = _rank_with_progress(rank, req, only)
    shown = cands[:top] if top else cands
    if as_json:
        typer.echo(json.dumps({"task": req.task, "method": req.method, "budget_bytes": req.budget.bytes,
                               "memory_request": {k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in req.memory.__dict__.items()},
                               "data_tokens": req.tokens, "data_note": data_note,
                               "candidates": [c.to_dict() for c in shown]}, indent=2))
        return
    from rich.markup import escape

    con = console()
    con.print(f"[bold]task[/bold] {req.task}; [bold]adaptation[/bold] {req.method}; "
              f"[bold]budget[/bold] {escape(req.budget.describe())}")
    con.print(f"[dim]{escape(data_note)}[/dim]")
    for i, c in enumerate(shown, 1):
        mark = "[green]OK[/green]" if c.ok else f"[red]{c.passed}/{len(c.criteria)}[/red]"
        con.print(f"{i:>2}. {mark} [bold]{c.entry.id}[/bold] ({params_label(c.entry.parameters)})")
        for crit in c.criteria:
            sym = "[green]pass[/green]" if crit.passed else "[red]fail[/red]"
            con.print(f"      {sym} {crit.name}: {escape(crit.reason)}")
        for note in c.notes:
            con.print(f"      [yellow]note[/yellow] {escape(note)}")
    best = next((c for c in cands if c.ok), None)
    if best:
        con.print(f"\nnext: lifecycle select --apply {best.entry.id}")
