"""Log run folders into MLflow: one MLflow run per run folder, found again by its tag.

    params     run.yaml: kind, model, dataset, seed, and the resolved config flattened (a.b.c)
    metrics    metrics.json: each metric's value, `<name>.ci_low` / `<name>.ci_high`, `<name>.n`
    steps      training_log.json (fine-tuning): loss / eval_loss / learning_rate per step
    artifacts  run.yaml, metrics.json, report.md / report.html, plots/*.png
    tags       lifecycle.run_id, lifecycle.kind, lifecycle.status

Exporting twice never duplicates: a run folder already in the experiment (same lifecycle.run_id tag)
is skipped. mlflow is imported only here (the `tracking` extra).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from lifecycle.errors import DependencyError, LifecycleError

MAX_PARAM_VALUE = 6000   # MLflow's limit on a param value
BATCH = 100              # MLflow's limit on params per log_batch
ARTIFACTS = ("run.yaml", "metrics.json", "report.md", "report.html", "training_log.json")
STEP_KEYS = ("loss", "eval_loss", "learning_rate", "grad_norm")
MLFLOW_STATUS = {"complete": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "running": "RUNNING"}


@dataclass
class ExportResult:
    tracking_uri: str
    experiment: str
    exported: list[tuple[str, str]] = field(default_factory=list)   # (run folder id, mlflow run id)
    skipped: list[str] = field(default_factory=list)                # already in the experiment


def default_tracking_uri(root: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or (root / "mlruns").resolve().as_uri()


def _is_local(uri: str) -> bool:
    return uri.startswith("file:") or "://" not in uri


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """{"a": {"b": 1}} -> {"a.b": "1"}; lists as JSON. Values cut to MLflow's limit."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif prefix:
        text = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, tuple)) else str(value)
        out[prefix] = text[:MAX_PARAM_VALUE]
    return out


def run_params(meta: dict) -> dict[str, str]:
    params = {"kind": str(meta.get("kind", ""))}
    for key in ("model", "dataset", "config"):
        if isinstance(meta.get(key), dict):
            params.update(flatten(meta[key], key))
    if meta.get("seed") is not None:
        params["seed"] = str(meta["seed"])
    for key in ("shots", "eval_key", "role"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            params[key] = str(meta[key])[:MAX_PARAM_VALUE]
    return params


def run_metrics(metrics: Optional[dict]) -> dict[str, float]:
    """metrics.json -> flat {name: value}, with the confidence bounds and n beside each metric."""
    out: dict[str, float] = {}
    for name, m in ((metrics or {}).get("metrics") or {}).items():
        if not isinstance(m, dict) or not isinstance(m.get("value"), (int, float)):
            continue
        out[name] = float(m["value"])
        ci = m.get("ci")
        if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
            out[f"{name}.ci_low"], out[f"{name}.ci_high"] = float(ci[0]), float(ci[1])
        if isinstance(m.get("n"), int):
            out[f"{name}.n"] = float(m["n"])
    return out


def step_metrics(run_path: Path) -> list[tuple[str, float, int]]:
    """(key, value, step) from the Trainer's log_history, when the run has one."""
    path = run_path / "training_log.json"
    if not path.is_file():
        return []
    from lifecycle.errors import RunError
    from lifecycle.paths import safe_path
    from lifecycle.textio import read_json

    # bad bytes, bad JSON or a symlink out of the project: one located error, not a silent skip
    history = read_json(safe_path(path, what="training log"), kind="training log", error=RunError)
    out = []
    for entry in history if isinstance(history, list) else []:
        step = entry.get("step") if isinstance(entry, dict) else None
        if not isinstance(step, int):
            continue
        for key in STEP_KEYS:
            if isinstance(entry.get(key), (int, float)):
                out.append((f"train.{key}", float(entry[key]), step))
    return out


def _client(uri: str):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as err:
        raise DependencyError("exporting to MLflow needs mlflow",
                              hint="pip install 'genai-lifecycle[tracking]' (or mlflow-skinny)") from err
    if _is_local(uri):
        # mlflow 3 refuses its file store unless told; a local folder is what a team without a
        # tracking server has, and this is the only way to use it with mlflow-skinny (no sqlite).
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MlflowClient(tracking_uri=uri)


def export_runs(runs: Iterable, *, tracking_uri: str, experiment: str) -> ExportResult:
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    result = ExportResult(tracking_uri, experiment)
    try:
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        for run in runs:
            done = client.search_runs([experiment_id], filter_string=f"tags.`lifecycle.run_id` = '{run.id}'",
                                      max_results=1)
            if done:
                result.skipped.append(run.id)
                continue
            meta = run.meta
            # read (and validate) everything before the MLflow run exists: a bad file must not leave
            # a half-exported run that the next export would skip as done
            stamp = int(time.time() * 1000)
            metrics = [Metric(k, v, stamp, 0) for k, v in run_metrics(run.metrics()).items()]
            metrics += [Metric(k, v, stamp, step) for k, v, step in step_metrics(run.path)]
            tags = {"lifecycle.run_id": run.id, "lifecycle.kind": run.kind, "lifecycle.status": run.status,
                    "mlflow.runName": run.id}
            created = client.create_run(experiment_id, run_name=run.id, tags=tags)
            rid = created.info.run_id
            params = [Param(k[:250], v) for k, v in sorted(run_params(meta).items())]
            for i in range(0, len(params), BATCH):
                client.log_batch(rid, params=params[i:i + BATCH])
            for i in range(0, len(metrics), 1000):
                client.log_batch(rid, metrics=metrics[i:i + 1000])
            for name in ARTIFACTS:
                if (run.path / name).is_file() and not (run.path / name).is_symlink():
                    client.log_artifact(rid, str(run.path / name), "lifecycle")
            plots = run.path / "plots"
            if plots.is_dir() and not plots.is_symlink():
                for png in sorted(p for p in plots.glob("*.png") if not p.is_symlink()):
                    client.log_artifact(rid, str(png), "lifecycle/plots")
            client.set_terminated(rid, MLFLOW_STATUS.get(run.status, "FINISHED"))
            result.exported.append((run.id, rid))
    except MlflowException as err:
        raise LifecycleError(f"MLflow at {tracking_uri}: {err.message}",
                             hint="check --tracking-uri (a folder, file:///path, or http://server:5000)") from err
    return result
