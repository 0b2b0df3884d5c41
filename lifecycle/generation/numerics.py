"""Batch-invariant numerics: a row's greedy output must not depend on which other rows share its batch.

`lifecycle serve` groups concurrent requests into arbitrary batches and must answer exactly what
`lifecycle generate` writes. In fp32 two things made a row's logits depend on its batch (measured on
torch 2.13 + MKL, AVX2; the last-bit noise flips greedy argmaxes at near-ties):

1. Matmul reduction order depends on the number of rows: MKL computes a row one way when it is alone
   (gemv), another for 2-3 rows, and one way for any count >= 4 (whatever its position). The engine
   therefore never runs a batch of fewer than MIN_ROWS rows: it pads with copies of a real row.
2. Attention over padded keys: the softmax sum and the probabilities x values product reduce over the
   padded length, and kernels block that reduction by length (sdpa and eager alike). Attention runs
   in float64 and is rounded back to the model's dtype: the order-dependent error (~1e-16) then only
   shows where a value sits within that distance of an fp32 rounding boundary. For encoder-decoder
   models only cross-attention is widened (the one place keys are padded); decoder-only models pad
   on the left, so all their attention is.

Encoder inputs are encoded one at a time (engine._encode), so encoder outputs never see padding."""

from __future__ import annotations

from contextlib import contextmanager

ATTENTION = "lifecycle_fp64_sdpa"
MIN_ROWS = 4
_registered = False
_CROSS = ("EncDecAttention", "encoder_attn", "crossattention", "cross_attn")


def _fp64_sdpa(module, query, key, value, attention_mask, *args, **kwargs):
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    dtype = query.dtype
    if not getattr(module, "_lifecycle_padded_keys", True):  # never padded (see invariant_attention): fp32
        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)

    def wide(t):
        return t.to(torch.float64) if isinstance(t, torch.Tensor) and t.is_floating_point() else t

    if "position_bias" in kwargs:  # T5: the relative position bias is added to the scores
        kwargs["position_bias"] = wide(kwargs["position_bias"])
    out, weights = sdpa_attention_forward(module, wide(query), wide(key), wide(value), wide(attention_mask),
                                          *args, **kwargs)
    return out.to(dtype), weights


def register() -> None:
    global _registered
    if _registered:
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION, _fp64_sdpa)
    AttentionMaskInterface.register(ATTENTION, sdpa_mask)
    _registered = True


def supports(model) -> bool:
    """Models whose attention goes through transformers' AttentionInterface as sdpa or eager."""
    impl = getattr(model.config, "_attn_implementation", None)
    return impl in ("sdpa", "eager", ATTENTION) and getattr(model, "_can_set_attn_implementation", lambda: False)()


@contextmanager
def invariant_attention(model, enabled: bool = True):
    """Run `model`'s attention in float64 inside the block; the previous implementation comes back after."""
    if not enabled or not supports(model):
        yield False
        return
    register()
    previous = model.config._attn_implementation
    if previous == ATTENTION:
        yield True
        return
    if model.config.is_encoder_decoder:
        # Inputs are encoded one at a time and decoder rows all have the same length: only
        # cross-attention sees padded keys. Widening only there keeps the rest at fp32 speed.
        for name, module in model.named_modules():
            if hasattr(module, "is_causal"):
                module._lifecycle_padded_keys = any(part in name for part in _CROSS)
    model.set_attn_implementation(ATTENTION)
    try:
        yield True
    finally:
        model.set_attn_implementation(previous)
