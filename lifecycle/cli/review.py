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
             "Which side is which is random per pair and recorded; quitting (q) keeps every judgment, and the "
             "next start shows only what this annotator has not judged yet.")
def review_cmd(
    runs: Optional[list[str]] = typer.Argument(None, help="Pairs run(s) (default: all complete ones)."),
    annotator: Optional[str] = typer.Option(None, "--annotator", "-a", help="Who judges (default: the user name)."),
    from_file: Optional[Path] = typer.Option(None, "--from", help="Judgments JSONL: {pair_id, choice: a|b|tie|skip}."),
    judgments: Optional[Path] = typer.Option(None, "--judgments", help="Default: preferences.judgments."),
    config: Optional[Path] = typer.Option(None, "--config", help="Default: configs/align.yaml."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Judge pairs blind, one keystroke each: a (left better), b (right better), t (tie), s (skip), q (quit)."""
    from lifecycle.align.judgments import agreement, read_judgments
    from lifecycle.align.pairs import load_align_config
    from lifecycle.align.review import import_judgments, pairs_of_runs, review_loop, terminal_key_reader
    from lifecycle.errors import LifecycleError
    from lifecycle.project import Project
    from lifecycle.runs.store import _current_user

    project = Project.find(project_dir)
    settings = load_align_config(project, config).preferences
    path = project.path(judgments or settings.judgments)
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
