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


def memory_estimate(model_ref: str, method: str, *, precision: str, batch_size: int, seq_len: int, lora_r: int,
                    target_modules: list[str] | None, num_virtual_tokens: int = 20, device: str = "gpu",
                    target_len: int | None = None, lora_dropout: float = 0.0, trust_remote_code: bool = False) -> dict:
    """The foundation's estimator for this method as configured. Where it cannot simulate a
    prompt-tuning step on fake tensors, the step is asked as LoRA with r=1 on the same frozen base
    (an upper bound on prompt tuning's tiny trainable part), and the result says so."""
    from lifecycle.catalog.memory import estimate_memory
    from lifecycle.errors import LifecycleError

    dtype = "int4" if method == "qlora" else {"no": "fp32", "bf16": "bf16", "fp16": "bf16"}[precision]  # same bytes

    def ask(as_method: str, r: int):
        return estimate_memory(model_ref, as_method, dtype, batch_size, max(1, seq_len), lora_r=r,
                               target_modules=target_modules if as_method in ("lora", "qlora", "ia3") else None,
                               num_virtual_tokens=num_virtual_tokens, device=device, target_len=target_len,
                               lora_dropout=lora_dropout if as_method == method else 0.0,  # not the stand-in's
                               trust_remote_code=trust_remote_code)

    note = None
    try:
        try:
            est = ask(method, lora_r)
        except LifecycleError:
            if method != "prompt_tuning":
                raise
            est, note = ask("lora", 1), "prompt_tuning estimated as lora r=1 on the same frozen base"
    except (LifecycleError, ValueError, RuntimeError, TypeError) as err:  # advice only: never stops training
        return {"error": f"{type(err).__name__}: {err}"}
    out = est.to_dict()
    if note:
        out["notes"] = [note, *out.get("notes", [])]
    return out


def world_rank() -> int:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) or 0)
