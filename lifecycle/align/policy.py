"""The model being aligned: the project's base model, a finetune run, or an earlier align run,
as a LoadedModel the batched generation engine takes."""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import RunError

ALIGN_KIND = "align"


def weights_of(run) -> Path:
    for name in ("adapter", "model"):
        if (run.path / name).is_dir():
            return run.path / name
    raise RunError(f"run {run.id} has no adapter/ or model/ folder (status: {run.status})")


def load_run_model(run, device: str = "cpu"):
    """(model, tokenizer, encoder_decoder, base model ref) of a complete finetune or align run, fp32, eval mode."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from lifecycle.loading import (check_remote_code, is_encoder_decoder, load_model_config, load_tokenizer,
                                              weights_kwargs)

    if run.kind == "finetune":
        from lifecycle.finetune.tuned import load_tuned

        tuned = load_tuned(run, device=device)
        return tuned.model, tuned.tokenizer, tuned.encoder_decoder, tuned.base_ref
    if run.kind != ALIGN_KIND:
        raise RunError(f"run {run.id} is a '{run.kind}' run; give a finetune or align run")
    if run.status != "complete":
        raise RunError(f"align run {run.id} is {run.status}, not complete")
    base = ((run.meta.get("config") or {}).get("model") or {})
    folder = weights_of(run)
    config = load_model_config(str(folder) if folder.name == "model" else base["model"], base.get("revision"),
                               bool(base.get("trust_remote_code")))
    auto = AutoModelForSeq2SeqLM if is_encoder_decoder(config) else AutoModelForCausalLM
    if folder.name == "model":  # written by the tool (safetensors); a planted pickle is still refused
        model = auto.from_pretrained(str(folder), dtype=torch.float32, **weights_kwargs(str(folder), None, False))
    else:
        from peft import PeftModel

        # the base model under the same consent rules as every other load (the run's recorded model config)
        ref, revision, trust = str(base["model"]), base.get("revision"), bool(base.get("trust_remote_code"))
        check_remote_code(ref, revision, trust)
        weights = weights_kwargs(ref, revision, bool(base.get("allow_pickle", False)))
        model = PeftModel.from_pretrained(auto.from_pretrained(ref, revision=revision, trust_remote_code=trust,
                                                               dtype=torch.float32, **weights), str(folder))
    enc_dec = is_encoder_decoder(config)
    tok = load_tokenizer(str(folder), decoder_only=not enc_dec)
    model.to(device)
    model.eval()
    return model, tok, enc_dec, base["model"]


def load_policy(project, *, run_ref: str | None = None, model: str | None = None):
    """(LoadedModel, description for run.yaml)."""
    from lifecycle.loading import LoadedModel, context_window, load_model_from_config, pick_device_dtype
    from lifecycle.runs.store import RunStore

    if run_ref is None:
        loaded = load_model_from_config(project.model_config_for(model))
        return loaded, loaded.describe()
    run = RunStore(project.runs_dir).get(run_ref)
    device, dtype = pick_device_dtype("auto", "fp32")
    net, tok, enc_dec, base = load_run_model(run, device=str(device))
    loaded = LoadedModel(net, tok, net.config, base, None, enc_dec, device, dtype, context_window(net.config, tok))
    return loaded, {"id": base, "run": run.id, "run_kind": run.kind, "encoder_decoder": enc_dec}
