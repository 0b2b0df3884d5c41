"""`lifecycle judge` and `lifecycle judge calibrate`: an automatic pairwise judge, asked in both
orders (disagreement = tie), and its agreement with people."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

judge_app = sub_app(
    help="Judge pairs automatically (both orders; disagreement = tie) and calibrate the judge against people.",
    epilog="Examples:\n\n"
    "  lifecycle judge run --oracle my_project.judges:compare      # (prompt, first, second) -> first|second|tie\n\n"
    "  lifecycle judge run --model models/judge-model               # a local model through the engine\n\n"
    "  lifecycle judge run --url http://localhost:8000/v1 --judge-model served   # any OpenAI-compatible server\n\n"
    "  lifecycle judge calibrate                                     # kappa vs people, position and length bias",
)


@judge_app.command("run", epilog="Examples:\n\n"
                   "  lifecycle judge run RUN --oracle my_project.judges:compare\n\n"
                   "  lifecycle judge run --url http://localhost:8000/v1 --judge-model served\n\n"
                   "Verdicts go to data/preferences/judge_judgments.jsonl (never mixed with people's).")
def run_cmd(
    runs: Optional[list[str]] = typer.Argument(None, help="Pairs run(s) (default: all complete ones)."),
    oracle: Optional[str] = typer.Option(None, "--oracle", help="module:function(prompt, first, second)."),
    model: Optional[str] = typer.Option(None, "--model", help="A local judge model (id or folder)."),
    url: Optional[str] = typer.Option(None, "--url", help="An OpenAI-compatible base URL."),
    judge_model: str = typer.Option("default", "--judge-model", help="Model name at --url."),
    name: Optional[str] = typer.Option(None, "--name", help="The judge's annotator name (default: judge:<what>)."),
    out: Path = typer.Option(Path("data/preferences/judge_judgments.jsonl"), "--out"),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Judge every pair in both orders; a pair the orders disagree on is a tie."""
    from lifecycle.align import judge as J
    from lifecycle.align.review import pairs_of_runs
    from lifecycle.errors import LifecycleError
    from lifecycle.project import Project

    project = Project.find(project_dir)
    if sum(x is not None for x in (oracle, model, url)) != 1:
        raise LifecycleError("give one judge: --oracle, --model or --url")
    sys.path[:0] = [str(project.root), str(project.root / "src")]
    if oracle:
        fn, who = J.oracle_judge(oracle), f"judge:{oracle}"
    elif model:
        from lifecycle.loading import load_model

        fn, who = J.model_judge(load_model(model)), f"judge:{Path(model).name}"
    else:
        fn, who = J.url_judge(url, judge_model), f"judge:{judge_model}"
    pairs = pairs_of_runs(project, runs)
    verdicts = J.both_orders(fn, pairs)
    n = J.record_verdicts(project.path(out), verdicts, name or who)
    ties = sum(v["choice"] == "tie" for v in verdicts)
    typer.echo(f"judged {len(verdicts)} pairs in both orders ({ties} ties); recorded {n} new in {project.path(out)}")


@judge_app.command("calibrate", epilog="Examples:\n\n"
                   "  lifecycle judge calibrate\n\n"
                   "  lifecycle judge calibrate --judge-file data/preferences/judge_judgments.jsonl --min-kappa 0.6\n\n"
                   "Exits 1 when the kappa's lower 95% bound is below --min-kappa: such a judge may not gate a stage.")
def calibrate_cmd(
    judge_file: Path = typer.Option(Path("data/preferences/judge_judgments.jsonl"), "--judge-file"),
    human_file: Path = typer.Option(Path("data/preferences/judgments.jsonl"), "--human-file"),
    min_kappa: Optional[float] = typer.Option(None, "--min-kappa", help="Fail unless the kappa CI lower bound clears it."),
    project_dir: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Agreement of the judge with people: Cohen's kappa with a CI, position and length bias."""
    from lifecycle.align import judge as J
    from lifecycle.align.judge import calibrate
    from lifecycle.align.judgments import read_judgments
    from lifecycle.align.review import pairs_of_runs
    from lifecycle.project import Project

    project = Project.find(project_dir)
    pairs = {p["pair_id"]: p for p in pairs_of_runs(project, None)}
    judge_path, human_path = project.path(judge_file), project.path(human_file)
    result = calibrate(read_judgments(judge_path, known_pairs=set(pairs)),
                       read_judgments(human_path, known_pairs=set(pairs)), pairs)
    run = J.record_calibration(project, result, judge_path, human_path, min_kappa, argv=["lifecycle", *sys.argv[1:]])
    typer.echo(f"judge vs people on {result['n']} pairs: kappa {result['kappa']:.3f} (95% CI {result['kappa_ci'][0]:.3f}"
               f"-{result['kappa_ci'][1]:.3f}), raw agreement {result['raw_agreement']:.3f}")
    if result["position_bias_first"] is not None:
        typer.echo(f"position bias: picks the first-shown response {result['position_bias_first']:.1%} of the time "
                   f"in a single order; the orders disagree on {result['order_disagreement']:.1%} of pairs (ties)")
    if result["length_bias_longer"] is not None:
        typer.echo(f"length bias: the longer response wins {result['length_bias_longer']:.1%} of decisive verdicts")
    typer.echo(f"recorded in run {run.id} (adapt.aligned reads it before a judge may gate)")
    if min_kappa is not None and result["kappa_ci"][0] < min_kappa:
        typer.echo(f"the kappa lower bound {result['kappa_ci'][0]:.3f} is below {min_kappa}: this judge may not gate",
                   err=True)
        raise typer.Exit(1)
