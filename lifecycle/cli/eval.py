"""`lifecycle eval`: metrics, init, eval runs (the shots ladder), paired comparisons, sweeps, exports.
Thin: parse -> call lifecycle.evaluation -> print. Heavy libraries load inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

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
    from lifecycle.evaluation.metrics.registry import GROUPS, list_metrics

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
    "  lifecycle eval run --predictions prod.jsonl --attest \"prod API, model v3, greedy, 2026-11-30\"\n\n"
    "  lifecycle eval run --rescore 20260101T...-eval-abc1234   # score a run's predictions again\n\n"
    "  lifecycle eval run --resume abc1234             # finish an interrupted run, done examples kept\n\n"
    "  lifecycle eval run --shots 0,3 --strict         # exit 1 when a target's CI bound misses it (CI)\n\n"
    "Each run folder gets predictions.jsonl, scores.jsonl (per example), metrics.json (value, 95% CI, n) "
    "and report.md / report.html with plots.",
)
def run_cmd(
    shots: Optional[str] = typer.Option(None, "--shots", "-k", help="Comma-separated shot counts, e.g. 0,1,3."),
    predictions: Optional[Path] = typer.Option(None, "--predictions", help="Score this JSONL file instead of generating."),
    attest: Optional[str] = typer.Option(None, "--attest", metavar="NOTE",
                                         help="With --predictions: vouch that the file holds the shipped model's "
                                              "outputs (who made them, with which model and settings). Recorded "
                                              "with your user name and the file's hash; the run then counts as "
                                              "evidence for adapt.target_met."),
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

    opts = EvalOptions(shots=parse_shots(shots), predictions=predictions, attest=attest, rescore=rescore,
                       resume=resume, limit=limit,
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
        from lifecycle.evaluation.reports.tables import eval_table

        typer.echo(eval_table(outcome))
    if strict and not outcome.targets_met:
        raise typer.Exit(1)


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
    from lifecycle.evaluation.eval_yaml import eval_config_text, write_eval_config
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


@eval_app.command(
    "compare",
    epilog="Examples:\n\n"
    "  lifecycle eval compare RUN_A RUN_B             # B - A per metric, paired CI and p-value\n\n"
    "  lifecycle eval compare ZERO ONE FEW            # each later run against the first\n\n"
    "  lifecycle eval compare RUN_A RUN_B --metric rougeL --json\n\n"
    "  lifecycle eval compare RUN_A RUN_B --force     # different eval sets: compare shared examples\n\n"
    "Run ids may be shortened to a unique prefix or suffix (e.g. the 7-letter hash). The comparison is "
    "saved as a run of kind 'compare' with comparison.json and report.html.",
)
def compare_cmd(
    runs: List[str] = typer.Argument(..., help="Two or more eval runs; the first is the baseline (A)."),
    metric: Optional[List[str]] = typer.Option(None, "--metric", "-m", help="Only these metrics (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Compare runs over different eval sets (shared examples)."),
    samples: int = typer.Option(1000, "--samples", min=100, help="Bootstrap resamples."),
    permutations: int = typer.Option(10000, "--permutations", min=100, help="Permutation-test resamples."),
    seed: int = typer.Option(42, "--seed", help="Seed of the resampling."),
    json_out: bool = typer.Option(False, "--json", help="Print comparison.json."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Paired comparison of eval runs on the same examples: difference, 95% CI, p-value."""
    import json
    import sys

    from lifecycle.evaluation.compare import CompareSettings, compare_runs
    from lifecycle.evaluation.reports.tables import compare_table
    from lifecycle.project import Project

    settings = CompareSettings(force=force, samples=samples, permutations=permutations, seed=seed,
                               metrics=list(metric) if metric else None)
    c = compare_runs(Project.find(project), list(runs), settings, argv=["lifecycle", *sys.argv[1:]])
    typer.echo(json.dumps(c.as_dict(), indent=2) if json_out else compare_table(c))


@eval_app.command(
    "sweep",
    epilog="Examples:\n\n"
    "  lifecycle eval sweep --grid configs/sweep.yaml\n\n"
    "  lifecycle eval sweep --grid configs/sweep.yaml --check    # validate the grid, run nothing\n\n"
    "A grid file:\n\n"
    "  shots: 0\n\n"
    "  seeds: [1, 2, 3]\n\n"
    "  grid: [{preset: greedy}, {preset: sampling, temperature: [0.7, 1.0], top_p: [0.9, 1.0]}]",
)
def sweep_cmd(
    grid: Path = typer.Option(Path("configs/sweep.yaml"), "--grid", "-g", help="The sweep grid YAML."),
    check: bool = typer.Option(False, "--check", help="Only validate the grid and list its points."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Grid over generation settings on a fixed eval set: mean and spread per point, best first."""
    import sys

    from lifecycle.evaluation.reports.tables import sweep_table
    from lifecycle.evaluation.sweep import check_grid, grid_path, run_sweep
    from lifecycle.project import Project

    proj = Project.find(project)
    if check:
        for line in check_grid(proj, grid):
            typer.echo(line)
        return
    results, run, metric = run_sweep(proj, grid_path(proj, grid), argv=["lifecycle", *sys.argv[1:]],
                                     echo=lambda m: typer.echo(m, err=True))
    typer.echo(sweep_table(results, metric))
    typer.echo(f"sweep run: {run.id}\nreport: {run.path / 'report.html'}")


@eval_app.command(
    "export",
    epilog="Examples:\n\n"
    "  lifecycle eval export --to lm-eval              # writes exports/lm-eval/<task>.yaml\n\n"
    "  lifecycle eval export --to promptfoo            # writes exports/promptfoo/promptfooconfig.yaml\n\n"
    "  lifecycle eval export --to lm-eval --out DIR --force",
)
def export_cmd(
    to: str = typer.Option(..., "--to", help="lm-eval or promptfoo."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: exports/<format>/)."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing export files."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Write the eval config as an lm-evaluation-harness task or a promptfoo config."""
    from lifecycle.evaluation.export.harness import export
    from lifecycle.project import Project

    for path in export(Project.find(project), to, out=out, force=force):
        typer.echo(f"wrote {path}")
