"""Batch-invariant numerics: a row's greedy output must not depend on which other rows share its batch.

`lifecycle serve` groups concurrent requests into arbitrary batches and must answer exactly what
`lifecycle generate` writes. In fp32 two things made a row's logits depend on its batch (measured on
torch 2.13 + MKL, AVX2; the last-bit noise flips greedy argmaxes at near-ties):

1. Matmul reduction order depends on the number of rows: MKL computes a row one way when it is alone
   (gemv), another for 2-3 rows, and one way for any count >= 4 (whatever its position). The engine
   therefore never runs a batch of fewer than MIN_ROWS rows: it pads with copies of a real row.
2. Attention over padded keys: the softmax sum and the probabilities x values product reduce over the
   padded length, and kernels block that reduction by length (sdpa and eager alike). Attention over
   padded keys therefore runs row by row on the row's real keys only (padding sliced off): each row
   gets exactly the kernel call it would get alone without padding, whatever its batch, and so the
   same result as an unpadded one-at-a-time `generate` too. For encoder-decoder models that is only
   cross-attention (the one place keys are padded); decoder-only models pad on the left, so it is all
   their attention. Where a mask is not one contiguous run of real keys per row (a layout this does
   not know), attention runs in float64 and is rounded back: the order-dependent error (~1e-16) then
   only shows where a value sits within that distance of an fp32 rounding boundary.

   Row by row replaced float64 everywhere: fp64 attention over a growing KV cache converted the whole
   cache every step (gpt2 shape, 8 rows: fp64 copies + fp64 sdpa were ~30% of the run).

Encoder inputs are encoded one at a time (engine._encode), so encoder outputs never see padding."""

from __future__ import annotations

import threading
from contextlib import contextmanager

ATTENTION = "lifecycle_invariant_sdpa"
MIN_ROWS = 4
_registered = False
_CROSS = ("EncDecAttention", "encoder_attn", "crossattention", "cross_attn")
_last = threading.local()  # .mask, .spans: every layer of one forward shares the mask (per thread: serve's worker)
# False: float64 for all attention over padded keys, as before row by row (benchmarks/bench_engine.py
# measures the two against each other)
ROW_BY_ROW = True


def _fp64_sdpa(module, query, key, value, attention_mask, *args, **kwargs):
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    dtype = query.dtype

    def wide(t):
        return t.to(torch.float64) if isinstance(t, torch.Tensor) and t.is_floating_point() else t

    if "position_bias" in kwargs:  # T5: the relative position bias is added to the scores
        kwargs["position_bias"] = wide(kwargs["position_bias"])
    out, weights = sdpa_attention_forward(module, wide(query), wide(key), wide(value), wide(attention_mask),
                                          *args, **kwargs)
    return out.to(dtype), weights


def _spans(mask, rows: int) -> list[tuple[int, int]] | None:
    """(start, end) of each row's real keys, read off the mask's last query row; None unless every
    row's real keys are one contiguous, non-empty run."""
    import torch

    if getattr(_last, "mask", None) is mask:
        return _last.spans
    last = mask[:, 0, -1, :]
    valid = last if last.dtype == torch.bool else last > torch.finfo(last.dtype).min / 2
    kv = valid.shape[-1]
    count = valid.sum(-1)
    first = valid.int().argmax(-1)
    final = kv - 1 - valid.flip(-1).int().argmax(-1)
    spans = None
    if bool((count > 0).all()) and bool((final - first + 1 == count).all()):
        spans = [(int(s), int(s + c)) for s, c in zip(first.tolist(), count.tolist())]
        if len(spans) == 1 and rows > 1:  # a mask broadcast over the batch
            spans = spans * rows
        if len(spans) != rows:
            spans = None
    _last.mask, _last.spans = mask, spans
    return spans


def _invariant_sdpa(module, query, key, value, attention_mask, *args, **kwargs):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if not getattr(module, "_lifecycle_padded_keys", True):  # never padded (see invariant_attention): as is
        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)
    rows, _, q_len, _ = query.shape
    kv = key.shape[2]
    cross = getattr(module, "_lifecycle_cross", False)
    if not ROW_BY_ROW:
        return _fp64_sdpa(module, query, key, value, attention_mask, *args, **kwargs)
    spans = None if attention_mask is None or kwargs.get("is_causal") is not None else _spans(attention_mask, rows)
    if attention_mask is None and rows == 1:
        return sdpa_attention_forward(module, query, key, value, None, *args, **kwargs)
    if attention_mask is None:
        spans = [(0, kv)] * rows
    # Self-attention: the row's real keys end at the newest token (a static cache holds unused slots
    # after it), query i sits at key position end - q_len + i, and a causal prefill must keep as many
    # queries as keys (sdpa's causal mask is upper-left aligned).
    q_froms = [0 if cross else max(0, start - (end - q_len)) for start, end in (spans or ())]
    if spans is None or (not cross and any(end < q_len or (q_len > 1 and q_len - q_from != end - start)
                                           for (start, end), q_from in zip(spans, q_froms))):
        return _fp64_sdpa(module, query, key, value, attention_mask, *args, **kwargs)
    bias = kwargs.pop("position_bias", None)
    out = None
    for row, ((start, end), q_from) in enumerate(zip(spans, q_froms)):
        if bias is not None:
            b = bias[row if bias.shape[0] > 1 else 0][None]
            kwargs["position_bias"] = b[:, :, q_from:, start:end]
        o, _ = sdpa_attention_forward(module, query[row:row + 1, :, q_from:], key[row:row + 1, :, start:end],
                                      value[row:row + 1, :, start:end], None, *args, **kwargs)
        if out is None:  # sdpa returns (batch, queries, heads, head_dim); padded queries stay zero
            out = o.new_zeros((rows, q_len, *o.shape[2:]))
        out[row, q_from:] = o[0]
    return out, None


def register() -> None:
    global _registered
    if _registered:
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, _invariant_sdpa)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)
    _registered = True


def supports(model) -> bool:
    """Models whose attention goes through transformers' AttentionInterface as sdpa or eager."""
    impl = getattr(model.config, "_attn_implementation", None)
    return impl in ("sdpa", "eager", ATTENTION) and getattr(model, "_can_set_attn_implementation", lambda: False)()


@contextmanager
def invariant_attention(model, enabled: bool = True):
    """Run `model`'s attention batch-invariantly inside the block; the previous implementation comes back after."""
    if not enabled or not supports(model):
        yield False
        return
    register()
    previous = model.config._attn_implementation
    if previous == ATTENTION:
        yield True
        return
    for name, module in model.named_modules():
        if hasattr(module, "is_causal"):
            module._lifecycle_cross = any(part in name for part in _CROSS)
            # Inputs are encoded one at a time and decoder rows all have the same length: only
            # cross-attention sees padded keys. The rest runs as it would without this.
            module._lifecycle_padded_keys = module._lifecycle_cross or not model.config.is_encoder_decoder
    model.set_attn_implementation(ATTENTION)
    try:
        yield True
    finally:
        model.set_attn_implementation(previous)
        _last.mask = _last.spans = None
