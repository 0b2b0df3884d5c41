"""Loading configs, tokenizers and models by hub id or local folder, with clear offline errors.

Remote code is never run unless asked: a config that needs it (an `auto_map` entry) is refused
before transformers would import anything from the repository."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.errors import ModelLoadError

# Largest plausible context; tokenizers report 1e30 when they have no limit.
_NO_LIMIT = 10_000_000


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _local_dir(ref: str | os.PathLike) -> Path | None:
    p = Path(ref).expanduser()
    return p if p.is_dir() else None


def _looks_like_path(ref: str) -> bool:
    return ref.startswith((".", "/", "~")) or ref.count("/") > 1 or os.sep == "\\" and "\\" in ref


def _raw_config(ref: str, revision: str | None) -> dict | None:
    """config.json from a local folder or the hub cache, without any network access."""
    local = _local_dir(ref)
    if local is not None:
        f = local / "config.json"
        return json.loads(f.read_text(encoding="utf-8")) if f.is_file() else None
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(ref, "config.json", revision=revision)
    except Exception:  # an invalid repo id: transformers will say so below
        return None
    if isinstance(cached, str) and Path(cached).is_file():
        return json.loads(Path(cached).read_text(encoding="utf-8"))
    return None


def _check_remote_code(ref: str, revision: str | None, trust_remote_code: bool) -> None:
    raw = _raw_config(ref, revision)
    if raw and raw.get("auto_map") and not trust_remote_code:
        raise ModelLoadError(
            f"model '{ref}' needs its own Python code (config.json has auto_map) and remote code is off",
            hint="read the repository's code first; then set `trust_remote_code: true` in configs/model.yaml "
            "or pass --trust-remote-code",
        )


def _not_found(ref: str, err: Exception) -> ModelLoadError:
    if _looks_like_path(ref) or _local_dir(Path(ref).parent) is not None and not Path(ref).exists():
        return ModelLoadError(f"model folder '{ref}' does not exist or holds no config.json",
                              hint="check the path in configs/model.yaml or pass --model PATH")
    mode = "HF_HUB_OFFLINE=1 is set" if _offline() else "the hub could not be reached"
    return ModelLoadError(
        f"cannot resolve model '{ref}': it is not a local folder, not in the Hugging Face cache, and {mode}",
        hint="download it on a connected machine (`hf download ID --local-dir models/NAME`), copy the folder "
        "here and set `model: models/NAME` in configs/model.yaml (a local path works everywhere an id does); "
        "set HF_HUB_OFFLINE=1 to fail fast instead of retrying the network",
    )


def load_model_config(ref: str, revision: str | None = None, trust_remote_code: bool = False):
    """transformers config for a hub id or a local folder."""
    from transformers import AutoConfig

    ref = str(ref)
    _check_remote_code(ref, revision, trust_remote_code)
    try:
        return AutoConfig.from_pretrained(ref, revision=revision, trust_remote_code=trust_remote_code)
    except OSError as err:
        raise _not_found(ref, err) from err
    except ValueError as err:
        raise ModelLoadError(f"cannot read the config of '{ref}': {err}".split("\n")[0]) from err


def load_tokenizer(ref: str, revision: str | None = None, trust_remote_code: bool = False, *,
                   decoder_only: bool | None = None):
    """Tokenizer with a pad token; left padding for decoder-only models (generation appends on the right)."""
    from transformers import AutoTokenizer

    ref = str(ref)
    _check_remote_code(ref, revision, trust_remote_code)
    try:
        tok = AutoTokenizer.from_pretrained(ref, revision=revision, trust_remote_code=trust_remote_code)
    except OSError as err:
        raise _not_found(ref, err) from err
    if decoder_only:
        tok.padding_side = "left"
        if tok.pad_token is None and tok.eos_token is not None:
            tok.pad_token = tok.eos_token
    return tok


def is_encoder_decoder(config) -> bool:
    return bool(getattr(config, "is_encoder_decoder", False))


def context_window(config, tokenizer=None, override: int | None = None) -> int:
    """Maximum input tokens: an explicit override, else the config's position limit, else the
    tokenizer's model_max_length, else 512 (T5's trained length; it has relative positions)."""
    if override:
        return int(override)
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and 0 < value < _NO_LIMIT:
            return value
    limit = getattr(tokenizer, "model_max_length", None) if tokenizer is not None else None
    if isinstance(limit, int) and 0 < limit < _NO_LIMIT:
        return limit
    return 512


def pick_device_dtype(device: str = "auto", dtype: str = "auto"):
    """(torch.device, torch.dtype): CUDA with bf16 when available, else CPU fp32.

    bf16 is never a CPU default: matmul in bf16 on CPUs without AMX runs ~100x slower than fp32."""
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device '{device}' requested but CUDA is not available",
                             hint="set `device: auto` or `device: cpu` in configs/model.yaml")
    names = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if dtype == "auto":
        if dev.type == "cuda":
            return dev, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return dev, torch.float32
    if dtype not in names:
        raise ModelLoadError(f"unknown dtype '{dtype}'; use one of auto, {', '.join(names)}")
    return dev, names[dtype]


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    config: Any
    ref: str
    revision: str | None
    encoder_decoder: bool
    device: Any
    dtype: Any
    context_window: int

    def describe(self) -> dict:
        """What a run.yaml records about the model."""
        return {"id": self.ref, "revision": self.revision, "encoder_decoder": self.encoder_decoder,
                "device": str(self.device), "dtype": str(self.dtype).replace("torch.", ""),
                "context_window": self.context_window}


def load_model(ref: str, *, revision: str | None = None, trust_remote_code: bool = False,
               architecture: str = "auto", device: str = "auto", dtype: str = "auto",
               max_context: int | None = None) -> LoadedModel:
    """Model + tokenizer in eval mode, on the picked device and dtype."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    ref = str(ref)
    config = load_model_config(ref, revision, trust_remote_code)
    enc_dec = is_encoder_decoder(config) if architecture == "auto" else architecture == "seq2seq"
    dev, torch_dtype = pick_device_dtype(device, dtype)
    auto = AutoModelForSeq2SeqLM if enc_dec else AutoModelForCausalLM
    try:
        model = auto.from_pretrained(ref, revision=revision, trust_remote_code=trust_remote_code, dtype=torch_dtype)
    except OSError as err:
        raise _not_found(ref, err) from err
    except ValueError as err:
        raise ModelLoadError(f"'{ref}' cannot be loaded as a {'seq2seq' if enc_dec else 'causal'} LM: "
                             f"{str(err).splitlines()[0]}",
                             hint="set `architecture:` in configs/model.yaml, or pick a generative model") from err
    model.to(dev)
    model.eval()
    tok = load_tokenizer(ref, revision, trust_remote_code, decoder_only=not enc_dec)
    return LoadedModel(model, tok, config, ref, revision, enc_dec, dev, torch_dtype,
                       context_window(config, tok, max_context))


def load_model_from_config(model_cfg) -> LoadedModel:
    """From a `lifecycle.config.model.ModelConfig` (configs/model.yaml)."""
    return load_model(model_cfg.model, revision=model_cfg.revision, trust_remote_code=model_cfg.trust_remote_code,
                      architecture=model_cfg.architecture, device=model_cfg.device, dtype=model_cfg.dtype,
                      max_context=model_cfg.max_context)
