"""Top-level project commands: `validate`, `check`, `status`, `schema`. Thin: parse -> call -> print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import sub_app, PROJECT_OPTION

_SYMBOL = {"pass": "[green]PASS[/green]", "fail": "[red]FAIL[/red]", "todo": "[yellow]TODO[/yellow]"}


def _root(project: Optional[Path]) -> Path:
    from lifecycle.project import find_root

    return find_root(project)


def _console(err: bool = False):
    from rich.console import Console

    return Console(stderr=err, highlight=False, soft_wrap=True)


app = sub_app()  # top-level verbs; lifecycle.cli.main adds them

@app.command(
    "validate",
    epilog="Examples:\n\n"
    "  lifecycle validate\n\n"
    "  lifecycle validate --project path/to/project\n\n"
    "Exit code 2 when any file has a problem; every problem is listed as file:line: field: what.",
)
def validate_cmd(
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Validate lifecycle.yaml and every config file it references; report every error at once."""
    from lifecycle.checks.validate import validate_project

    report = validate_project(_root(project))
    report.raise_for_problems()
    shown = ", ".join(str(f.path.relative_to(report.root)) if f.path.is_relative_to(report.root) else str(f.path)
                      for f in report.files)
    typer.echo(f"valid: {shown}")
    for d in report.data:
        typer.echo(f"  data: {d.describe()}")


def _print_results(results, console) -> None:
    from rich.markup import escape

    from lifecycle.text_safety import printable

    from lifecycle.checks.registry import STAGE_TITLES, STAGES

    for stage in STAGES:
        rows = [r for r in results if r.stage == stage]
        if not rows:
            continue
        console.print(f"[bold]{STAGE_TITLES[stage]}[/bold]")
        for r in rows:
            manual = " [dim](manual)[/dim]" if r.kind == "manual" else ""
            # messages quote notes and file contents: control characters are shown, not obeyed
            console.print(f"  {_SYMBOL[r.status]} {r.id}{manual}: {escape(printable(r.message))}")
            if r.hint and r.status != "pass":
                console.print(f"       [dim]fix: {escape(printable(r.hint))}[/dim]")
        console.print()


@app.command(
    "check",
    epilog="Examples:\n\n"
    "  lifecycle check                 # every stage\n\n"
    "  lifecycle check scope --strict  # exit 1 when a check fails (todo does not fail)\n\n"
    "  lifecycle check adapt --json    # machine-readable, with the evidence each check used\n\n"
    "  lifecycle check --list\n\n"
    '  lifecycle check --attest adapt.human_review --note "read 50 outputs of the best run"',
)
def check_cmd(
    stage: Optional[str] = typer.Argument(None, help="scope, select, adapt or integrate (default: all)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any check fails (for CI)."),
    as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    attest: Optional[str] = typer.Option(None, "--attest", metavar="ID", help="Attest a manual check by id."),
    note: Optional[str] = typer.Option(None, "--note", help="What was reviewed (required with --attest)."),
    override: Optional[str] = typer.Option(None, "--override", metavar="REASON",
                                           help="With --attest integrate.signoff: sign off although a gate fails; "
                                           "the reason is recorded."),
    list_checks: bool = typer.Option(False, "--list", help="List the check ids and exit."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Run the stage checklists: each check reads evidence and says pass, fail or todo with a fix."""
    from lifecycle.checks.registry import all_checks, resolve_stage, run_checks

    if list_checks:
        for spec in all_checks(stage):
            typer.echo(f"{spec.id:34} {spec.kind:6} {spec.title}")
        return
    if attest:
        from lifecycle.checks.attest import attest as record_attestation

        rec = record_attestation(_root(project), attest, note or "", override=override)
        typer.echo(f"attested {rec['id']} by {rec['user']} at {rec['time']}")
        if rec.get("override"):
            typer.echo(f"overriding failed {', '.join(rec['override']['gates'])}: {rec['override']['reason']}")
        return
    if note is not None or override is not None:
        from lifecycle.errors import ConfigError

        raise ConfigError(f"{'--note' if note is not None else '--override'} goes with --attest ID",
                          hint='lifecycle check --attest adapt.human_review --note "..."')
    stage = resolve_stage(stage) if stage else None
    results = run_checks(_root(project), stage)
    failed = any(r.status == "fail" for r in results)
    if as_json:
        typer.echo(json.dumps({"stage": stage, "results": [r.to_dict() for r in results],
                               "failed": failed}, indent=2, default=str))
    else:
        _print_results(results, _console())
        counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "todo")}
        typer.echo(f"{counts['pass']} pass, {counts['fail']} fail, {counts['todo']} todo")
    if strict and failed:
        raise typer.Exit(1)


@app.command(
    "status",
    epilog="Examples:\n\n"
    "  lifecycle status\n\n"
    "  lifecycle status --project path/to/project\n\n"
    "Measured checks (token counts) show their last result; `lifecycle check select` re-measures.",
)
def status_cmd(
    project: Optional[Path] = PROJECT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the board as JSON."),
) -> None:
    """The board: the four stages with pass/fail/todo counts, the current stage and the last runs."""
    from lifecycle.checks.board import build_board, render_board

    board = build_board(_root(project))
    if as_json:
        typer.echo(json.dumps(board.to_dict(), indent=2, default=str))
        return
    render_board(board, _console())
    from lifecycle.runs.store import RunStore
    from lifecycle.text_safety import printable

    store = RunStore(Path(board.root) / "runs")
    store.list()
    for problem in store.skipped:  # a broken run record is named, never a traceback
        typer.echo(f"skipped: {printable(problem, newlines=False)}", err=True)


@app.command(
    "schema",
    epilog="Examples:\n\n"
    "  lifecycle schema lifecycle > lifecycle.schema.json\n\n"
    "  lifecycle schema eval\n\n"
    "Editors use them through the first line of each YAML file:\n"
    "# yaml-language-server: $schema=.lifecycle/schemas/eval.schema.json",
)
def schema_cmd(
    name: str = typer.Argument(..., help="A project file (lifecycle, model, prompt, generation, eval, finetune, ...) "
                              "or a run file (run, metrics)."),
) -> None:
    """Print the JSON Schema of a project file."""
    from lifecycle.config.schema_export import MODELS, render_schema
    from lifecycle.errors import ConfigError, did_you_mean

    key = name.removesuffix(".yaml").removeprefix("configs/")
    if key not in MODELS:
        raise ConfigError(did_you_mean(name, MODELS, kind="schema"))
    typer.echo(render_schema(key), nl=False)
