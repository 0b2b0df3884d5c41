"""`lifecycle eval run`: generate (or take predictions), score with intervals, write the run folder.

Everything that can be checked is checked before a run folder exists (metric names, eval set,
predictions file, prompts), so a bad input leaves nothing behind. Generated predictions are
streamed into the run (an interrupted run keeps what it finished); metrics.json, scores.jsonl and
the reports are written atomically at the end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lifecycle.artifacts import weights_hash
from lifecycle.config.eval import EvalConfig
from lifecycle.config.generation import GenerationSettings
from lifecycle.config.model import ModelConfig
from lifecycle.config.prompt import PromptConfig
from lifecycle.config.yaml_io import atomic_write_text
from lifecycle.errors import EvaluationError
from lifecycle.evaluation.evalset import EvalSet, project_eval_set
from lifecycle.evaluation.metrics.custom import register_project_metrics
from lifecycle.evaluation.metrics.registry import metric_requests
from lifecycle.evaluation.predictions import Aligned, align, read_prediction_records
from lifecycle.evaluation.reports.eval_run import write_eval_reports
from lifecycle.evaluation.roles import decoding_of_settings, role_of, role_of_model
from lifecycle.evaluation.statistics.intervals import StatsSettings, per_example_rows, score
from lifecycle.evaluation.statistics.targets import TargetResult, best_for, project_targets
from lifecycle.generation import Engine, generate_to_run
from lifecycle.hashing import stable_hash
from lifecycle.loading import load_model_from_config
from lifecycle.normalize import LABEL_NORMALIZATION, label_normalize
from lifecycle.prompting.effective import effective_k
from lifecycle.prompting.project_inputs import load_prompt_inputs
from lifecycle.runs.resume import check_inputs, open_for_resume, recorded as _recorded_config
from lifecycle.runs.store import Run, RunStore, _current_user, utc_now
from lifecycle.text_safety import MAX_NOTE_CHARS, printable

SCORES_FILE = "scores.jsonl"


@dataclass
class EvalOptions:
    shots: list[int] | None = None  # None: configs/eval.yaml `shots`
    predictions: Path | None = None  # score this file instead of generating
    rescore: str | None = None  # score this run's predictions again
    resume: str | None = None  # finish an interrupted generated run (same folder, done examples kept)
    limit: int | None = None  # first N examples of the eval set (overrides dataset.limit)
    generation: object | None = None  # GenerationSettings overriding configs/generation.yaml (sweeps)
    report: bool = True
    progress: bool = False
    argv: list[str] | None = None
    kind: str = "eval"
    extra_meta: dict = field(default_factory=dict)
    role: str | None = None  # lifecycle.evaluation.roles; None: inferred (predictions files are `external`)
    attest: str | None = None  # with `predictions`: a person's note that the file is the shipped model's output
    model_cache: dict | None = None  # reuse loaded models across calls (sweeps): model ref -> LoadedModel


@dataclass
class ScoredRun:
    run: Run
    shots: int | None
    doc: dict  # metrics.json
    aligned: Aligned
    scores: dict


@dataclass
class EvalOutcome:
    runs: list[ScoredRun]
    targets: list[TargetResult]
    eval_key: str

    @property
    def targets_met(self) -> bool:
        return all(t.met for t in self.targets)


@dataclass
class _Context:
    project: object
    cfg: object
    evalset: EvalSet
    requests: list[tuple[str, dict]]
    prompt: dict | None
    eval_key: str
    stats: StatsSettings
    labels: list[str] | None = None


def _prompt_dict(project) -> dict | None:
    path = project.path(project.manifest.adaptation.prompt)
    if not path.is_file():
        return None
    return project.prompt_config().model_dump(mode="json")


def prepare(project, *, limit: int | None = None, recorded: dict | None = None) -> _Context:
    """Everything scoring needs, from configs/eval.yaml and configs/prompt.yaml, or from `recorded`
    (a resumed run's run.yaml `config`: the eval config and prompt it started with)."""
    cfg = project.eval_config() if recorded is None else \
        _recorded_config(recorded, "eval", EvalConfig.model_validate, new_run=_NEW_RUN)
    if limit is not None:
        cfg = cfg.model_copy(update={"dataset": cfg.dataset.model_copy(update={"limit": limit})})
    register_project_metrics(project, cfg.metrics)  # `function:` metrics, from the project's src/
    requests = metric_requests(cfg.metrics)  # unknown metric names fail here, before anything runs
    evalset = project_eval_set(project, cfg)
    prompt = _prompt_dict(project) if recorded is None else recorded.get("prompt")
    stats = StatsSettings(cfg.bootstrap_samples, cfg.confidence, cfg.seed)
    labels = declared_labels(project, prompt)
    return _Context(project, cfg, evalset, with_labels(requests, labels), prompt, evalset.eval_key(prompt), stats,
                    labels)


_LABEL_METRICS = ("accuracy", "macro_f1", "off_label_rate")
_LABEL_ARG = ("macro_f1", "off_label_rate")  # the metrics that take the declared label set


def declared_labels(project, prompt: dict | None) -> list[str] | None:
    """configs/prompt.yaml `labels`, else lifecycle.yaml scope.labels, else None."""
    labels = (prompt or {}).get("labels")
    if labels:
        return list(labels)
    scope = getattr(project.manifest, "scope", None)
    return list(scope.labels) if getattr(scope, "labels", None) else None


def with_labels(requests: list[tuple[str, dict]], labels: list[str] | None) -> list[tuple[str, dict]]:
    """Label metrics get the declared label set (unless the eval config gives its own), and any
    classification scoring also reports off_label_rate."""
    names = [n for n, _ in requests]
    if not any(n in _LABEL_METRICS for n in names):
        return requests
    labels = tuple(labels) if labels else None  # hashable: the registry groups metrics by their args
    out = [(n, {**a, "labels": labels} if labels and n in _LABEL_ARG and "labels" not in a else a)
           for n, a in requests]
    if "off_label_rate" not in names:
        out.append(("off_label_rate", {"labels": labels} if labels else {}))
    return [(n, {k: tuple(v) if isinstance(v, list) else v for k, v in a.items()}) for n, a in out]


def _plain(args: dict) -> dict:
    """Metric args as run.yaml keeps them (lists, not tuples)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in args.items()}


def _score(ctx: _Context, records: list[dict], source: str) -> tuple[Aligned, dict, dict]:
    aligned = align(records, ctx.evalset, source=source)
    scores, doc = score(aligned.predictions, aligned.references, ctx.requests, ctx.stats)
    if any(n in _LABEL_METRICS for n, _ in ctx.requests):
        changed = sum(label_normalize(p) != p for p in aligned.predictions)
        doc["label_normalization"] = {"rules": LABEL_NORMALIZATION, "labels": ctx.labels,
                                      "answers_changed": changed, "n": len(aligned.predictions)}
    return aligned, scores, doc


def _create_run(ctx: _Context, opts: EvalOptions, *, shots: int | None, source: str, model: dict | None,
                generation: dict | None, group: str, role: str, model_config: dict | None = None) -> Run:
    eval_meta = {"eval_key": ctx.eval_key, "shots": shots, "source": source, "group": group,
                 "role": role, "decoding": decoding_of_settings(generation),
                 "metrics": [n for n, _ in ctx.requests], "dataset_sha256": ctx.evalset.sha256,
                 "references_hash": ctx.evalset.references_hash,
                 "metric_args": {n: _plain(a) for n, a in ctx.requests}}  # what was computed (labels included)
    if any(n in _LABEL_METRICS for n, _ in ctx.requests):
        eval_meta.update(labels=ctx.labels, label_normalization=LABEL_NORMALIZATION)
    config = {"eval": ctx.cfg.model_dump(mode="json"), "prompt": ctx.prompt, "generation": generation}
    if model_config is not None:  # what `--resume` must load again (as `lifecycle generate` records it)
        config["model"] = model_config
    return RunStore(ctx.project.runs_dir).create(
        opts.kind, config=config, model=model, dataset=ctx.evalset.describe(), seed=ctx.cfg.seed,
        extra={"eval": eval_meta, **opts.extra_meta}, argv=opts.argv)


def _write_results(run: Run, aligned: Aligned, scores: dict, doc: dict, *, write_predictions: bool) -> None:
    if write_predictions:
        lines = [json.dumps({**rec, "references": refs}, ensure_ascii=False)
                 for rec, refs in zip(aligned.records, aligned.references)]
        atomic_write_text(run.predictions_path, "\n".join(lines) + "\n")
    rows = per_example_rows(aligned.ids, scores)
    atomic_write_text(run.path / SCORES_FILE, "".join(json.dumps(r) + "\n" for r in rows))
    run.write_metrics(doc)


def _from_file(ctx: _Context, opts: EvalOptions, group: str) -> list[ScoredRun]:
    if opts.rescore:
        src = RunStore(ctx.project.runs_dir).get(opts.rescore)
        records = src.read_predictions()
        if not records:
            raise EvaluationError(f"run {src.id} has no predictions to re-score")
        source, label = f"rescore:{src.id}", f"run {src.id}"
        shots = (src.meta.get("eval") or {}).get("shots")
        model, generation = src.meta.get("model") or {}, (src.meta.get("config") or {}).get("generation")
        role = opts.role or role_of(src)
    else:
        records = read_prediction_records(opts.predictions)
        source, label = f"predictions:{opts.predictions}", str(opts.predictions)
        shots = opts.shots[0] if opts.shots and len(opts.shots) == 1 else None
        model = opts.extra_meta.get("model") if isinstance(opts.extra_meta.get("model"), dict) else {}
        # a caller that generated the file itself (finetune, quantize) says with which settings
        generation = opts.generation.resolved().model_dump(mode="json") if opts.generation is not None else None
        role = opts.role or _file_role(opts.extra_meta)
    aligned, scores, doc = _score(ctx, records, label)
    run = _create_run(ctx, opts, shots=shots, source=source, model=model, generation=generation, group=group,
                      role=role)
    if opts.attest:
        run.update_meta(eval={**run.meta["eval"], "attested": _attestation(opts)})
    run.update_meta(budget=effective_k(records, shots).as_record())
    try:
        _write_results(run, aligned, scores, doc, write_predictions=True)
    except BaseException:
        run.finish(status="failed")
        raise
    return [ScoredRun(run, shots, doc, aligned, scores)]


def _attestation(opts: EvalOptions) -> dict:
    """Who vouched for an external predictions file, when, and for exactly which bytes."""
    digest = hashlib.sha256(Path(opts.predictions).read_bytes()).hexdigest()
    return {"note": printable(opts.attest.strip())[:MAX_NOTE_CHARS], "user": _current_user(), "at": utc_now(),
            "predictions_sha256": digest}


def _file_role(extra: dict) -> str:
    """A predictions file is `external` unless our own caller says which model wrote it."""
    if extra.get("finetune_run"):
        return "finetuned"
    if extra.get("precision") or extra.get("quantize"):
        return "quantized"
    return "external"


def _budget(records: list[dict], k: int, prompts) -> dict:
    """run.yaml `budget`: K asked, mean K used, how many got the full K, truncated (honest K)."""
    summary = effective_k(records, k).as_record()
    summary["longest_prompt_tokens"] = max((p.n_tokens for p in prompts), default=0)
    return summary


_NEW_RUN = "start a new run instead"


def _resumable(project, ref: str) -> Run:
    """The run to finish, claimed, under the one resume policy (lifecycle.runs.resume)."""
    return open_for_resume(project.runs_dir, ref, kind="eval", what="a generated eval run",
                           new_run="re-score it into a new run with --rescore instead",
                           accept=lambda run: (run.meta.get("eval") or {}).get("source") == "generated")


def _generate(ctx: _Context, opts: EvalOptions, group: str, on_run: Callable[[str], None] | None,
              resume: Run | None = None) -> list[ScoredRun]:
    project = ctx.project
    shots = opts.shots if opts.shots is not None else list(ctx.cfg.shots)
    model_cfg, prompt_cfg = project.model_config(), None
    if resume is not None:
        # the one resume policy: finished with the configs it recorded, while the model, weights,
        # dataset and eval key are still the recorded ones (ctx was prepared from its configs)
        check_inputs(resume, model_now=project.model_config_for(None).model_dump(mode="json"),
                     eval_key=ctx.eval_key, new_run=_NEW_RUN)
        recorded = resume.meta.get("config") or {}
        shots = [resume.meta["eval"]["shots"]]
        opts.generation = _recorded_config(recorded, "generation", GenerationSettings.model_validate, default={},
                                           new_run=_NEW_RUN)
        if isinstance(recorded.get("model"), dict):  # runs recorded before config.model: configs/model.yaml
            model_cfg = _recorded_config(recorded, "model", ModelConfig.model_validate, new_run=_NEW_RUN)
        if ctx.prompt is not None:
            prompt_cfg = _recorded_config(recorded, "prompt", PromptConfig.model_validate, new_run=_NEW_RUN)
    inputs = load_prompt_inputs(project, data=ctx.evalset.path, limit=ctx.evalset.limit, prompt_cfg=prompt_cfg,
                                model_cfg=model_cfg)
    ladder = {k: inputs.build(k) for k in shots}
    for prompts in ladder.values():  # references for scoring come from the eval set, by id
        ids = {p.id for p in prompts}
        if ids != set(ctx.evalset.ids):
            raise EvaluationError("the prompt builder's example ids differ from the eval set's",
                                  hint="use the same id field in configs/prompt.yaml and configs/eval.yaml")
    model_cfg = model_cfg.model_copy(update={"model": inputs.model_ref})
    settings = opts.generation or project.generation_config()
    cache = opts.model_cache if opts.model_cache is not None else {}
    key = (inputs.model_ref, model_cfg.revision, model_cfg.dtype, model_cfg.device)
    loaded = cache.get(key) or load_model_from_config(model_cfg)
    cache[key] = loaded
    engine = Engine(loaded, settings, stop=inputs.cfg.stop, progress=opts.progress)
    weights_sha = weights_hash(inputs.model_ref) if Path(str(inputs.model_ref)).is_dir() else None
    gen_meta = engine.settings.model_dump(mode="json")
    out = []
    for k, prompts in ladder.items():
        if resume is not None:
            run = resume
            run.update_meta(status="running", resumed=utc_now())
            if on_run:
                on_run(f"{run.id}: resuming, {len(run.done_ids())} of {len(prompts)} examples already done")
        else:
            described = loaded.describe()
            if Path(str(inputs.model_ref)).is_dir():  # the evaluated artifact, for integrate.served_artifact
                described["weights_sha256"] = weights_sha
            run = _create_run(ctx, opts, shots=k, source="generated", model=described,
                              generation=gen_meta, group=group, role=opts.role or role_of_model(described),
                              model_config=model_cfg.model_dump(mode="json"))
            if on_run:
                on_run(f"{run.id}: generating {len(prompts)} examples with {k} shot(s)")
        # failed or interrupted (with how to resume) is recorded here; complete once reported
        with run.recording(resume_hint=f"`lifecycle eval run --resume {run.id}` finishes it", complete=False):
            generate_to_run(engine, prompts, run)
            records = run.read_predictions()
            run.update_meta(budget=_budget(records, k, prompts))
            aligned, scores, doc = _score(ctx, records, f"run {run.id}")
            _write_results(run, aligned, scores, doc, write_predictions=False)
        out.append(ScoredRun(run, k, doc, aligned, scores))
    return out


def run_eval(project, opts: EvalOptions, *, on_run: Callable[[str], None] | None = None) -> EvalOutcome:
    if opts.predictions and opts.rescore:
        raise EvaluationError("use either --predictions or --rescore, not both")
    if opts.attest is not None and (not opts.predictions or _file_role(opts.extra_meta) != "external"):
        raise EvaluationError("--attest vouches for an external predictions file: use it with --predictions FILE",
                              hint="runs the tool generates are evidence already")
    if opts.attest is not None and not opts.attest.strip():
        raise EvaluationError("--attest needs a note: who produced the predictions, with which model and settings")
    if (opts.predictions or opts.rescore) and opts.shots and len(opts.shots) > 1:
        raise EvaluationError("a predictions file is one rung of the ladder: give one --shots value "
                              "(the shots it was generated with), or none")
    resume = None
    if opts.resume:
        if opts.predictions or opts.rescore or opts.shots:
            raise EvaluationError("--resume continues a run as it was started: no --predictions, --rescore or --shots")
        resume = _resumable(project, opts.resume)
        opts.limit = (resume.meta.get("dataset") or {}).get("limit")
    try:
        ctx = prepare(project, limit=opts.limit, recorded=(resume.meta.get("config") or {}) if resume else None)
        group = (resume.meta.get("eval") or {}).get("group") if resume else \
            stable_hash({"key": ctx.eval_key, "argv": opts.argv, "id": id(opts)}, 10)
        if opts.predictions or opts.rescore:
            scored = _from_file(ctx, opts, group)
        else:
            scored = _generate(ctx, opts, group, on_run, resume)
    except BaseException:
        if resume is not None:
            resume.release()  # refused or failed: free for a later resume (recording kept what was done)
        raise
    docs = [(s.run.id, s.doc) for s in scored]
    targets = [best_for(t, docs) for t in project_targets(project, ctx.cfg)]
    for s in scored:
        mine = [best_for(t, [(s.run.id, s.doc)]).as_dict() for t in project_targets(project, ctx.cfg)]
        s.run.update_meta(targets=mine)
    if opts.report:
        write_eval_reports(scored, targets)
    for s in scored:
        s.run.finish(status="complete")
    return EvalOutcome(scored, targets, ctx.eval_key)
