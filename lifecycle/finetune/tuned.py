"""Loading what a finetune run produced: the base model with its adapter, or the full model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import FinetuneError
from lifecycle.finetune.runs import KIND, weights_dir


@dataclass
class TunedModel:
    model: object
    tokenizer: object
    base_ref: str
    weights: Path
    method: str
    encoder_decoder: bool


def base_model_ref(run) -> tuple[str, str | None, bool]:
    model = (run.meta.get("config") or {}).get("model") or {}
    if not model.get("model"):
        raise FinetuneError(f"run {run.id}: run.yaml does not name the base model")
    return model["model"], model.get("revision"), bool(model.get("trust_remote_code", False))


def load_tuned(run, *, device: str = "cpu") -> TunedModel:
    """The tuned model in eval mode (fp32 on CPU, so outputs compare exactly between code paths)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from lifecycle.loading import (check_remote_code, is_encoder_decoder, load_model_config,
                                              load_tokenizer, weights_kwargs)

    if run.kind != KIND:
        raise FinetuneError(f"run {run.id} is a '{run.kind}' run, not a finetune run")
    folder = weights_dir(run)
    ref, revision, trust = base_model_ref(run)
    method = str(run.meta.get("method", ""))
    if folder.name == "model":
        config = load_model_config(str(folder))
        auto = AutoModelForSeq2SeqLM if is_encoder_decoder(config) else AutoModelForCausalLM
        model = auto.from_pretrained(str(folder), dtype=torch.float32)
    else:
        from peft import PeftModel

        config = load_model_config(ref, revision, trust)
        auto = AutoModelForSeq2SeqLM if is_encoder_decoder(config) else AutoModelForCausalLM
        check_remote_code(ref, revision, trust)  # the same consent rules as every other load
        allow_pickle = bool(((run.meta.get("config") or {}).get("model") or {}).get("allow_pickle", False))
        base = auto.from_pretrained(ref, revision=revision, trust_remote_code=trust, dtype=torch.float32,
                                    **weights_kwargs(ref, revision, allow_pickle))
        model = PeftModel.from_pretrained(base, str(folder))
    enc_dec = is_encoder_decoder(config)
    tokenizer = load_tokenizer(str(folder), decoder_only=not enc_dec)
    model.to(device)
    model.eval()
    return TunedModel(model, tokenizer, ref, folder, method, enc_dec)
