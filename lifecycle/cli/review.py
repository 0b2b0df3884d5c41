"""`lifecycle review`: blind pairwise A/B review in the terminal, or from a judgments file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

app = sub_app(no_args_is_help=False)


@app.command("review", epilog="Examples:\n\n"
             "  lifecycle review --annotator alice             # every complete pairs run; keys a / b / t / s / q\n\n"
             "  lifecycle review RUN --annotator bob           # one pairs run; a second annotator for agreement\n\n"
             "  lifecycle review --annotator carol --from judgments.jsonl   # without a terminal\n\n"
             "  lifecycle review export --format label-studio --out review/tasks.json   # + tasks.label_config.xml\n\n"
             "  lifecycle review import ls_export.json --format label-studio          # the tool's JSON export\n\n"
             "  lifecycle review export --format argilla --out review/records.json    # + records.settings.json\n\n"
             "Which side is which is random per pair and recorded; quitting (q) keeps every judgment, and the "
             "next start shows only what this annotator has not judged yet.")
def review_cmd(
    runs: Optional[list[str]] = typer.Argument(None, help="Pairs run(s) (default: all complete ones)."),
    annotator: Optional[str] = typer.Option(None, "--annotator", "-a", help="Who judges (default: the user name)."),
    from_file: Optional[Path] = typer.Option(None, "--from", help="Judgments JSONL: {pair_id, choice: a|b|tie|skip}."),
    judgments: Optional[Path] = typer.Option(None, "--judgments", help="Default: preferences.judgments."),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    fmt: Optional[str] = typer.Option(None, "--format", help="export/import: label-studio or argilla."),
    out: Optional[Path] = typer.Option(None, "--out", help="export: the tasks/records file to write."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Judge pairs blind, one keystroke each: a (left better), b (right better), t (tie), s (skip), q (quit).
    `review export` / `review import FILE` hand the pairs to Label Studio or Argilla and read their verdicts back."""
    from lifecycle.align.judgments import agreement, read_judgments
    from lifecycle.align.pairs import load_align_config
    from lifecycle.align.review import import_judgments, pairs_of_runs, review_loop, terminal_key_reader
    from lifecycle.errors import LifecycleError
    from lifecycle.project import Project
    from lifecycle.runs.store import _current_user

    project = Project.find(project_dir)
    settings = load_align_config(project, config).preferences
    path = project.path(judgments or settings.judgments)
    action = runs[0] if runs and runs[0] in ("export", "import") else None
    if action:
        return _labelling_tool(project, action, runs[1:], fmt, out, path)
    pairs = pairs_of_runs(project, runs)
    if from_file is not None:
        done = import_judgments(pairs, from_file, path, annotator)
        typer.echo(f"recorded {done['added']} judgments ({done['already']} already there) in {path}")
    else:
        if not sys.stdin.isatty():
            raise LifecycleError("`lifecycle review` needs a terminal for keystrokes; stdin is not one",
                                 hint="pass --from JUDGMENTS.jsonl to record judgments from a file")
        who = annotator or _current_user()
        counts = review_loop(pairs, path, who, terminal_key_reader(), typer.echo)
        typer.echo(f"\n{counts['judged']} judged, {counts['skipped']} skipped, {counts['remaining']} left for {who}")
    for a in agreement(read_judgments(path, strict_duplicates=False)):
        typer.echo(f"agreement {a['annotators'][0]} vs {a['annotators'][1]}: Cohen's kappa {a['kappa']:.3f} "
                   f"on {a['n']} pairs")


def _labelling_tool(project, action: str, args: list[str], fmt: Optional[str], out: Optional[Path], path: Path) -> None:
    from lifecycle.align import labeltools
    from lifecycle.align.review import pairs_of_runs
    from lifecycle.errors import LifecycleError

    if fmt is None:
        raise LifecycleError(f"`lifecycle review {action}` needs --format label-studio or argilla")
    if action == "export":
        if out is None:
            raise LifecycleError("`lifecycle review export` needs --out FILE (the tasks or records to import in the tool)")
        files = labeltools.export_pairs(pairs_of_runs(project, args or None), fmt, project.path(out))
        typer.echo(f"{fmt}: pairs -> {files[0]}; its labelling setup -> {files[1]}")
        typer.echo(labeltools.how_to_load(fmt, files))
        return
    if len(args) < 1:
        raise LifecycleError("`lifecycle review import FILE --format ...` needs the tool's JSON export")
    source, pairs_runs = project.path(args[0]), args[1:] or None
    done = labeltools.import_tool_export(pairs_of_runs(project, pairs_runs), source, fmt, path)
    typer.echo(f"recorded {done['added']} judgments from {fmt} ({done['already']} already there) in {path}")
