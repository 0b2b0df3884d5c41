"""`lifecycle eval compare RUN_A RUN_B [...]`: paired comparisons on the same examples.

Each run after the first is compared with the first (the baseline): per metric, the difference
B - A with a paired-bootstrap interval and a paired permutation-test p-value. Runs over different
eval sets (data file, references or prompt wording: the eval key) are refused unless --force, which
then compares the examples the runs share. The comparison is itself a run (kind "compare") holding
comparison.json and report.md / report.html.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lifecycle.config.yaml_io import atomic_write_text
from lifecycle.errors import EvaluationError, LifecycleError
from lifecycle.evaluation.metrics.custom import register_project_metrics
from lifecycle.evaluation.metrics.registry import METRICS, PROJECT_METRICS, compute_metrics, get_metric, metric_requests
from lifecycle.evaluation.reports.compare import build_compare_doc
from lifecycle.evaluation.statistics.bootstrap import PairedResult, compare_scores
from lifecycle.runs.store import Run, RunStore

COMPARISON_FILE = "comparison.json"


@dataclass
class CompareSettings:
    force: bool = False
    samples: int = 1000
    permutations: int = 10000
    confidence: float = 0.95
    seed: int = 42
    metrics: list[str] | None = None  # default: every metric both runs computed with the same arguments


@dataclass
class Comparison:
    baseline: Run
    others: list[Run]
    results: dict[str, list[PairedResult]]  # other run id -> one result per metric
    n: dict[str, int]
    warnings: list[str]
    run: Run | None = None

    def as_dict(self) -> dict:
        return {"baseline_run": self.baseline.id, "runs": [r.id for r in self.others],
                "comparisons": {rid: {"n": self.n[rid], "metrics": {r.metric: r.as_dict() for r in res}}
                                for rid, res in self.results.items()},
                "warnings": self.warnings}


def _eval_meta(run: Run) -> dict:
    ev = run.meta.get("eval")
    return ev if isinstance(ev, dict) else {}


def _requests(run: Run) -> dict[str, dict]:
    recorded = _eval_meta(run).get("metric_args")  # what the run computed (declared labels included)
    if isinstance(recorded, dict) and recorded and all(isinstance(a, dict) for a in recorded.values()):
        return {str(n): {k: tuple(v) if isinstance(v, list) else v for k, v in a.items()}
                for n, a in recorded.items() if n in METRICS or n in PROJECT_METRICS}
    cfg = ((run.meta.get("config") or {}).get("eval") or {}).get("metrics") or []
    return dict(metric_requests(cfg)) if cfg else {}


def _mismatch(a: Run, b: Run) -> str | None:
    ea, eb = _eval_meta(a), _eval_meta(b)
    if not ea.get("eval_key") or not eb.get("eval_key"):
        return "one of them records no eval key (not an eval run?)"
    if ea["eval_key"] == eb["eval_key"]:
        return None
    if ea.get("dataset_sha256") != eb.get("dataset_sha256"):
        return (f"different eval data (sha256 {str(ea.get('dataset_sha256'))[:12]} vs "
                f"{str(eb.get('dataset_sha256'))[:12]})")
    if ea.get("references_hash") != eb.get("references_hash"):
        return "different references (or a different example limit)"
    return "a different prompt wording (configs/prompt.yaml template/fields)"


def _records(run: Run) -> dict[str, dict]:
    if run.status != "complete":
        raise EvaluationError(f"run {run.id} is {run.status}, not complete",
                              hint="finish it with `lifecycle eval run` or pick another run")
    recs = run.read_predictions()
    if not recs:
        raise EvaluationError(f"run {run.id} has no predictions to compare")
    return {str(r["id"]): r for r in recs}


def _refs(rec: dict) -> list[str]:
    r = rec.get("references")
    return [str(x) for x in r] if isinstance(r, list) else [str(r)]


def _register_custom(project) -> None:
    """The project's `function:` metrics, so runs that scored them can be compared on them."""
    try:
        register_project_metrics(project, project.eval_config().metrics)
    except (LifecycleError, OSError):  # no or broken eval config: compare the built-in metrics
        return


def compare_runs(project, refs: list[str], settings: CompareSettings | None = None, *,
                 write: bool = True, argv: list[str] | None = None) -> Comparison:
    settings = settings or CompareSettings()
    if len(refs) < 2:
        raise EvaluationError("compare needs at least two runs: lifecycle eval compare RUN_A RUN_B")
    _register_custom(project)
    store = RunStore(project.runs_dir)
    runs = [store.get(r) for r in refs]
    if len({r.id for r in runs}) != len(runs):
        raise EvaluationError("the same run is named twice")
    for r in runs:
        if r.kind != "eval":
            raise EvaluationError(f"run {r.id} is a '{r.kind}' run; compare eval runs")
    base = runs[0]
    warnings: list[str] = []
    for other in runs[1:]:
        why = _mismatch(base, other)
        if why:
            if not settings.force:
                raise EvaluationError(f"runs {base.id} and {other.id} were scored on different eval sets: {why}",
                                      hint="compare runs of the same eval config, or pass --force to compare "
                                      "the examples they share")
            warnings.append(f"{other.id}: {why} (compared anyway: --force)")

    base_recs = _records(base)
    base_req = _requests(base)
    results: dict[str, list[PairedResult]] = {}
    sizes: dict[str, int] = {}
    for other in runs[1:]:
        recs = _records(other)
        ids = [i for i in base_recs if i in recs]
        if not ids:
            raise EvaluationError(f"runs {base.id} and {other.id} share no example ids")
        if len(ids) != len(base_recs) or len(ids) != len(recs):
            if not settings.force:
                raise EvaluationError(f"runs {base.id} and {other.id} cover different examples "
                                      f"({len(base_recs)} vs {len(recs)}, {len(ids)} shared)",
                                      hint="pass --force to compare the shared examples")
            warnings.append(f"{other.id}: compared on the {len(ids)} shared examples")
        other_req = _requests(other)
        names = settings.metrics or [m for m in base_req if m in other_req and base_req[m] == other_req[m]]
        for m in names:
            get_metric(m)  # unknown: did-you-mean
        names = [m for m in names if get_metric(m).higher_is_better is not None] + \
                [m for m in names if get_metric(m).higher_is_better is None]
        if not names:
            raise EvaluationError(f"runs {base.id} and {other.id} have no metric in common")
        req = [(m, base_req.get(m, {})) for m in names]
        a = compute_metrics(req, [base_recs[i]["prediction"] for i in ids], [_refs(base_recs[i]) for i in ids])
        b = compute_metrics(req, [recs[i]["prediction"] for i in ids], [_refs(recs[i]) for i in ids])
        results[other.id] = [compare_scores(m, a[m], b[m], higher_is_better=get_metric(m).higher_is_better,
                                            samples=settings.samples, confidence=settings.confidence,
                                            seed=settings.seed, permutations=settings.permutations)
                             for m in names]
        sizes[other.id] = len(ids)
    comparison = Comparison(base, runs[1:], results, sizes, warnings)
    if write:
        _write(project, comparison, argv)
    return comparison


def _write(project, comparison: Comparison, argv: list[str] | None) -> None:
    run = RunStore(project.runs_dir).create(
        "compare", config={"runs": [comparison.baseline.id, *[r.id for r in comparison.others]]},
        dataset=comparison.baseline.meta.get("dataset") or {}, seed=None,
        extra={"compare": {"baseline": comparison.baseline.id, "runs": [r.id for r in comparison.others],
                           "eval_key": _eval_meta(comparison.baseline).get("eval_key")}}, argv=argv)
    try:
        atomic_write_text(run.path / COMPARISON_FILE, json.dumps(comparison.as_dict(), indent=2) + "\n")
        build_compare_doc(comparison, run.id).write(run.path)
    except BaseException:
        run.finish(status="failed")
        raise
    run.finish(status="complete")
    comparison.run = run
