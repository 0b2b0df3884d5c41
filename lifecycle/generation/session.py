"""What `lifecycle generate` does, as a library: resolve the project's configs, load the model once,
build the prompts for each K, and stream each K's predictions into its own run folder.

A run's run.yaml keeps everything needed to finish it later (`resume_generate`, under the one
resume policy of lifecycle.runs.resume): the resolved generation, prompt and model configs (and
the --model given, if any), the dataset path and its sha256, K and the limit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.config.generation import GenerationSettings
from lifecycle.config.model import ModelConfig
from lifecycle.config.prompt import PromptConfig
from lifecycle.config.yaml_io import load_config
from lifecycle.artifacts import weights_hash
from lifecycle.errors import RunError
from lifecycle.generation.engine import Engine
from lifecycle.generation.runner import generate_to_run
from lifecycle.loading import load_model_from_config
from lifecycle.paths import safe_path
from lifecycle.prompting import summarize_budget
from lifecycle.prompting.effective import effective_k as _effective_k
from lifecycle.prompting.project_inputs import PromptInputs, dataset_path, load_prompt_config, load_prompt_examples
from lifecycle.hashing import file_sha256
from lifecycle.runs.resume import check_inputs, open_for_resume
from lifecycle.runs.store import Run, RunStore
KIND = "generate"


@dataclass
class GenerateRequest:
    shots: list[int] | None = None        # None: shots.k of the prompt config
    limit: int | None = None
    config: Path | None = None            # generation config file
    preset: str | None = None             # greedy | sampling | beam
    prompt_config: Path | None = None
    prompt_preset: str | None = None
    model: str | None = None
    data: Path | None = None
    seed: int | None = None


@dataclass
class GenerateResult:
    run: Run
    k: int
    examples: list[dict]
    prompts: list[Any]                    # RenderedPrompt, input order
    records: list[dict]                   # predictions.jsonl, input order
    generated: int                        # by this call (the rest were already done)
    wall_s: float
    budget_line: str


@dataclass
class _Plan:
    model_option: str | None              # --model, resolved as model_config_for resolves it
    settings: GenerationSettings
    prompt_cfg: PromptConfig
    model_cfg: ModelConfig
    data_path: Path
    limit: int | None
    examples: list[dict]
    pool: list[dict] | None
    pool_path: Path | None


def _generation_settings(project, request: GenerateRequest) -> GenerationSettings:
    if request.config is not None:
        settings = load_config(request.config, GenerationSettings)
    elif project.path(project.manifest.adaptation.generation).is_file():
        settings = project.generation_config()
    else:
        settings = GenerationSettings()
    if request.preset:
        settings = settings.with_preset(request.preset)
    if request.seed is not None:
        settings = GenerationSettings.model_validate({**settings.model_dump(exclude_unset=True), "seed": request.seed})
    return settings


def _plan(project, request: GenerateRequest) -> _Plan:
    settings = _generation_settings(project, request)
    prompt_cfg = load_prompt_config(project, request.prompt_config, request.prompt_preset)
    data_path = safe_path(dataset_path(project, request.data)).resolve()  # a link out of the project is refused
    examples, pool = load_prompt_examples(project, prompt_cfg, data_path, limit=request.limit)
    pool_path = _pool_path(prompt_cfg, project.root)
    model_cfg = project.model_config_for(request.model)
    return _Plan(model_cfg.model if request.model else None, settings, prompt_cfg, model_cfg, data_path,
                 request.limit, examples, pool, pool_path)


def _pool_path(prompt_cfg: PromptConfig, root: Path) -> Path | None:
    if not prompt_cfg.shots.pool:
        return None
    p = Path(prompt_cfg.shots.pool)
    return (p if p.is_absolute() else root / p).resolve()


def _prompts_for(plan: _Plan, loaded, k: int):
    return PromptInputs.for_model(loaded, plan.prompt_cfg, plan.examples, reserve_tokens=plan.settings.max_new_tokens,
                                  pool=plan.pool, data_path=plan.data_path).build(k)


def _run_config(plan: _Plan, k: int) -> dict:
    return {
        "shots": k,
        "limit": plan.limit,
        "generation": plan.settings.resolved().model_dump(mode="json"),
        "prompt": plan.prompt_cfg.model_dump(mode="json"),
        "model": plan.model_cfg.model_dump(mode="json"),
        "model_option": plan.model_option,  # what a resume compares configs/model.yaml with
    }


def run_generate(project, request: GenerateRequest, *, progress: bool = False) -> list[GenerateResult]:
    """One complete run per K. Every K's prompts are built (and budget-checked) before any run starts."""
    plan = _plan(project, request)
    loaded = load_model_from_config(plan.model_cfg)
    engine = Engine(loaded, plan.settings, stop=plan.prompt_cfg.stop, progress=progress)
    ks = request.shots if request.shots is not None else [plan.prompt_cfg.shots.k]
    prompts_by_k = {k: _prompts_for(plan, loaded, k) for k in ks}
    dataset = {"path": str(plan.data_path), "sha256": file_sha256(plan.data_path), "examples": len(plan.examples)}
    if plan.pool_path is not None:
        dataset["shot_pool"] = {"path": str(plan.pool_path), "sha256": file_sha256(plan.pool_path)}
    model = loaded.describe()
    if Path(plan.model_cfg.model).is_dir():  # a resume refuses other weights in the same folder
        model["weights_sha256"] = weights_hash(plan.model_cfg.model)
    store = RunStore(project.runs_dir)
    results = []
    for k, prompts in prompts_by_k.items():
        run = store.create(KIND, config=_run_config(plan, k), model=model, dataset=dataset,
                           seed=plan.settings.seed,
                           extra={"shots": k, "generation_config": engine.generation_config.to_diff_dict()})
        results.append(_execute(engine, run, k, plan, prompts))
    return results


def resume_generate(project, ref: str, *, progress: bool = False) -> GenerateResult:
    """Finish an interrupted generate run with the configs in its run.yaml; done examples are skipped.
    The one resume policy (lifecycle.runs.resume): a complete run or changed inputs are refused."""
    run = open_for_resume(project.runs_dir, ref, kind=KIND, what="a 'generate' run", new_run=_NEW_RUN)
    try:
        plan = _plan_from_run(project, run)
        loaded = load_model_from_config(plan.model_cfg)
        engine = Engine(loaded, plan.settings, stop=plan.prompt_cfg.stop, progress=progress)
        k = int(run.meta["config"]["shots"])
        prompts = _prompts_for(plan, loaded, k)
    except BaseException:
        run.release()  # refused before writing: the run stays as it was, free for a later resume
        raise
    return _execute(engine, run, k, plan, prompts)


_NEW_RUN = "start a new run with `lifecycle generate`"


def _plan_from_run(project, run: Run) -> _Plan:
    """The plan run.yaml recorded, once its inputs (model, weights, dataset, shot pool) are checked."""
    meta = run.meta
    try:
        cfg = meta["config"]
        settings = GenerationSettings.model_validate(cfg["generation"])
        prompt_cfg = PromptConfig.model_validate(cfg["prompt"])
        model_cfg = ModelConfig.model_validate(cfg["model"])
        data_path = Path(meta["dataset"]["path"])
        if not isinstance(meta["dataset"]["sha256"], str):  # what check_inputs compares the data with
            raise TypeError("dataset.sha256 is not a string")
    except (KeyError, TypeError, ValueError) as err:
        raise RunError(f"{run.path / 'run.yaml'}: cannot resume: incomplete or edited run file ({err})".splitlines()[0],
                       hint=_NEW_RUN) from err
    option = cfg["model_option"] if "model_option" in cfg else _old_model_option(meta, model_cfg)
    check_inputs(run, model_now=project.model_config_for(option).model_dump(mode="json"), new_run=_NEW_RUN)
    examples, pool = load_prompt_examples(project, prompt_cfg, data_path, limit=cfg.get("limit"))
    return _Plan(option, settings, prompt_cfg, model_cfg, data_path, cfg.get("limit"), examples, pool,
                 _pool_path(prompt_cfg, project.root))


def _old_model_option(meta: dict, model_cfg: ModelConfig) -> str | None:
    """Runs recorded before `config.model_option`: their command line says whether --model was given."""
    argv = [str(a) for a in meta.get("command") or []]
    return model_cfg.model if any(a == "--model" or a.startswith("--model=") for a in argv) else None


def _execute(engine, run: Run, k: int, plan: _Plan, prompts: list) -> GenerateResult:
    budget = summarize_budget(prompts, engine.loaded.context_window)
    t = time.perf_counter()
    run.update_meta(status="running")
    # interrupted (Ctrl-C, SIGTERM) or failed is recorded by Run.recording, with how to finish it
    with run.recording(resume_hint=f"`lifecycle generate --resume {run.id}` finishes it"):
        done = generate_to_run(engine, prompts, run)
        wall = time.perf_counter() - t
        records = _finish(run, k, prompts, budget, done, wall)
    return GenerateResult(run, k, plan.examples, prompts, records, done.generated, wall, budget.line())


def _finish(run: Run, k: int, prompts: list, budget, done, wall: float) -> list[dict]:
    """Record the complete run (honest K, budget, throughput); returns its records in prompt order."""
    by_id = {r["id"]: r for r in run.iter_predictions()}
    records = [by_id[p.id] for p in prompts if p.id in by_id]
    if len(records) != len(prompts):
        raise RunError(f"run {run.id}: {len(prompts) - len(records)} predictions missing after generation")
    tokens_out = sum(r["tokens_out"] for r in records)
    run.finish("complete", examples=len(records), generated_this_session=done.generated,
               resumed_skipped=done.skipped,
               budget={**_effective_k(prompts, k).as_record(),  # honest K: asked, mean used, full K
                       "shots_requested": k, "fewer_shots": budget.shots_dropped, "truncated": budget.truncated,
                       "longest_prompt_tokens": budget.max_tokens, "limit": budget.limit},
               throughput={"examples_per_s": round(done.generated / wall, 3) if wall else None,
                           "tokens_out": tokens_out})
    return records

