"""Loading configs, tokenizers and models by hub id or local folder, with clear offline errors.

No code from a model repository runs without consent:
- remote code (an `auto_map` entry) is refused unless `trust_remote_code: true`; even then a hub id
  needs `revision:` pinned to a 40-hex commit (a branch can change the code after it was read),
  and the .py files that will run are named (on stderr and in the run record);
- pickle weights (pytorch_model.bin, *.pt, *.ckpt) can run code when unpickled: a folder without
  safetensors is refused unless `allow_pickle: true`, and then it is read with
  torch.load(weights_only=True); a pickle that asks for anything but tensors is a one-line refusal.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.errors import ModelLoadError
from lifecycle.textio import read_json
from lifecycle.reporting import to_stderr

# Largest plausible context; tokenizers report 1e30 when they have no limit.
_NO_LIMIT = 10_000_000


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _local_dir(ref: str | os.PathLike) -> Path | None:
    p = Path(ref).expanduser()
    return p if p.is_dir() else None


def _looks_like_path(ref: str) -> bool:
    return ref.startswith((".", "/", "~")) or ref.count("/") > 1 or os.sep == "\\" and "\\" in ref


_COMMIT = re.compile(r"[0-9a-f]{40}")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_MAX_LISTED = 200  # files listed from a model folder (a folder of thousands is not a model)
_ANNOUNCED: set[tuple[str, str | None]] = set()


def _cached_snapshot(ref: str, revision: str | None) -> Path | None:
    """The hub-cache snapshot folder of `ref` at `revision`, found offline via its config.json."""
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(ref, "config.json", revision=revision)
    except Exception:  # an invalid repo id: transformers will say so below
        return None
    return Path(cached).parent if isinstance(cached, str) and Path(cached).is_file() else None


def _model_folder(ref: str, revision: str | None) -> Path | None:
    return _local_dir(ref) or _cached_snapshot(ref, revision)


def _raw_config(ref: str, revision: str | None) -> dict | None:
    """config.json from a local folder or the hub cache, without any network access; bad bytes or
    bad JSON in it are one located line."""
    folder = _model_folder(ref, revision)
    f = folder / "config.json" if folder is not None else None
    if f is None or not f.is_file():
        return None
    raw = read_json(f, limit=16 * 1024 * 1024, kind="model config", error=ModelLoadError)
    if not isinstance(raw, dict):
        raise ModelLoadError(f"{f}: expected a JSON object")
    return raw


def _listing(folder: Path) -> list[str]:
    names = []
    for p in sorted(folder.rglob("*")):
        if len(names) >= _MAX_LISTED:
            break
        if p.is_file() and ".git" not in p.parts:
            names.append(p.relative_to(folder).as_posix())
    return names


def remote_code_files(ref: str, revision: str | None, raw: dict | None = None) -> list[str]:
    """The .py files transformers would import for `ref`: those named by config.json's auto_map
    (`modeling_x.Class` -> modeling_x.py) plus every .py file the folder or cached snapshot holds."""
    raw = _raw_config(ref, revision) if raw is None else raw
    files: dict[str, None] = {}
    auto_map = (raw or {}).get("auto_map") or {}
    for value in auto_map.values() if isinstance(auto_map, dict) else ():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and "." in item:
                module = item.split("--")[-1].rsplit(".", 1)[0]  # "repo--modeling_x.Class" too
                files[module.replace(".", "/") + ".py"] = None
    folder = _model_folder(ref, revision)
    if folder is not None:
        files.update(dict.fromkeys(n for n in _listing(folder) if n.endswith(".py")))
    return sorted(files)


@dataclass
class CodeConsent:
    """What of a model repository may run: recorded in run.yaml under `model.code`."""

    trust_remote_code: bool = False
    code_files: list[str] = field(default_factory=list)
    pickle_files: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        return {"trust_remote_code": self.trust_remote_code, "code_files": self.code_files,
                "pickle_weights": self.pickle_files}


def check_remote_code(ref: str, revision: str | None, trust_remote_code: bool) -> list[str]:
    """Refuse remote code without consent, and a hub id with remote code without a pinned commit.
    Returns the .py files that will run (empty when none)."""
    raw = _raw_config(ref, revision)
    needs_code = bool(raw and raw.get("auto_map"))
    if not trust_remote_code:
        if needs_code:
            files = remote_code_files(ref, revision, raw)
            raise ModelLoadError(
                f"model '{ref}' needs its own Python code ({', '.join(files) or 'config.json has auto_map'}) "
                "and remote code is off",
                hint="read those files first; then set `trust_remote_code: true` (and, for a hub id, `revision:` "
                "to the commit you read) in configs/model.yaml")
        return []
    local = _local_dir(ref) is not None
    if not local and not (revision and _COMMIT.fullmatch(revision)):
        raise ModelLoadError(
            f"trust_remote_code is on for '{ref}' but revision is {revision or 'not set'}: remote code runs only "
            "from a pinned commit (a branch or tag can change the code after you read it)",
            hint="set `revision:` in configs/model.yaml to the 40-character commit hash of the code you reviewed")
    files = remote_code_files(ref, revision, raw)
    if files and (ref, revision) not in _ANNOUNCED:  # once per process, not per config/tokenizer/model load
        _ANNOUNCED.add((ref, revision))
        where = "" if local else f"@{revision[:12]}"
        to_stderr(f"note: trust_remote_code: running the Python code of {ref}{where}: {', '.join(files)}")
    return files


def _check_remote_code(ref: str, revision: str | None, trust_remote_code: bool) -> None:
    check_remote_code(ref, revision, trust_remote_code)


def pickle_weights(ref: str, revision: str | None) -> tuple[list[str], bool]:
    """(pickle weight files, whether safetensors weights are there too) of a local folder or cached
    snapshot; ([], True) when nothing is known locally (a hub download is asked for safetensors)."""
    folder = _model_folder(ref, revision)
    if folder is None:
        return [], True
    names = _listing(folder)
    pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES) and not n.endswith("training_args.bin")
               and "/" not in n]
    return pickles, any(n.endswith(".safetensors") for n in names)


def weights_kwargs(ref: str, revision: str | None, allow_pickle: bool = False) -> dict:
    """`from_pretrained` keyword arguments that keep pickle out: safetensors only, unless the
    folder has only pickle weights and the user opted in (then torch.load with weights_only=True)."""
    pickles, has_safetensors = pickle_weights(ref, revision)
    if has_safetensors or not pickles:
        return {"use_safetensors": True} if has_safetensors and pickles else {}
    if not allow_pickle:
        raise ModelLoadError(
            f"model '{ref}' has only pickle weights ({', '.join(pickles[:3])}); unpickling can run code, "
            "so it is not loaded",
            hint="convert it to safetensors (model.save_pretrained(DIR) writes model.safetensors), or set "
            "`allow_pickle: true` in configs/model.yaml to load it with torch.load(weights_only=True)")
    return {"use_safetensors": False, "weights_only": True}


def _is_unpickling_refusal(err: BaseException) -> bool:
    import pickle

    while err is not None:
        if isinstance(err, pickle.UnpicklingError):
            return True
        err = err.__cause__ or err.__context__
    return False


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
    consent: CodeConsent = field(default_factory=CodeConsent)

    def describe(self) -> dict:
        """What a run.yaml records about the model (with which of its code/pickles were allowed)."""
        out = {"id": self.ref, "revision": self.revision, "encoder_decoder": self.encoder_decoder,
               "device": str(self.device), "dtype": str(self.dtype).replace("torch.", ""),
               "context_window": self.context_window}
        if self.consent.trust_remote_code or self.consent.pickle_files:
            out["code"] = self.consent.describe()
        return out


def load_model(ref: str, *, revision: str | None = None, trust_remote_code: bool = False,
               architecture: str = "auto", device: str = "auto", dtype: str = "auto",
               max_context: int | None = None, allow_pickle: bool = False) -> LoadedModel:
    """Model + tokenizer in eval mode, on the picked device and dtype."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    ref = str(ref)
    code_files = check_remote_code(ref, revision, trust_remote_code)
    weights = weights_kwargs(ref, revision, allow_pickle)
    config = load_model_config(ref, revision, trust_remote_code)
    enc_dec = is_encoder_decoder(config) if architecture == "auto" else architecture == "seq2seq"
    dev, torch_dtype = pick_device_dtype(device, dtype)
    auto = AutoModelForSeq2SeqLM if enc_dec else AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its MISSING/UNEXPECTED table: a missing head is our one-line error below
    try:
        model, info = auto.from_pretrained(ref, revision=revision, trust_remote_code=trust_remote_code,
                                           dtype=torch_dtype, output_loading_info=True, **weights)
    except Exception as err:
        if _is_unpickling_refusal(err):
            raise refused_pickle(ref, err) from None
        if isinstance(err, OSError):
            raise _not_found(ref, err) from err
        if not isinstance(err, ValueError):
            raise
        raise ModelLoadError(f"'{ref}' cannot be loaded as a {'seq2seq' if enc_dec else 'causal'} LM: "
                             f"{str(err).splitlines()[0]}",
                             hint="set `architecture:` in configs/model.yaml, or pick a generative model") from err
    finally:
        hf_logging.set_verbosity(level)
    _refuse_new_weights(ref, info, "seq2seq" if enc_dec else "causal")
    model.to(dev)
    model.eval()
    tok = load_tokenizer(ref, revision, trust_remote_code, decoder_only=not enc_dec)
    consent = CodeConsent(trust_remote_code, code_files, pickle_weights(ref, revision)[0] if weights.get(
        "weights_only") else [])
    return LoadedModel(model, tok, config, ref, revision, enc_dec, dev, torch_dtype,
                       context_window(config, tok, max_context), consent)


def _refuse_new_weights(ref: str, info: dict, kind: str) -> None:
    """Weights the checkpoint lacks are initialised at random (e.g. BERT loaded as a causal LM gets a
    fresh LM head): its outputs would be noise written as predictions, so loading stops here."""
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelLoadError(
            f"'{ref}' is not a trained {kind} LM: {len(missing)} weight(s) would be newly initialised at random "
            f"({shown}), so its outputs would be noise",
            hint="pick a generative model (encoder-decoder or decoder-only; `lifecycle select` ranks them), or "
            "fine-tune one; `architecture:` in configs/model.yaml must match the checkpoint")


def load_model_from_config(model_cfg) -> LoadedModel:
    """From a `lifecycle.config.model.ModelConfig` (configs/model.yaml)."""
    return load_model(model_cfg.model, revision=model_cfg.revision, trust_remote_code=model_cfg.trust_remote_code,
                      architecture=model_cfg.architecture, device=model_cfg.device, dtype=model_cfg.dtype,
                      max_context=model_cfg.max_context, allow_pickle=getattr(model_cfg, "allow_pickle", False))


def refused_pickle(ref: str, err: BaseException) -> ModelLoadError:
    """torch.load(weights_only=True) met a pickle that asks for more than tensors: nothing of it ran."""
    found = re.search(r"GLOBAL ([\w.]+)", str(err))
    return ModelLoadError(
        f"refused the pickle weights of '{ref}': they ask to run code, not just hold tensors"
        + (f" (they call {found.group(1)})" if found else "") + "; nothing of it was executed",
        hint="get the model as safetensors from a source you trust; do not load this file with the safety off")
