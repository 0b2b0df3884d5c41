"""Batch-invariant numerics: a row's greedy output must not depend on which other rows share its batch.

`lifecycle serve` groups concurrent requests into arbitrary batches and must answer exactly what
`lifecycle generate` writes. In fp32 two things made a row's logits depend on its batch (measured on
torch 2.13 + MKL, AVX2; the last-bit noise flips greedy argmaxes at near-ties):

1. Matmul reduction order depends on the number of rows: MKL computes a row one way when it is alone
   (gemv), another for 2-3 rows, and on 2 threads also the last rows of 5-7 and 9-11 (it splits small
   batches between the threads), while every larger count rounds every row the same way (measured:
   every count up to 13000 against 3000; 1 and 4 threads differ only at 1-3 rows). Which counts are
   safe is probed once per thread count and weight shape (`batch_rows`); the engine pads a batch up
   to the next safe count with copies of a real row.
2. Attention over padded keys: the softmax sum and the probabilities x values product reduce over the
   padded length, and kernels block that reduction by length (sdpa and eager alike). Attention over
   padded keys therefore runs row by row on the row's real keys only (padding sliced off): each row
   gets exactly the kernel call it would get alone without padding, whatever its batch, and so the
   same result as an unpadded one-at-a-time `generate` too. That is all attention: an encoder-decoder
   decoder's own rows are never padded, but on 2 threads the CPU kernel still rounds a batched call
   differently with the batch size (measured: tiny T5, 4 vs 12 rows), so it runs row by row as well.
   Where a mask is not one contiguous run of real keys per row (a layout this does
   not know), attention runs in float64 and is rounded back: the order-dependent error (~1e-16) then
   only shows where a value sits within that distance of an fp32 rounding boundary.

   Row by row replaced float64 everywhere: fp64 attention over a growing KV cache converted the whole
   cache every step (gpt2 shape, 8 rows: fp64 copies + fp64 sdpa were ~30% of the run).

   Encoder self-attention (bidirectional) runs the same way: each row's queries and keys are its real
   tokens, so an input encoded in a right-padded group gets the states it gets encoded alone."""

from __future__ import annotations

import threading
from contextlib import contextmanager

ATTENTION = "lifecycle_invariant_sdpa"
MIN_ROWS = 4  # below this no row count is safe on any thread count measured
PROBE_ROWS = 64  # row counts probed; larger ones round as the largest probed (measured up to 13000)
_registered = False
CROSS_ATTENTION = ("EncDecAttention", "encoder_attn", "crossattention", "cross_attn")  # module names
_last = threading.local()  # .mask, .spans: every layer of one forward shares the mask (per thread: serve's worker)
# False: float64 for all attention over padded keys, as before row by row (benchmarks/bench_engine.py
# measures the two against each other)
ROW_BY_ROW = True


_unsafe: dict[tuple, frozenset[int]] = {}  # (threads, dtype, weight shapes) -> row counts that round differently


def _linear_shapes(model, cap: int) -> tuple[tuple[int, int], ...]:
    """The distinct (in, out) shapes of the model's linear layers (GPT-2's Conv1D too, its weight
    stored (in, out)), out capped at `cap` (the output head runs in slices of that many rows; a wider
    product splits the same way along out)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    shapes = set()
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            shapes.add((m.in_features, min(m.out_features, cap)))
        elif isinstance(m, Conv1D):
            shapes.add((m.weight.shape[0], min(m.weight.shape[1], cap)))
    return tuple(sorted(shapes))


def unsafe_row_counts(shapes: tuple[tuple[int, int], ...], dtype) -> frozenset[int]:
    """Row counts up to PROBE_ROWS at which some row of a matmul rounds differently from the same row
    in a batch of 2 x PROBE_ROWS, for any of `shapes`, on this process's thread count. Measured, not
    assumed: it depends on the BLAS, the CPU and the number of threads."""
    import torch
    import torch.nn.functional as F

    key = (torch.get_num_threads(), str(dtype), shapes)
    if key not in _unsafe:
        gen = torch.Generator().manual_seed(0)
        bad = set(range(1, MIN_ROWS))
        for fan_in, fan_out in shapes:
            w = torch.randn(fan_out, fan_in, generator=gen).to(dtype)
            x = torch.randn(2 * PROBE_ROWS, fan_in, generator=gen).to(dtype)
            ref = F.linear(x, w)
            bad.update(m for m in range(MIN_ROWS, PROBE_ROWS + 1) if not torch.equal(F.linear(x[:m], w), ref[:m]))
        _unsafe[key] = frozenset(bad)
    return _unsafe[key]


def unsafe_rows(model, cap: int = 1024) -> frozenset[int]:
    """The row counts at which some matmul of `model` rounds a row differently (unsafe_row_counts)."""
    return unsafe_row_counts(_linear_shapes(model, cap), next(model.parameters()).dtype)


def batch_rows(model, n: int, per_row: int = 1) -> int:
    """How many rows to run for `n` real ones (each `per_row` wide, e.g. beams) so that every row's
    matmuls round as in any other safe batch: the smallest count >= n that is safe."""
    unsafe = unsafe_rows(model)
    rows = n
    while rows * per_row in unsafe:
        rows += 1
    return rows


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

    rows, _, q_len, _ = query.shape
    kv = key.shape[2]
    cross = getattr(module, "_lifecycle_cross", False)
    # Encoder self-attention: right-padded, every query attends to the row's real keys, and only the
    # real queries matter (the padded ones are never read).
    both = not cross and not getattr(module, "is_causal", True)
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
    # Each row's queries (from, to): cross-attention all of them; encoder self-attention its real
    # tokens; causal self-attention the newest ones.
    queries = [(0, q_len) if cross else (start, end) if both else (max(0, start - (end - q_len)), q_len)
               for start, end in (spans or ())]
    if spans is None or (not cross and not both and any(
            end < q_len or (q_len > 1 and q_len - q_from != end - start)
            for (start, end), (q_from, _) in zip(spans, queries))) or (both and kv != q_len):
        return _fp64_sdpa(module, query, key, value, attention_mask, *args, **kwargs)
    bias = kwargs.pop("position_bias", None)
    out = None
    for row, ((start, end), (q_from, q_to)) in enumerate(zip(spans, queries)):
        if bias is not None:
            b = bias[row if bias.shape[0] > 1 else 0][None]
            kwargs["position_bias"] = b[:, :, q_from:q_to, start:end]
        o, _ = sdpa_attention_forward(module, query[row:row + 1, :, q_from:q_to], key[row:row + 1, :, start:end],
                                      value[row:row + 1, :, start:end], None, *args, **kwargs)
        if out is None:  # sdpa returns (batch, queries, heads, head_dim); padded queries stay zero
            out = o.new_zeros((rows, q_len, *o.shape[2:]))
        out[row, q_from:q_to] = o[0]
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
            module._lifecycle_cross = any(part in name for part in CROSS_ATTENTION)
    model.set_attn_implementation(ATTENTION)
    try:
        yield True
    finally:
        model.set_attn_implementation(previous)
        _last.mask = _last.spans = None
