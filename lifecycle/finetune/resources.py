"""Mixed precision chosen from the hardware, and memory: the estimate before, the peak after."""

from __future__ import annotations

import os
import sys

from lifecycle.errors import FinetuneError


def choose_precision(requested: str) -> str:
    """'no', 'bf16' or 'fp16'. Never bf16 on CPU: without AMX it is ~100x slower than fp32."""
    import torch

    cuda = torch.cuda.is_available()
    if requested == "auto":
        if not cuda:
            return "no"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if requested in ("bf16", "fp16") and not cuda:
        raise FinetuneError(f"configs/finetune.yaml: training.mixed_precision: {requested} needs a CUDA GPU; "
                            "this machine has none",
                            hint="set mixed_precision: auto (fp32 on CPU)")
    if requested == "bf16" and not torch.cuda.is_bf16_supported():
        raise FinetuneError("configs/finetune.yaml: training.mixed_precision: this GPU does not support bf16",
                            hint="set mixed_precision: fp16 or auto")
    return requested


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_memory() -> dict:
    """Peak resident memory of this process (bytes) and, on CUDA, the peak allocated by torch."""
    import torch

    out = {}
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["peak_rss_bytes"] = int(rss if sys.platform == "darwin" else rss * 1024)
    except ImportError:  # Windows
        pass
    if torch.cuda.is_available():
        out["peak_cuda_allocated_bytes"] = int(torch.cuda.max_memory_allocated())
    return out


def gib(n: float | int | None) -> str:
    return "?" if n is None else f"{n / 2**30:.2f} GiB"


def _dtype_for(method: str, precision: str) -> str:
    """The estimator's dtype: the method's own (qlora: int4), else the training precision's bytes."""
    from lifecycle.methods import get_method

    return get_method(method).default_dtype or {"no": "fp32", "bf16": "bf16", "fp16": "bf16"}[precision]


def memory_estimate(model_ref: str, method: str, *, precision: str, batch_size: int, seq_len: int, lora_r: int,
                    target_modules: list[str] | None, num_virtual_tokens: int = 20, device: str = "gpu",
                    target_len: int | None = None, lora_dropout: float = 0.0, trust_remote_code: bool = False) -> dict:
    """The pre-flight estimate of a training job: the same MemoryRequest `MemoryRequest.for_project`
    builds from configs/finetune.yaml (method, batch, LoRA rank and dropout, targets, virtual tokens),
    with the lengths measured by the tokenizer and the device and precision this job really uses.
    The estimator itself handles methods it cannot simulate (the registry's `estimate_fallback`)."""
    from lifecycle.catalog.memory import MemoryRequest

    request = MemoryRequest(method=method, dtype=_dtype_for(method, precision), batch_size=batch_size,
                            seq_len=max(1, seq_len), lora_r=lora_r,
                            target_modules=tuple(target_modules) if target_modules else None,
                            num_virtual_tokens=num_virtual_tokens, device=device, target_len=target_len,
                            lora_dropout=lora_dropout)
    return estimate_request(model_ref, request, trust_remote_code=trust_remote_code)


def preflight_request(project, overrides: dict | None = None):
    """The project's memory question as the fine-tune pre-flight asks it (`MemoryRequest.for_project`)."""
    from lifecycle.catalog.memory import MemoryRequest

    return MemoryRequest.for_project(project, overrides)


def estimate_request(model_ref: str, request, *, trust_remote_code: bool = False) -> dict:
    """The estimate as a dict for run.yaml; advice only, so a failure is recorded, never raised."""
    from lifecycle.catalog.memory import estimate_memory
    from lifecycle.errors import LifecycleError

    try:
        est = estimate_memory(model_ref, request, trust_remote_code=trust_remote_code)
    except (LifecycleError, ValueError, RuntimeError, TypeError) as err:  # advice only: never stops training
        return {"error": f"{type(err).__name__}: {err}"}
    return est.to_dict()


def world_rank() -> int:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) or 0)
