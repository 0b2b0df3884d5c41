"""`lifecycle align pairs`: on-policy candidate pairs, sampled from the model being aligned.

DPO on pairs the current model did not write can drive the loss to zero without changing what the
model does, so candidates come from the model itself (base, a finetune run or an align run), with
a generation preset, N per prompt. A `pairs` run folder holds:

    predictions.jsonl   one candidate per line (id `<prompt id>#<j>`), streamed: --resume skips them
    pairs.jsonl         pair_id, prompt_id, prompt, a, b (candidates 0-1, 2-3, ...; identical ones dropped)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from lifecycle.errors import RunError
from lifecycle.reporting import to_stderr

KIND = "pairs"
PAIRS_FILE = "pairs.jsonl"


def load_align_config(project, path: str | Path | None = None):
    """configs/align.yaml (or `path`); the defaults when the project has none."""
    from lifecycle.config.align import AlignConfig
    from lifecycle.config.yaml_io import load_config

    p = project.path(path) if path else project.path("configs/align.yaml")
    if path or p.is_file():
        return load_config(p, AlignConfig)
    return AlignConfig()


@dataclass
class PairsRequest:
    run_ref: str | None = None      # sample from this finetune/align run instead of the base model
    model: str | None = None        # or from this model id/folder
    candidates: int | None = None
    limit: int | None = None
    data: Path | None = None
    preset: str | None = None
    seed: int | None = None
    config: Path | None = None      # configs/align.yaml by default
    argv: list[str] | None = None


def _settings(project, pairs_cfg, req: PairsRequest):
    from lifecycle.config.generation import GenerationSettings

    gen_file = project.path(project.manifest.adaptation.generation)
    settings = project.generation_config() if gen_file.is_file() else GenerationSettings()
    settings = settings.with_preset(req.preset or pairs_cfg.preset)
    data = settings.model_dump(exclude_unset=True)
    for key, value in (("max_new_tokens", pairs_cfg.max_new_tokens), ("seed", req.seed if req.seed is not None
                                                                       else pairs_cfg.seed)):
        if value is not None:
            data[key] = value
    if pairs_cfg.temperature is not None and data.get("preset") == "sampling":
        data["temperature"] = pairs_cfg.temperature
    return GenerationSettings.model_validate(data).resolved()


def _prompts(project, loaded, prompt_cfg, data_path: Path, limit: int | None, reserve: int):
    """The prompts `lifecycle generate` would send: the one loader, the project's `preprocess`
    function (configs/prompt.yaml), its shot pool, and PromptInputs.build with the loaded model's
    tokenizer and window (so the preferences are about the prompts the model is later used with)."""
    from lifecycle.prompting.project_inputs import PromptInputs, load_prompt_examples

    examples, pool = load_prompt_examples(project, prompt_cfg, data_path, limit=limit)
    inputs = PromptInputs.for_model(loaded, prompt_cfg, examples, reserve_tokens=reserve, pool=pool, data_path=data_path)
    return inputs.build(prompt_cfg.shots.k)


def _expand(prompts, n: int) -> list:
    return [replace(p, id=f"{p.id}#{j}") for p in prompts for j in range(n)]


def sample_pairs(project, req: PairsRequest, echo=to_stderr):
    """A new, complete pairs run."""
    from lifecycle.align.policy import load_policy
    from lifecycle.paths import safe_path
    from lifecycle.prompting.project_inputs import dataset_path, load_prompt_config
    from lifecycle.hashing import file_sha256
    from lifecycle.runs.store import RunStore
    cfg = load_align_config(project, req.config).pairs
    n = req.candidates or cfg.candidates
    settings = _settings(project, cfg, req)
    prompt_cfg = load_prompt_config(project)
    data_path = safe_path(project.path(req.data) if req.data else project.path(cfg.data) if cfg.data
                          else dataset_path(project)).resolve()  # as `generate`: a link out of the project is refused
    limit = req.limit or cfg.limit
    loaded, described = load_policy(project, run_ref=req.run_ref, model=req.model)
    prompts = _prompts(project, loaded, prompt_cfg, data_path, limit, settings.max_new_tokens)
    config = {"candidates": n, "limit": limit, "greedy_first": cfg.greedy_first, "generation": settings.model_dump(mode="json"),
              "prompt": prompt_cfg.model_dump(mode="json"), "source_run": req.run_ref,
              "model": project.model_config_for(req.model).model_dump(mode="json") if not req.run_ref else None}
    store = RunStore(project.runs_dir)
    with store.new_run(KIND, config=config, model=described, seed=settings.seed, argv=req.argv,
                       dataset={"path": str(data_path), "sha256": file_sha256(data_path), "examples": len(prompts)},
                       resume_hint="finish it with `lifecycle align pairs --resume RUN`") as run:
        echo(f"run {run.id}: {len(prompts)} prompts x {n} candidates ({settings.preset})")
        return _generate_and_pair(run, loaded, settings, prompt_cfg, prompts, n, echo, cfg.greedy_first)


def resume_pairs(project, ref: str, echo=to_stderr):
    """Finish an interrupted pairs run: candidates already written are not sampled again."""
    from lifecycle.align.policy import load_policy
    from lifecycle.config.generation import GenerationSettings
    from lifecycle.config.prompt import PromptConfig
    from lifecycle.hashing import file_sha256
    from lifecycle.runs.store import RunStore
    run = RunStore(project.runs_dir).get(ref)
    if run.kind != KIND:
        raise RunError(f"run {run.id} is a '{run.kind}' run, not a pairs run")
    run.ensure_writable("resume it", hint="start a new one with `lifecycle align pairs`")
    cfg = run.meta["config"]
    data_path = Path(run.meta["dataset"]["path"])
    if not data_path.is_file() or file_sha256(data_path) != run.meta["dataset"]["sha256"]:
        raise RunError(f"the prompts {data_path} changed or are gone since run {run.id} started",
                       hint="start a new run with `lifecycle align pairs`")
    settings = GenerationSettings.model_validate(cfg["generation"])
    prompt_cfg = PromptConfig.model_validate(cfg["prompt"])
    model = (cfg.get("model") or {}).get("model")
    loaded, _ = load_policy(project, run_ref=cfg.get("source_run"), model=model)
    prompts = _prompts(project, loaded, prompt_cfg, data_path, cfg.get("limit"), settings.max_new_tokens)
    run.update_meta(status="running")
    with run.recording(resume_hint=f"lifecycle align pairs --resume {run.id}"):
        return _generate_and_pair(run, loaded, settings, prompt_cfg, prompts, int(cfg["candidates"]), echo,
                                  bool(cfg.get("greedy_first", False)))


def _generate_and_pair(run, loaded, settings, prompt_cfg, prompts, n: int, echo, greedy_first: bool = False):
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.generation.engine import Engine
    from lifecycle.generation.runner import RunProgress, generate_to_run

    cands = _expand(prompts, n)
    progress = RunProgress(total=len(cands), skipped=0, generated=0)
    if greedy_first:  # candidate 0: the answer `align eval` will judge (greedy), so the pairs cover it
        greedy = Engine(loaded, settings.with_preset("greedy").resolved(), stop=prompt_cfg.stop)
        first = generate_to_run(greedy, [c for c in cands if c.id.endswith("#0")], run)
        cands = [c for c in cands if not c.id.endswith("#0")]
        progress = RunProgress(total=len(cands) + first.total, skipped=first.skipped, generated=first.generated)
    rest = generate_to_run(Engine(loaded, settings, stop=prompt_cfg.stop), cands, run)
    progress = RunProgress(total=progress.total, skipped=progress.skipped + rest.skipped,
                           generated=progress.generated + rest.generated)
    by_id = {r["id"]: r for r in run.iter_predictions()}
    pairs, identical = [], 0
    for p in prompts:
        cands = [by_id[f"{p.id}#{j}"] for j in range(n)]
        for j in range(0, n - 1, 2):
            a, b = cands[j], cands[j + 1]
            if a["prediction"].strip() == b["prediction"].strip():
                identical += 1
                continue
            pairs.append({"pair_id": f"{run.id}/{p.id}/{j}-{j + 1}", "prompt_id": p.id, "prompt": p.text,
                          "a": a["prediction"], "b": b["prediction"], "reference": p.reference})
    atomic_write_text(run.path / PAIRS_FILE, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in pairs))
    # U+FFFD: the model emitted bytes that are not UTF-8 text. Reviewers then see replacement
    # characters and DPO re-tokenizes them into tokens the model never generated (off-policy).
    undecodable = sum("\ufffd" in r["prediction"] for r in by_id.values())
    run.finish("complete", pairs=len(pairs), identical_dropped=identical, candidates=len(by_id),
               undecodable_candidates=undecodable, generated_this_session=progress.generated,
               resumed_skipped=progress.skipped)
    echo(f"{len(pairs)} pairs ({identical} identical candidate pairs dropped) -> {run.path / PAIRS_FILE}")
    if undecodable:
        echo(f"warning: {undecodable} of {len(by_id)} candidates hold bytes that are not text (U+FFFD); their pairs "
             "are not the tokens the model generated")
    return run


def read_pairs(run) -> list[dict]:
    f = run.path / PAIRS_FILE
    if run.kind != KIND or not f.is_file():
        raise RunError(f"run {run.id} is not a complete pairs run (no {PAIRS_FILE})",
                       hint="make one with `lifecycle align pairs`")
    from lifecycle.data import json_type
    from lifecycle.paths import safe_path
    from lifecycle.textio import MAX_PREDICTION_LINE_BYTES, iter_jsonl

    f = safe_path(f, what="pairs file")
    out = []
    for lineno, obj in iter_jsonl(f, max_line=MAX_PREDICTION_LINE_BYTES, kind="pairs file", error=RunError):
        if not isinstance(obj, dict):
            raise RunError(f"{f}:{lineno}: expected a JSON object, got {json_type(obj)}")
        out.append(obj)
    return out
