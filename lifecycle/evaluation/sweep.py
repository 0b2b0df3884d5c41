"""`lifecycle eval sweep --grid configs/sweep.yaml`: generation settings on a fixed eval set.

    # Used by: lifecycle eval sweep --grid configs/sweep.yaml
    shots: 0            # prompt shots for every point
    limit: 50           # first N eval examples (optional)
    metric: rougeL      # ranks the points (default: the scope's success metric)
    seeds: [1, 2, 3]    # sampling points run once per seed; greedy and beam once
    grid:
      - preset: greedy
      - preset: sampling
        temperature: [0.7, 1.0]   # a list is swept; a single value is fixed
        top_p: [0.9, 1.0]
        top_k: 50

Every point is validated as a complete configs/generation.yaml before anything runs. Each
point x seed is an ordinary eval run; the sweep run (kind "sweep") holds sweep.json and the report
with the mean and spread per point, best first, and a heatmap.
"""

from __future__ import annotations

import itertools
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lifecycle.config.generation import GenerationSettings
from lifecycle.config.sweep import Scalar, SweepGrid  # noqa: F401  (Scalar: part of this module's API)
from lifecycle.config.yaml_io import atomic_write_text, load_yaml, validate_data
from lifecycle.errors import ConfigError, EvaluationError, located
from lifecycle.evaluation.metrics.registry import get_metric
from lifecycle.evaluation.reports.sweep import build_sweep_doc
from lifecycle.evaluation.runner import EvalOptions, run_eval
from lifecycle.evaluation.statistics.targets import project_targets
from lifecycle.runs.store import RunStore

SWEEP_FILE = "sweep.json"


@dataclass
class Point:
    index: int
    overrides: dict[str, Any]
    settings: Any  # GenerationSettings

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.overrides.items())

    @property
    def sampled(self) -> bool:
        return bool(self.settings.resolved().do_sample)


@dataclass
class PointResult:
    point: Point
    runs: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    cis: list[list[float]] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def spread(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    def as_dict(self) -> dict:
        return {"point": self.point.overrides, "label": self.point.label, "runs": self.runs, "values": self.values,
                "cis": self.cis, "mean": self.mean, "std": self.spread, "min": min(self.values),
                "max": max(self.values)}


def grid_path(project, grid: str | Path) -> Path:
    """Where `--grid` points: an absolute path, or a file that exists relative to the current folder
    (what a shell user tab-completed), else the path relative to the project root (the default
    `configs/sweep.yaml` works from any folder inside the project)."""
    path = Path(grid)
    return path if path.is_absolute() or path.is_file() else project.path(path)


def check_grid(project, grid: str | Path) -> list[str]:
    """`eval sweep --check`: validate the grid against the project's generation config and say what
    would run, one line per point (sampling points run once per seed); nothing runs."""
    g, points = load_grid(grid_path(project, grid), project.generation_config())
    lines = []
    for p in points:
        runs = len(g.seeds) if p.sampled else 1
        lines.append(f"point {p.index + 1}: {p.label} ({runs} run{'s' if runs > 1 else ''})")
    return lines


def load_grid(path: str | Path, base) -> tuple[SweepGrid, list[Point]]:
    """The grid file, every point expanded and validated against GenerationSettings (all problems at once)."""
    from pydantic import ValidationError

    loaded = load_yaml(path)
    grid = validate_data(SweepGrid, loaded, path)
    points: list[Point] = []
    problems: list[str] = []
    base_data = base.model_dump(exclude_unset=True)
    for i, entry in enumerate(grid.grid):
        keys = list(entry)
        for key in keys:
            if key not in GenerationSettings.model_fields or key in ("seed",):
                what = ("seeds are set by `seeds:`" if key == "seed"
                        else "not a generation setting (see configs/generation.yaml)")
                problems.append(located(path, loaded.line_of(("grid", i, key)), f"grid.{i}.{key}", what))
        if problems:
            continue
        axes = [v if isinstance(v, list) else [v] for v in entry.values()]
        if any(not a for a in axes):
            problems.append(located(path, loaded.line_of(("grid", i)), f"grid.{i}", "an empty list sweeps nothing"))
            continue
        for combo in itertools.product(*axes):
            overrides = dict(zip(keys, combo))
            preset = overrides.get("preset", base_data.get("preset", "greedy"))
            try:
                settings = GenerationSettings.model_validate(base_data).with_preset(preset)
                data = {**settings.model_dump(exclude_unset=True), **overrides}
                settings = GenerationSettings.model_validate(data)
            except ValidationError as err:
                for e in err.errors():
                    loc = tuple(e.get("loc", ()))
                    key = loc[0] if loc else None
                    line = loaded.line_of(("grid", i, key) if key in entry else ("grid", i))
                    where = f"grid.{i}" + (f".{key}" if key else "")
                    problems.append(located(path, line, where, f"{e['msg']} (point {overrides})"))
                continue
            points.append(Point(len(points), overrides, settings))
    if problems:
        raise ConfigError(list(dict.fromkeys(problems)), hint="fix the grid; nothing was run")
    return grid, points


def run_sweep(project, grid_path: str | Path, *, argv: list[str] | None = None,
              echo: Callable[[str], None] | None = None) -> tuple[list[PointResult], Any, str]:
    """Run every point (x seeds for sampling). Returns (results best first, the sweep run, metric)."""
    base = project.generation_config()
    grid, points = load_grid(grid_path, base)
    metric = grid.metric or project.manifest.scope.success.metric
    get_metric(metric)
    hib = get_metric(metric).higher_is_better
    if hib is None:
        raise EvaluationError(f"metric '{metric}' has no better direction; rank the sweep by a score")
    model_cache: dict = {}
    results: list[PointResult] = []
    group = None
    for p in points:
        res = PointResult(p)
        for seed in (grid.seeds if p.sampled else grid.seeds[:1]):
            settings = p.settings.model_copy(update={"seed": seed})
            opts = EvalOptions(shots=[grid.shots], limit=grid.limit, generation=settings, report=False, argv=argv,
                               model_cache=model_cache, extra_meta={"sweep": {"point": p.overrides, "seed": seed}})
            outcome = run_eval(project, opts)
            scored = outcome.runs[0]
            if metric not in scored.doc["metrics"]:
                raise EvaluationError(f"the sweep metric '{metric}' is not in configs/eval.yaml metrics")
            m = scored.doc["metrics"][metric]
            res.runs.append(scored.run.id)
            res.values.append(m["value"])
            res.cis.append(m["ci"])
            group = outcome.eval_key
            if echo:
                echo(f"{p.label} seed {seed}: {metric} {m['value']:.4f} [{m['ci'][0]:.4f}, {m['ci'][1]:.4f}] "
                     f"({scored.run.id})")
        results.append(res)
    results.sort(key=lambda r: r.mean, reverse=bool(hib))
    run = RunStore(project.runs_dir).create(
        "sweep", config={"grid": grid.model_dump(mode="json"), "base_generation": base.model_dump(mode="json")},
        seed=None, extra={"sweep": {"metric": metric, "eval_key": group, "points": len(points)}}, argv=argv)
    try:
        # the target of the ranked metric (scope first, then eval.yaml), drawn on the report's plot
        target = next((t.value for t in project_targets(project, project.eval_config()) if t.metric == metric), None)
        doc = {"metric": metric, "higher_is_better": hib, "shots": grid.shots, "seeds": grid.seeds,
               "eval_key": group, "target": target, "points": [r.as_dict() for r in results]}
        atomic_write_text(run.path / SWEEP_FILE, json.dumps(doc, indent=2) + "\n")

        build_sweep_doc(doc, run.id).write(run.path)
    except BaseException:
        run.finish(status="failed")
        raise
    run.finish(status="complete")
    return results, run, metric
