"""SELECT: a model is chosen, its licence fits the scope, it fits the hardware, and the project's
prompts fit its context window (measured with its tokenizer on the project's own data)."""

from __future__ import annotations

from pathlib import Path

from lifecycle.checks.registry import failed, passed, register, todo
from lifecycle.errors import ModelLoadError

def _model_ref(ctx) -> str | None:
    return ctx.manifest.selection.model


@register("select.model_selected", "select", "a model is selected")
def model_selected(ctx):
    ref = _model_ref(ctx)
    if not ref:
        return todo("no model selected yet", "run `lifecycle select` and record one with `--apply ID`")
    from lifecycle.catalog.local import local_model, same_model

    configured = ctx.model_config.model
    local = local_model(ctx.root, configured)
    if not same_model(ctx.root, ref, configured):
        # A local folder in configs/model.yaml is the offline setup: the fix records it, never undoes it
        fix = (f"run `lifecycle select --apply {local.shown}` (records the folder), or declare the catalog model it "
               f"copies with `base_model: {ref}` in {local.shown}/README.md's front matter" if local is not None
               else f"run `lifecycle select --apply {ref}` or set both to the same model")
        return failed(f"lifecycle.yaml selects '{ref}' but configs/model.yaml loads '{configured}'", fix, model=ref,
                      configured=configured)
    detail = f"; {local.describe()}" if local is not None else ""
    return passed(f"{ref}{detail}" + (f" ({ctx.manifest.selection.reason})" if ctx.manifest.selection.reason else ""),
                  model=ref, configured=configured)


def _entry(ref: str, root=None):
    """The catalog entry of a hub id, or of the catalog model a local folder declares it copies."""
    from lifecycle.catalog import lookup
    from lifecycle.catalog.local import local_model

    entry = lookup(ref)
    if entry is None and root is not None:
        local = local_model(root, ref)
        entry = local.base if local is not None else None
    return entry


@register("select.licence", "select", "the model's licence fits the commercial-use answer")
def licence(ctx):
    from lifecycle.catalog import licence_ok

    ref = _model_ref(ctx)
    if not ref:
        return todo("no model selected yet", "run `lifecycle select`")
    entry = _entry(ref, ctx.root)
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
    if ref and _entry(ref, ctx.root) is not None:
        return passed(f"not needed: {ref} is in the catalog (select.licence checks it)", model=ref)
    return attested(ctx, "select.licence_review", "read the licence of a model the catalog does not know")


def _memory_request(ctx):
    """The project's memory question: `MemoryRequest.for_project`, the same one `lifecycle select`,
    `models estimate --project` and the fine-tune pre-flight ask."""
    from lifecycle.catalog.memory import MemoryRequest
    from lifecycle.project import Project

    return MemoryRequest.for_project(Project(ctx.root))


def _budget(ctx):
    """The hardware budget, by the one rule `lifecycle select` uses (`Budget.for_hardware`)."""
    from lifecycle.catalog.selection import Budget

    return Budget.for_hardware(ctx.manifest.scope.hardware)


def _estimate(ctx, request):
    """{"total_gib", "components"} from the estimator, or a todo Outcome when it cannot run."""
    from lifecycle.catalog.memory import estimate_memory
    from lifecycle.errors import CatalogError

    mc = ctx.model_config
    ref = str(ctx.path(mc.model)) if ctx.path(mc.model).is_dir() else mc.model
    try:
        est = estimate_memory(ref, request, trust_remote_code=mc.trust_remote_code)
    except (ModelLoadError, CatalogError) as err:
        return todo(f"cannot estimate '{mc.model}': {str(err).splitlines()[0]}",
                    err.hint or f"lifecycle models estimate {mc.model} --project .", model=mc.model)
    return {"total_gib": est.total_gib, "total_bytes": est.total_bytes, "components": est.components}


@register("select.memory", "select", "the model fits the declared hardware for the planned adaptation",
          heavy=True)
def memory(ctx):
    from lifecycle.catalog.memory import tokens_label
    from lifecycle.checks.registry import Outcome
    from lifecycle.hashing import stable_hash
    if not _model_ref(ctx):
        return todo("no model selected yet", "run `lifecycle select`")
    from dataclasses import asdict

    from lifecycle.errors import LifecycleError

    mc = ctx.model_config
    try:
        request = _memory_request(ctx)
    except LifecycleError as err:  # e.g. the data sample is missing: `lifecycle validate` / check scope say why
        return todo(f"cannot build the memory question: {err.message}", err.hint or "run `lifecycle validate`")
    fields = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(request).items()}
    key = stable_hash({"model": mc.model_dump(), "request": fields})
    est = ctx.cache_get("select.memory", key)  # the estimate is cached; the verdict follows the hardware
    if est is None:
        if not ctx.measure:
            return todo("not measured yet for the current model and adaptation",
                        "run `lifecycle check select` (estimates memory from the model's architecture)")
        est = _estimate(ctx, request)
        if isinstance(est, Outcome):
            return est
        ctx.cache_put("select.memory", key, est)
    budget = _budget(ctx)
    tokens = tokens_label(request.seq_len, request.target_len)
    what = (f"{request.method} in {request.dtype} (batch {request.batch_size}, {tokens} "
            f"tokens) needs {est['total_gib']:.2f} GiB")
    evidence = {"model": mc.model, **fields, "estimate_gib": round(est["total_gib"], 3),
                "estimate_bytes": est.get("total_bytes"), "capacity_gib": round(budget.gib, 3),
                "capacity_source": budget.source, "components": est["components"]}
    where = (f"one GPU with {budget.gib:.4g} GiB" if budget.device == "gpu"
             else f"CPU with {budget.gib:.1f} GiB RAM ({budget.source})")
    from lifecycle.catalog.selection import runtime_headroom
    from lifecycle.units import GIB

    room = runtime_headroom(int(est["total_gib"] * GIB), budget.device) / GIB  # the rule `select` applies
    what += f" + {room:.2f} GiB runtime headroom"
    evidence["headroom_gib"] = round(room, 3)
    if est["total_gib"] + room <= budget.gib:
        return passed(f"{what} <= {where}", **evidence)
    return failed(f"{what} > {where}", "pick a smaller model, a lighter method (lora/qlora), a lower precision "
                  f"or more memory (`lifecycle models estimate {mc.model} --project .`)", **evidence)


# context window (heavy: loads the tokenizer) ----------------------------------------------------
def _measure_key(ctx) -> str:
    from lifecycle.hashing import file_sha256, stable_hash
    sample, _ = _measured_data(ctx)
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


def _measured_data(ctx):
    """The eval set (configs/eval.yaml dataset path and limit), as `eval run` builds its prompts; the
    data sample only when there is no eval config yet."""
    report = ctx.validation.get("eval")
    if report is not None and report.ok:
        return ctx.path(report.value.dataset.path), report.value.dataset.limit
    return ctx.path(ctx.manifest.data.sample), None


def _measure_context(ctx):
    from lifecycle.project import Project
    from lifecycle.prompting.builder import prompt_lengths
    from lifecycle.prompting.project_inputs import load_prompt_inputs

    mc = ctx.model_config
    if not _available_locally(ctx, mc.model, mc.revision):
        return todo(f"'{mc.model}' is neither a local folder nor in the Hugging Face cache, so prompts were "
                    "not measured", _OFFLINE_HINT, model=mc.model)
    try:
        data, limit = _measured_data(ctx)
        inputs = load_prompt_inputs(Project(ctx.root), data=data, limit=limit)
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
                  "use fewer shots (configs/prompt.yaml, eval shots), shorter shots (shots.pool / selection: "
                  "fixed), or a model with a longer context; `budget.policy: auto` runs anyway with fewer shots "
                  "or cut inputs, and eval runs say so (K asked vs used)", **evidence)


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
