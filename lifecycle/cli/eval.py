"""`lifecycle eval`: metrics, eval runs (the shots ladder), sweeps, paired comparisons, exports.
Thin: parse -> call lifecycle.evaluation -> print. Heavy libraries load inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import sub_app, PROJECT_OPTION, parse_shots
from lifecycle.cli.choices import TASK, TASK_HELP

eval_app = sub_app(
    help="Evaluation: offline metrics, eval runs with confidence intervals, sweeps, comparisons, reports.",
    epilog="Examples:\n\n"
    "  lifecycle eval metrics\n\n"
    "  lifecycle eval run --shots 0,1,3\n\n"
    "  lifecycle eval run --predictions preds.jsonl --strict\n\n"
    "  lifecycle eval sweep --grid configs/sweep.yaml\n\n"
    "  lifecycle eval compare RUN_A RUN_B\n\n"
    "  lifecycle eval export --to lm-eval",
)


@eval_app.command(
    "metrics",
    epilog="Examples:\n\n"
    "  lifecycle eval metrics\n\n"
    "  lifecycle eval metrics --task question_answering\n\n"
    "  lifecycle eval metrics --paths     # the evaluate module file behind each metric\n\n"
    "Use a name in configs/eval.yaml under metrics: (\"rouge\" and \"length\" stand for their groups). "
    "In Python: evaluate.load(PATH) with the path --paths prints; it works offline.",
)
def metrics_cmd(
    task: Optional[str] = typer.Option(None, "--task", parser=TASK, metavar="TASK", help="Only metrics suited to this task. " + TASK_HELP),
    paths: bool = typer.Option(False, "--paths", help="Show the evaluate module file of each metric."),
) -> None:
    """List the metrics: direction (higher/lower is better), aggregation, scale."""
    from lifecycle.evaluation.registry import GROUPS, list_metrics

    rows = [m for m in list_metrics() if task is None or task in m.tasks]
    width = max(len(m.name) for m in rows) if rows else 10
    typer.echo(f"{'metric':<{width}}  better  aggregation  scale   description")
    for m in rows:
        better = {True: "higher", False: "lower", None: "-"}[m.higher_is_better]
        line = f"{m.name:<{width}}  {better:<6}  {m.aggregation:<11}  {m.scale:<6}  {m.description}"
        if paths:
            line += f"\n{'':<{width}}  module: {m.module_path}"
        typer.echo(line)
    typer.echo("groups: " + "; ".join(f"{g} = {', '.join(ms)}" for g, ms in GROUPS.items()))


@eval_app.command(
    "run",
    epilog="Examples:\n\n"
    "  lifecycle eval run                              # shots from configs/eval.yaml\n\n"
    "  lifecycle eval run --shots 0,1,3                # the in-context-learning ladder, one run each\n\n"
    "  lifecycle eval run --predictions preds.jsonl    # score a file: {\"id\": ..., \"prediction\": ...} per line\n\n"
    "  lifecycle eval run --rescore 20260101T...-eval-abc1234   # score a run's predictions again\n\n"
    "  lifecycle eval run --resume abc1234             # finish an interrupted run, done examples kept\n\n"
    "  lifecycle eval run --shots 0,3 --strict         # exit 1 when a target's CI bound misses it (CI)\n\n"
    "Each run folder gets predictions.jsonl, scores.jsonl (per example), metrics.json (value, 95% CI, n) "
    "and report.md / report.html with plots.",
)
def run_cmd(
    shots: Optional[str] = typer.Option(None, "--shots", "-k", help="Comma-separated shot counts, e.g. 0,1,3."),
    predictions: Optional[Path] = typer.Option(None, "--predictions", help="Score this JSONL file instead of generating."),
    rescore: Optional[str] = typer.Option(None, "--rescore", help="Score an existing run's predictions again (new run)."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Finish an interrupted generated run (keeps what it has)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N examples of the eval set."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when a target is missed."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip report.md / report.html."),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    rag: bool = typer.Option(False, "--rag", help="Generate with chunks retrieved from the `lifecycle rag index` in "
                             "the prompt's {context}; predictions record chunk ids and scores."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Score the eval set (generating with the engine, or from predictions) with 95% bootstrap CIs."""
    import json
    import sys

    from lifecycle.evaluation.runner import EvalOptions, run_eval
    from lifecycle.project import Project

    opts = EvalOptions(shots=parse_shots(shots), predictions=predictions, rescore=rescore, resume=resume, limit=limit,
                       report=not no_report, progress=sys.stderr.isatty() and not json_out,
                       argv=["lifecycle", *sys.argv[1:]])
    if rag:  # retrieved context in the prompt; the runs record chunk ids and scores (lifecycle.rag.augment)
        from lifecycle.rag.augment import eval_with_rag

        outcomes = eval_with_rag(Project.find(project), opts, on_run=lambda msg: typer.echo(msg, err=True))
        outcome = type(outcomes[0])([r for o in outcomes for r in o.runs], [t for o in outcomes for t in o.targets],
                                    outcomes[0].eval_key)
    else:
        outcome = run_eval(Project.find(project), opts, on_run=lambda msg: typer.echo(msg, err=True))
    if json_out:
        typer.echo(json.dumps({"eval_key": outcome.eval_key,
                               "runs": [{"run": s.run.id, "shots": s.shots, "budget": s.run.meta.get("budget"),
                                         **s.doc} for s in outcome.runs],
                               "targets": [t.as_dict() for t in outcome.targets]}, indent=2))
    else:
        from lifecycle.evaluation.summary import eval_table

        typer.echo(eval_table(outcome))
    if strict and not outcome.targets_met:
        raise typer.Exit(1)

