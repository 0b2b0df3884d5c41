"""Finetune run folders: what a run was started with (for --resume) and what it produced.

    runs/<time>-finetune-<hash>/
      run.yaml              resolved finetune/prompt/model config, fingerprint, results
      checkpoints/          checkpoint-N (Trainer), torn-checkpoint-N (set aside on resume)
      adapter/ or model/    final weights (safetensors) + tokenizer
      training_log.json     the Trainer's log_history
      plots/loss.png        loss curve
      ranks/rank-R.json     what each process of a distributed run did
"""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text
from lifecycle.errors import FinetuneError, RunError
from lifecycle.hashing import file_sha256, stable_hash
from lifecycle.runs.store import Run, RunStore
KIND = "finetune"
RESUMABLE = ("running", "failed", "interrupted")


def model_fingerprint(model_cfg) -> dict:
    """The model as configured, plus its config.json hash when it is a local folder (a re-built or
    replaced model at the same path is a different model)."""
    out = {"id": model_cfg.model, "revision": model_cfg.revision}
    cfg = Path(model_cfg.model).expanduser() / "config.json"
    if cfg.is_file():
        out["config_sha256"] = file_sha256(cfg)
        weights = [p for p in sorted(cfg.parent.glob("*.safetensors"))]
        if weights:
            out["weights_sha256"] = stable_hash([file_sha256(p) for p in weights])
    return out


def fingerprint(project, model_cfg, ft, prompt_cfg) -> dict:
    """What must not change between a run and its --resume: model, data (and the prompt that turns
    it into examples), method."""
    train = project.path(ft.data.train)
    val = project.path(ft.data.validation) if ft.data.validation else None
    return {
        "model": model_fingerprint(model_cfg),
        "data": {
            "train": ft.data.train,
            "train_sha256": file_sha256(train) if train.is_file() else None,
            "validation_sha256": file_sha256(val) if val and val.is_file() else None,
            "prompt": stable_hash(prompt_cfg.model_dump(), 16),
        },
        "method": {"method": ft.method, "peft": ft.peft.model_dump() if ft.method != "full" else None},
        # every hyperparameter but max_steps, which --resume --max-steps may raise on purpose
        "training": {k: v for k, v in ft.training.model_dump(mode="json").items() if k != "max_steps"},
    }


def fingerprint_changes(old: dict, new: dict) -> list[str]:
    changes = []
    for part in ("model", "data", "method", "training"):
        if part == "training" and "training" not in (old or {}):
            continue  # runs recorded before hyperparameters were fingerprinted
        a, b = (old or {}).get(part), new.get(part)
        if a != b:
            keys = sorted({*(a or {}), *(b or {})})
            diff = [k for k in keys if (a or {}).get(k) != (b or {}).get(k)]
            changes.append(f"{part} ({', '.join(diff)})")
    return changes


def create_run(project, *, model_cfg, ft, prompt_cfg, argv: list[str] | None = None) -> Run:
    fp = fingerprint(project, model_cfg, ft, prompt_cfg)
    config = {"finetune": ft.model_dump(mode="json"), "prompt": prompt_cfg.model_dump(mode="json"),
              "model": model_cfg.model_dump(mode="json")}
    dataset = {"path": ft.data.train, "sha256": fp["data"]["train_sha256"],
               "validation": ft.data.validation, "validation_sha256": fp["data"]["validation_sha256"]}
    return RunStore(project.runs_dir).create(
        KIND, config=config, model=fp["model"], dataset=dataset, seed=ft.training.seed, argv=argv,
        extra={"method": ft.method, "fingerprint": fp})


def resumable_runs(project) -> list[Run]:
    """Finetune runs that --resume can continue (interrupted or failed, their writer gone), oldest first."""
    return [r for r in RunStore(project.runs_dir).list(kind=KIND) if r.status in RESUMABLE and not r.is_being_written()]


def find_resumable(project, ref: str | None) -> Run:
    """The run to resume, claimed for this process: a finished run or one another process is
    writing is refused with a one-line error."""
    store = RunStore(project.runs_dir)
    if ref:
        run = store.get(ref)
        if run.kind != KIND:
            raise RunError(f"run {run.id} is a '{run.kind}' run, not a finetune run")
    else:
        candidates = resumable_runs(project)
        if not candidates:
            latest = store.latest(kind=KIND, status=None)
            raise FinetuneError("no finetune run to resume in " + str(project.runs_dir)
                                + (f" (the latest, {latest.id}, is {latest.status})" if latest else ""),
                                hint="start a new run with `lifecycle finetune` (without --resume)")
        run = candidates[-1]
        if len(candidates) > 1:
            listing = ", ".join(f"{r.id} ({r.status})" for r in candidates)
            raise FinetuneError(f"{len(candidates)} finetune runs can be resumed: {listing}",
                                hint=f"name one: `lifecycle finetune --resume --run {run.id}`")
    if run.recorded_status == "complete":
        raise RunError(f"run {run.id} is complete: finished runs are never changed, so it cannot be resumed",
                       hint="train more in a new run: `lifecycle finetune --max-steps N` (without --resume)")
    return run.claim()


def check_resume_allowed(run: Run, current: dict, force: bool, echo) -> list[str]:
    """The changes since the run started (empty: none); refused unless `force`."""
    changes = fingerprint_changes(run.meta.get("fingerprint") or {}, current)
    if not changes:
        return changes
    what = "; ".join(changes)
    if not force:
        raise FinetuneError(f"cannot resume run {run.id}: changed since it started: {what}",
                            hint="restore the original model/data/method/hyperparameters, start a new run without --resume, "
                            "or pass --force to continue anyway")
    echo(f"warning: --force: resuming run {run.id} although {what} changed (recorded in run.yaml)")
    return changes


def write_training_log(run: Run, log_history: list[dict]) -> Path:
    path = run.path / "training_log.json"
    atomic_write_text(path, json.dumps(log_history, indent=2) + "\n")
    return path


def write_rank_report(run_dir: Path, rank: int, report: dict) -> None:
    folder = run_dir / "ranks"
    folder.mkdir(exist_ok=True)
    atomic_write_text(folder / f"rank-{rank}.json", json.dumps(report, indent=2) + "\n")


def read_rank_reports(run_dir: Path) -> list[dict]:
    folder = run_dir / "ranks"
    if not folder.is_dir():
        return []
    from lifecycle.paths import safe_path
    from lifecycle.textio import read_json

    reports = []
    for p in sorted(folder.glob("rank-*.json")):  # bad bytes / JSON: one located RunError
        report = read_json(safe_path(p, what="rank report"), kind="rank report", error=RunError)
        if not isinstance(report, dict):
            raise RunError(f"{p}: a rank report must be a JSON object")
        reports.append(report)
    return reports


def weights_dir(run: Run) -> Path:
    """The final adapter or full model of a complete finetune run."""
    for name in ("adapter", "model"):
        if (run.path / name).is_dir():
            return run.path / name
    raise RunError(f"finetune run {run.id} has no adapter/ or model/ folder (status: {run.status})",
                   hint="finish it with `lifecycle finetune --resume`")
