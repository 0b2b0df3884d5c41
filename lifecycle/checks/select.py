"""SELECT: a model is chosen, its licence fits the scope, it fits the hardware, and the project's
prompts fit its context window (measured with its tokenizer on the project's own data)."""

from __future__ import annotations

from pathlib import Path

from lifecycle.checks.registry import failed, passed, register, todo
from lifecycle.errors import ModelLoadError

_METHOD = {"prompting": "inference", "peft": "lora", "full": "full"}


def _model_ref(ctx) -> str | None:
    return ctx.manifest.selection.model


@register("select.model_selected", "select", "a model is selected")
def model_selected(ctx):
    ref = _model_ref(ctx)
    if not ref:
        return todo("no model selected yet", "run `lifecycle select` and record one with `--apply ID`")
    configured = ctx.model_config.model
    if configured != ref:
        return failed(f"lifecycle.yaml selects '{ref}' but configs/model.yaml loads '{configured}'",
                      f"run `lifecycle select --apply {ref}` or set both to the same model", model=ref,
                      configured=configured)
    return passed(f"{ref}" + (f" ({ctx.manifest.selection.reason})" if ctx.manifest.selection.reason else ""),
                  model=ref)


def _entry(ref: str):
    from lifecycle.catalog import lookup

    return lookup(ref)


@register("select.licence", "select", "the model's licence fits the commercial-use answer")
def licence(ctx):
    from lifecycle.catalog import licence_ok

    ref = _model_ref(ctx)
    if not ref:
        return todo("no model selected yet", "run `lifecycle select`")
    entry = _entry(ref)
    commercial = ctx.manifest.scope.commercial_use
    if entry is None:
        from lifecycle.checks.attest import latest_attestation

        review = latest_attestation(ctx.attestations, "select.licence_review")
        if review is not None:
            return passed(f"'{ref}' is not in the catalog; licence reviewed by {review.get('user')}: "
                          f"{review.get('note')}", model=ref, attestation=review)
        return todo(f"'{ref}' is not in the catalog: its licence cannot be checked automatically",
                    "read the model card's licence, then attest: lifecycle check --attest select.licence_review "
                    "--note \"licence X allows ...\"", model=ref)
    ok, why = licence_ok(entry, commercial)
    evidence = {"model": entry.id, "licence": entry.licence, "commercial_use_required": commercial}
    if ok:
        return passed(why, **evidence)
    return failed(f"{entry.id}: {why}, and scope.commercial_use is true",
                  "pick a model whose licence allows commercial use (`lifecycle select`)", **evidence)


@register("select.licence_review", "select", "licence of a model outside the catalog reviewed", "manual")
def licence_review(ctx):
    from lifecycle.checks.manual import attested

    ref = _model_ref(ctx)
    if ref and _entry(ref) is not None:
        return passed(f"not needed: {ref} is in the catalog (select.licence checks it)", model=ref)
    return attested(ctx, "select.licence_review", "read the licence of a model the catalog does not know")


def _memory_request(ctx) -> dict:
    """What the planned adaptation needs estimated: method, dtype, batch and sequence length."""
    scope, mc = ctx.manifest.scope, ctx.model_config
    method = _METHOD[scope.adaptation.value]
    dtype = {"fp32": "fp32", "bf16": "bf16", "fp16": "bf16"}.get(mc.dtype)
    if dtype is None:  # auto: what loading picks (bf16 on GPUs, fp32 on CPU)
        dtype = "bf16" if scope.hardware.device.value == "gpu" else "fp32"
    batch, seq_len, target_len, lora_r, dropout = 1, 512, None, 8, 0.0
    if method != "inference":
        report = ctx.validation.get("finetune")
        if report is not None and report.ok:
            ft = report.value
            if method == "lora" and ft.method == "qlora":  # the estimator's qlora: a 4-bit frozen base
                method, dtype = "qlora", "int4"
            batch, lora_r, dropout = ft.training.batch_size, ft.peft.r, ft.peft.dropout
            seq_len, target_len = ft.data.max_source_tokens or 512, ft.data.max_target_tokens
    return {"method": method, "dtype": dtype, "batch_size": batch, "seq_len": seq_len, "target_len": target_len,
            "lora_r": lora_r, "lora_dropout": dropout, "device": scope.hardware.device.value}


def _capacity_gib(ctx) -> tuple[float | None, str]:
    hw = ctx.manifest.scope.hardware
    if hw.device.value == "gpu":
        return hw.gpu_memory_gib, f"one GPU with {hw.gpu_memory_gib:g} GiB"
    try:
        import os

        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError, AttributeError):
        return None, "CPU"
    return total, f"CPU with {total:.1f} GiB RAM (this machine)"


def _estimate(ctx, request: dict):
    """{"total_gib", "components"} from the estimator, or a todo Outcome when it cannot run."""
    from lifecycle.catalog import estimate_memory
    from lifecycle.errors import CatalogError

    mc = ctx.model_config
    ref = str(ctx.path(mc.model)) if ctx.path(mc.model).is_dir() else mc.model
    try:
        est = estimate_memory(ref, request["method"], request["dtype"], request["batch_size"],
                              request["seq_len"], lora_r=request["lora_r"], device=request["device"],
                              target_len=request["target_len"], lora_dropout=request["lora_dropout"],
                              trust_remote_code=mc.trust_remote_code)
    except (ModelLoadError, CatalogError) as err:
        return todo(f"cannot estimate '{mc.model}': {str(err).splitlines()[0]}",
                    err.hint or f"lifecycle models estimate {mc.model} --method {request['method']}", model=mc.model)
    return {"total_gib": est.total_gib, "components": est.components}


@register("select.memory", "select", "the model fits the declared hardware for the planned adaptation",
          heavy=True)
def memory(ctx):
    from lifecycle.catalog.memory import tokens_label
    from lifecycle.checks.registry import Outcome
    from lifecycle.runs.store import stable_hash

    if not _model_ref(ctx):
        return todo("no model selected yet", "run `lifecycle select`")
    mc, request = ctx.model_config, _memory_request(ctx)
    key = stable_hash({"model": mc.model_dump(), "request": request})
    est = ctx.cache_get("select.memory", key)  # the estimate is cached; the verdict follows the hardware
    if est is None:
        if not ctx.measure:
            return todo("not measured yet for the current model and adaptation",
                        "run `lifecycle check select` (estimates memory from the model's architecture)")
        est = _estimate(ctx, request)
        if isinstance(est, Outcome):
            return est
        ctx.cache_put("select.memory", key, est)
    capacity, where = _capacity_gib(ctx)
    tokens = tokens_label(request["seq_len"], request["target_len"])
    what = (f"{request['method']} in {request['dtype']} (batch {request['batch_size']}, {tokens} "
            f"tokens) needs {est['total_gib']:.2f} GiB")
    evidence = {"model": mc.model, **request, "estimate_gib": round(est["total_gib"], 3),
                "capacity_gib": round(capacity, 3) if capacity else None, "components": est["components"]}
    if capacity is None:
        return todo(f"{what}; the available memory is unknown", "declare scope.hardware in lifecycle.yaml",
                    **evidence)
    if est["total_gib"] <= capacity:
        return passed(f"{what} <= {where}", **evidence)
    return failed(f"{what} > {where}", "pick a smaller model, a lighter method (lora/qlora), a lower precision "
                  f"or more memory (`lifecycle models estimate {mc.model}`)", **evidence)


# context window (heavy: loads the tokenizer) ----------------------------------------------------
def _measure_key(ctx) -> str:
    from lifecycle.runs.store import file_sha256, stable_hash

    sample = ctx.path(ctx.manifest.data.sample)
    return stable_hash({
        "model": ctx.model_config.model_dump(), "prompt": ctx.prompt_config.model_dump(),
        "max_new_tokens": ctx.generation_config.max_new_tokens, "shots": _planned_shots(ctx),
        "sample": file_sha256(sample) if sample.is_file() else None,
    })


_OFFLINE_HINT = ("download it on a connected machine (`hf download ID --local-dir models/NAME`), copy the "
                 "folder here and set `model: models/NAME` in configs/model.yaml")


def _available_locally(ctx, ref: str, revision: str | None) -> bool:
    """A folder or a cached hub id: checks never wait on the network."""
    if ctx.path(ref).is_dir() or Path(ref).expanduser().is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(ref, "config.json", revision=revision)
    except Exception:  # not a valid repo id either: the loader's error would say so, offline hint fits
        return False
    return isinstance(cached, str)


def _planned_shots(ctx) -> int:
    """The most shots the project plans: configs/prompt.yaml's k or the eval ladder's largest."""
    k = ctx.prompt_config.shots.k
    report = ctx.validation.get("eval")
    if report is not None and report.ok and report.value.shots:
        k = max(k, max(report.value.shots))
    return k


def _measure_context(ctx):
    from lifecycle.project import Project
    from lifecycle.prompting.builder import prompt_lengths
    from lifecycle.prompting.project_inputs import load_prompt_inputs

    mc = ctx.model_config
    if not _available_locally(ctx, mc.model, mc.revision):
        return todo(f"'{mc.model}' is neither a local folder nor in the Hugging Face cache, so prompts were "
                    "not measured", _OFFLINE_HINT, model=mc.model)
    try:
        inputs = load_prompt_inputs(Project(ctx.root), data=ctx.path(ctx.manifest.data.sample))
    except ModelLoadError as err:
        return todo(f"cannot load the tokenizer of '{mc.model}' offline, so prompts were not measured",
                    err.hint or str(err), model=mc.model)
    k = _planned_shots(ctx)
    counts = prompt_lengths(inputs.examples, inputs.cfg, inputs.tokenizer, k=k, pool=inputs.pool)
    ids = [str(ex[inputs.cfg.id_field]) for ex in inputs.examples]
    longest = max(counts)
    longest_id = ids[counts.index(longest)]
    reserve = 0 if inputs.encoder_decoder else inputs.reserve_tokens
    over = sum(c > inputs.limit for c in counts)
    evidence = {"model": mc.model, "context_window": inputs.context_window, "longest_prompt_tokens": longest,
                "longest_example": longest_id, "shots": k, "reserved_for_output": reserve,
                "examples": len(counts), "too_long": over, "data": ctx.shown(inputs.data_path)}
    budget = f"{longest} prompt tokens" + (f" + {reserve} new tokens" if reserve else "")
    if not over:
        return passed(f"longest {k}-shot prompt: {budget} <= {inputs.context_window} (example {longest_id})",
                      **evidence)
    return failed(f"{over} of {len(counts)} {k}-shot prompts do not fit; longest: {budget} > context window "
                  f"{inputs.context_window} (example {longest_id})",
                  "use fewer shots (configs/prompt.yaml, eval shots), `budget.policy: truncate`, or a model "
                  "with a longer context", **evidence)


@register("select.context_window", "select", "prompts fit the model's context window on the project's data",
          heavy=True)
def context_fits(ctx):
    if not _model_ref(ctx):
        return todo("no model selected yet", "run `lifecycle select`")
    return measured(ctx, "select.context_window", _measure_key(ctx), _measure_context,
                    "run `lifecycle check select` (loads the tokenizer and counts tokens)")


def measured(ctx, check_id: str, key: str, measure, hint: str):
    """A heavy check's answer: from the cache when its inputs are unchanged; measured only when
    the context allows it (`lifecycle check`, not `lifecycle status`); todo outcomes are not cached."""
    from lifecycle.checks.registry import Outcome

    cached = ctx.cache_get(check_id, key)
    if cached is not None:
        return Outcome(**cached)
    if not ctx.measure:
        return todo("not measured yet for the current model, configs and data", hint)
    outcome = measure(ctx)
    if outcome.status != "todo":
        ctx.cache_put(check_id, key, outcome.__dict__)
    return outcome
