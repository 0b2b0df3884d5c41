"""`lifecycle eval compare / sweep / export`: added to the `eval` sub-app of lifecycle/cli/eval.py."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from lifecycle.cli.eval import eval_app
from lifecycle.cli.options import PROJECT_OPTION


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

    from lifecycle.evaluation.compare import CompareSettings, compare_runs, compare_table
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

    from lifecycle.evaluation.sweep import load_grid, run_sweep, sweep_table
    from lifecycle.project import Project

    proj = Project.find(project)
    path = grid if grid.is_absolute() or grid.is_file() else proj.path(grid)
    if check:
        g, points = load_grid(path, proj.generation_config())
        for p in points:
            runs = len(g.seeds) if p.sampled else 1
            typer.echo(f"point {p.index + 1}: {p.label} ({runs} run{'s' if runs > 1 else ''})")
        return
    results, run, metric = run_sweep(proj, path, argv=["lifecycle", *sys.argv[1:]],
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
    from lifecycle.evaluation.export import export
    from lifecycle.project import Project

    for path in export(Project.find(project), to, out=out, force=force):
        typer.echo(f"wrote {path}")
