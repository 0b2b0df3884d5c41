"""A finetune or merge run's model as a `LoadedModel`: what quantize, export and serve start from.

    loaded, base, folder, extra = load_trained(project, run)

It lives with the stage that writes those runs, below optimize and serve, so that neither of them
imports the other to load a model (a quantize run is rebuilt by optimize.quantize.load_quantized)."""

from __future__ import annotations

from lifecycle.errors import RunError
from lifecycle.finetune.runs import KIND as FINETUNE_KIND
from lifecycle.finetune.tuned import load_tuned
from lifecycle.loading import LoadedModel, context_window, load_model, load_model_config, pick_device_dtype

MERGE_KIND = "merge"
TRAINED_KINDS = (FINETUNE_KIND, MERGE_KIND)


def _wrap(model, tokenizer, config_ref: str, ref: str, model_cfg) -> LoadedModel:
    config = load_model_config(config_ref)
    param = next(model.parameters(), None)
    device = param.device if param is not None else "cpu"
    dtype = param.dtype if param is not None else None
    return LoadedModel(model, tokenizer, config, ref, None, bool(getattr(config, "is_encoder_decoder", False)),
                       device, dtype, context_window(config, tokenizer, model_cfg.max_context))


def load_trained(project, run) -> tuple[LoadedModel, str, object, dict]:
    """(LoadedModel, base ref, weights folder, extra facts) for a finetune or merge run."""
    model_cfg = project.model_config()
    if run.kind == FINETUNE_KIND:
        device, _ = pick_device_dtype(model_cfg.device, "fp32")
        tuned = load_tuned(run, device=str(device))
        loaded = _wrap(tuned.model, tuned.tokenizer, tuned.base_ref, str(tuned.weights), model_cfg)
        return loaded, tuned.base_ref, tuned.weights, {"method": tuned.method}
    if run.kind == MERGE_KIND:
        folder = run.path / "model"
        loaded = load_model(str(folder), device=model_cfg.device, dtype=model_cfg.dtype,
                            max_context=model_cfg.max_context)
        base = ((run.meta.get("model") or {}).get("model")) or str(folder)
        return loaded, base, folder, {"source_run": run.meta.get("source_run")}
    raise RunError(f"run {run.id} is a '{run.kind}' run; it holds no trained model",
                   hint=f"use a run of kind {' or '.join(TRAINED_KINDS)}")
