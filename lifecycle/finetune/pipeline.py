"""`lifecycle finetune`: resolve configs, create or resume the run, train (in this process or
under `accelerate launch`), record the results, then evaluate against the baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lifecycle.errors import FinetuneError
from lifecycle.finetune import runs as ft_runs
from lifecycle.finetune.resources import gib
from lifecycle.runs.store import utc_now
from lifecycle.reporting import to_stderr


@dataclass
class FinetuneRequest:
    """The command line of `lifecycle finetune`."""

    method: str | None = None
    max_steps: int | None = None
    resume: bool = False
    run: str | None = None
    force: bool = False
    launch: str | None = None  # None or "accelerate"
    config_file: Path | None = None
    evaluate: bool = True
    argv: list[str] = field(default_factory=lambda: list(sys.argv))
    echo: Callable[[str], None] = to_stderr


def resolve_configs(project, req: FinetuneRequest, stored: dict | None = None):
    """(model_cfg, prompt_cfg, ft) from the project's files with the command-line overrides; on
    resume, max_steps defaults to what the run was started with."""
    from pydantic import ValidationError

    ft = project.finetune_config()
    data = ft.model_dump()
    if req.method:
        data["method"] = req.method
    max_steps = req.max_steps
    if max_steps is None and stored:
        max_steps = ((stored.get("finetune") or {}).get("training") or {}).get("max_steps")
    if max_steps is not None:
        data["training"]["max_steps"] = max_steps
    try:
        ft = type(ft).model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise FinetuneError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from err
    return project.model_config(), project.prompt_config(), ft


def job_spec_from_run(project, run, resume_from: Path | None, echo):
    """Everything to train, read back from run.yaml: workers of a distributed launch and the local
    path build the job the same way."""
    from lifecycle.config.finetune import FinetuneConfig
    from lifecycle.config.model import ModelConfig
    from lifecycle.config.prompt import PromptConfig
    from lifecycle.finetune.training import JobSpec

    from lifecycle.prompting.preprocess import project_preprocess

    cfg = run.meta["config"]
    ft = FinetuneConfig.model_validate(cfg["finetune"])
    model_cfg = ModelConfig.model_validate(cfg["model"])
    prompt_cfg = PromptConfig.model_validate(cfg["prompt"])
    return JobSpec(
        model_ref=model_cfg.model, revision=model_cfg.revision, trust_remote_code=model_cfg.trust_remote_code,
        allow_pickle=model_cfg.allow_pickle,
        architecture=model_cfg.architecture, max_context=model_cfg.max_context, ft=ft,
        prompt_cfg=prompt_cfg, train_path=project.path(ft.data.train),
        prepare=project_preprocess(project, prompt_cfg) if prompt_cfg.preprocess else None,
        validation_path=project.path(ft.data.validation) if ft.data.validation else None,
        out_dir=run.path, resume_from=resume_from, echo=echo)


def _record_overlap(project, run, ft, echo) -> None:
    """run.yaml `overlap`: eval examples that are also training examples (adapt.train_eval_disjoint)."""
    from lifecycle.errors import LifecycleError
    from lifecycle.finetune.overlap import describe, project_overlap

    try:
        overlap = project_overlap(project, ft.data.train)
    except LifecycleError as err:  # the eval set is the evaluation's problem; say so, train anyway
        echo(f"note: train/eval overlap not measured: {str(err).splitlines()[0]}")
        return
    run.update_meta(overlap=overlap)
    if overlap["overlap"]:
        echo(f"warning: {describe(overlap)}; point data.train (configs/finetune.yaml) at data without them")


def _prepare_run(project, req: FinetuneRequest):
    """(run, resume_from): a new run, or the run to resume and its last complete checkpoint."""
    if not req.resume:
        if req.run:
            raise FinetuneError("--run names a run to resume; use it with --resume")
        model_cfg, prompt_cfg, ft = resolve_configs(project, req)
        waiting = ft_runs.resumable_runs(project)
        run = ft_runs.create_run(project, model_cfg=model_cfg, ft=ft, prompt_cfg=prompt_cfg, argv=req.argv)
        req.echo(f"run {run.id}")
        _record_overlap(project, run, ft, req.echo)
        for old in waiting:  # a new run never hides an interrupted one
            req.echo(f"note: run {old.id} is {old.status}; `lifecycle finetune --resume --run {old.id}` continues it")
        return run, None
    run = ft_runs.find_resumable(project, req.run)
    try:  # claimed: a refusal below must not keep the run locked in this process
        return _resume_claimed(project, req, run)
    except BaseException:
        run.release()
        raise


def _resume_claimed(project, req: FinetuneRequest, run):
    from lifecycle.finetune.training import resume_point

    model_cfg, prompt_cfg, ft = resolve_configs(project, req, stored=run.meta.get("config"))
    current = ft_runs.fingerprint(project, model_cfg, ft, prompt_cfg)
    changes = ft_runs.check_resume_allowed(run, current, req.force, req.echo)
    if _trained(run):  # training finished; the evaluation after it did not
        run.update_meta(status="running", resumes=int(run.meta.get("resumes", 0)) + 1)
        req.echo(f"run {run.id}: training is complete; resuming the evaluation")
        return run, None
    checkpoint = resume_point(run.path, warn=req.echo)  # raises when none is complete
    if req.force:  # continue with what the project says now
        cfg = dict(run.meta["config"])
        cfg.update(finetune=ft.model_dump(mode="json"), prompt=prompt_cfg.model_dump(mode="json"),
                   model=model_cfg.model_dump(mode="json"))
        forced = list(run.meta.get("forced_resumes") or [])
        forced.append({"at": utc_now(), "changes": changes, "argv": list(req.argv)})
        run.update_meta(config=cfg, fingerprint=current, forced_resumes=forced)
    elif req.max_steps is not None:
        cfg = dict(run.meta["config"])
        cfg["finetune"] = ft.model_dump(mode="json")
        run.update_meta(config=cfg)
    run.update_meta(status="running", resumed_from=checkpoint.name,
                    resumes=int(run.meta.get("resumes", 0)) + 1)
    req.echo(f"run {run.id}: resuming from {checkpoint.name}")
    return run, checkpoint


def finetune(project, req: FinetuneRequest) -> "ft_runs.Run":
    """Train, record, evaluate; the run is `complete` only once all three are done. Any failure
    (any exception) marks it failed, Ctrl-C or SIGTERM interrupted, both resumable: a kill during
    the evaluation resumes the evaluation only."""
    config_file = check_launch(project, req)  # before a run folder exists
    run, resume_from = _prepare_run(project, req)
    again = f"lifecycle finetune --resume --run {run.id}"
    if req.launch:
        again += f" --launch accelerate --config-file {req.config_file}"
    with run.recording(resume_hint=f"`{again}` continues it"):
        if not _trained(run):
            if req.launch:
                summary = _launch_distributed(project, run, resume_from, req, config_file)
            else:
                summary = train_in_process(project, run, resume_from, req.echo)
            _record(run, summary, req.echo)
        if req.evaluate:
            from lifecycle.finetune.evaluation import evaluate_finetune

            evaluate_finetune(project, run, req.echo)
        from lifecycle.finetune.report import write_report

        write_report(run)  # loss curve, tuned vs baseline, links to the eval and compare reports
        req.echo(f"report: {run.path / 'report.html'}")
        run.finish("complete")
    return run


def _trained(run) -> bool:
    """Training was recorded and its final weights are there (only the evaluation may be missing)."""
    weights = (run.meta.get("training") or {}).get("weights")
    return bool(weights) and (run.path / str(weights)).is_dir()


def _summary(result) -> dict:
    share = result.trainable_params / result.total_params if result.total_params else 0.0
    return {
        "global_step": result.global_step, "train_loss": result.train_loss,
        "trainable_params": result.trainable_params, "total_params": result.total_params,
        "trainable_share": share, "precision": result.precision, "memory_estimate": result.estimate,
        "peak_memory": result.peak, "encoder_decoder": result.encoder_decoder,
        "num_train_examples": result.num_examples, "target_modules": result.target_modules,
        "world_size": result.world_size, "weights": result.weights_dir.name,
        "log_history": result.log_history,
    }


def train_in_process(project, run, resume_from: Path | None, echo) -> dict:
    from lifecycle.finetune.resources import world_rank
    from lifecycle.finetune.training import run_job

    result = run_job(job_spec_from_run(project, run, resume_from, echo))
    summary = _summary(result)
    ft_runs.write_rank_report(run.path, world_rank(), {
        "rank": world_rank(), "world_size": result.world_size, "global_step": result.global_step,
        "train_loss": result.train_loss, "peak_memory": result.peak})
    return summary


def worker(project, run_dir: Path, resume_from: Path | None, echo) -> None:
    """One process of `accelerate launch`: train; rank 0 writes the summary for the launcher."""
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.runs.store import Run

    run = Run(run_dir)
    summary = train_in_process(project, run, resume_from, echo)
    from lifecycle.finetune.resources import world_rank

    if world_rank() == 0:
        atomic_write_text(run_dir / "training_summary.json", json.dumps(summary, indent=2, default=str) + "\n")


def check_launch(project, req: FinetuneRequest, environ=None) -> Path | None:
    """The launcher guard, before any run folder exists: refuse a `lifecycle finetune` that a
    distributed launcher started directly (every process would make its own run), and a launch
    request that cannot start. Returns the accelerate config file for `--launch accelerate`."""
    environ = os.environ if environ is None else environ
    if int(environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise FinetuneError("`lifecycle finetune` was started by a distributed launcher directly; every process "
                            "would make its own run folder",
                            hint="run `lifecycle finetune --launch accelerate --config-file F` instead: it makes "
                            "one run folder and starts the processes itself")
    if req.launch is None:
        if req.config_file is not None:
            raise FinetuneError("--config-file is for --launch accelerate", hint="add --launch accelerate")
        return None
    if req.launch != "accelerate":
        raise FinetuneError(f"unknown launcher '{req.launch}'; use --launch accelerate")
    if req.config_file is None:
        raise FinetuneError("--launch accelerate needs --config-file F (see configs/accelerate/)")
    config_file = project.path(req.config_file)
    if not config_file.is_file():
        raise FinetuneError(f"accelerate config file '{config_file}' does not exist",
                            hint="use one of configs/accelerate/*.yaml")
    return config_file


def _launch_distributed(project, run, resume_from: Path | None, req: FinetuneRequest, config_file: Path) -> dict:
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_file),
           "-m", "lifecycle", "finetune", "--worker-run", str(run.path)]
    if resume_from is not None:
        cmd += ["--worker-resume-from", str(resume_from)]
    req.echo("launching: " + " ".join(cmd[2:]))
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    proc = subprocess.run(cmd, cwd=project.root, env=env)
    if proc.returncode != 0:
        raise FinetuneError(f"distributed training failed (accelerate launch exited {proc.returncode})",
                            hint="read the worker output above; resume with `lifecycle finetune --resume "
                            f"--launch accelerate --config-file {req.config_file}`")
    summary_file = run.path / "training_summary.json"
    if not summary_file.is_file():
        raise FinetuneError(f"distributed training ended without {summary_file.name} from rank 0")
    return json.loads(summary_file.read_text(encoding="utf-8"))


def _record(run, summary: dict, echo) -> None:
    from lifecycle.finetune.plots import plot_loss

    log_history = summary.pop("log_history", [])
    ft_runs.write_training_log(run, log_history)
    plot = plot_loss(log_history, run.path / "plots" / "loss.png",
                     f"{run.meta.get('method')} fine-tuning, run {run.id}")
    ranks = ft_runs.read_rank_reports(run.path)
    run.update_meta(training=summary, ranks=[r.get("rank") for r in ranks],
                    loss_plot=str(plot.relative_to(run.path)) if plot else None)
    peak = summary.get("peak_memory") or {}
    measured = peak.get("peak_cuda_allocated_bytes", peak.get("peak_rss_bytes"))
    what = "CUDA allocated" if "peak_cuda_allocated_bytes" in peak else "process RSS"
    echo(f"trained {summary['global_step']} steps, final train loss {summary.get('train_loss')}; "
         f"peak memory {gib(measured)} ({what})")
    echo(f"weights: {run.path / summary['weights']}")
