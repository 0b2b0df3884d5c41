"""Batch-invariant numerics: a row's greedy output must not depend on which other rows share its batch.

`lifecycle serve` groups concurrent requests into arbitrary batches and must answer exactly what
`lifecycle generate` writes. In fp32 two things made a row's logits depend on its batch (measured on
torch 2.13 + MKL, AVX2; the last-bit noise flips greedy argmaxes at near-ties):

1. Matmul reduction order depends on the number of rows: MKL computes a row one way when it is alone
   (gemv), another for 2-3 rows, and on 2 threads also the last rows of 5-7 and 9-11 (it splits small
   batches between the threads), while every larger count rounds every row the same way (measured:
   every count up to 13000 against 3000; 1 and 4 threads differ only at 1-3 rows). Which counts are
   safe is probed once per thread count and weight shape, each product run as the engine runs it
   (fast_paths' split products, which give each thread all the rows and so round 5-7 and 9-11 rows
   as a large batch: on 2 threads only 1-3 stay unsafe); the engine pads a batch up to the next safe
   count with copies of a real row (`batch_rows`).
2. Attention over padded keys: the softmax sum and the probabilities x values product reduce over the
   padded length, and kernels block that reduction by length (sdpa and eager alike). Attention over
   padded keys therefore runs row by row on the row's real keys only (padding sliced off): each row
   gets exactly the kernel call it would get alone without padding, whatever its batch, and so the
   same result as an unpadded one-at-a-time `generate` too. That is all attention: an encoder-decoder
   decoder's own rows are never padded, but on 2 threads the CPU kernel still rounds a batched call
   differently with the batch size (measured: tiny T5, 4 vs 12 rows), so it runs row by row as well,
   or, where the thread count divides the heads, as one call with heads and rows swapped, which
   hands each (row, head) to the thread its own call gives it (heads_as_batch_agrees: the kernel's
   result for an item depends on the thread computing it).
   Where a mask is not one contiguous run of real keys per row (a layout this does
   not know), attention runs in float64 and is rounded back: the order-dependent error (~1e-16) then
   only shows where a value sits within that distance of an fp32 rounding boundary.

   Row by row replaced float64 everywhere: fp64 attention over a growing KV cache converted the whole
   cache every step (gpt2 shape, 8 rows: fp64 copies + fp64 sdpa were ~30% of the run).

   Encoder self-attention (bidirectional) runs the same way: each row's queries and keys are its real
   tokens, so an input encoded in a right-padded group gets the states it gets encoded alone.

   Row by row costs Python and copies a call: a one-query cross-attention step calls sdpa directly
   over each row's key views, kept across steps (_cross_rows), and a position bias that every layer
   shares (T5's) is cut into its contiguous per-row slices once for all layers (_bias_cut)."""

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
# Decoding steps whose rows hold the same keys (an encoder-decoder's decoder) run as one call with
# heads as the batch (heads_as_batch_agrees); False: row by row (the bench measures the two)
HEADS_AS_BATCH = True
# One-query cross-attention calls sdpa directly for each row, over key views kept across steps
# (_cross_rows); False: through sdpa_attention_forward, views cut every step (the bench measures both)
DIRECT_CROSS = True


_unsafe: dict[tuple, frozenset[int]] = {}  # (threads, dtype, products) -> row counts that round differently
_agrees: dict[tuple, bool] = {}  # (threads, dtype, shapes) -> split products give the plain product's bits


def _layer_shapes(model, cap: int) -> tuple[tuple[str, int, int, bool], ...]:
    """The distinct products the model's linear layers run, as (kind, in, out, bias): "head" (the
    output head as fast_paths.head_product), "linear" (an nn.Linear whose products split between the
    threads, fast_paths.split_rows), "other" (any other nn.Linear: a plain product), "conv1d" (GPT-2's
    Conv1D: an addmm with an (in, out) weight). Out is capped at `cap` except for the head (its slices
    are probed as they run); a wider product splits the same way along out. Which kind a layer is
    comes from its real width: capping it must not turn a plain product into a probed split one."""
    import torch
    from transformers.pytorch_utils import Conv1D

    from lifecycle.generation import fast_paths

    head = model.get_output_embeddings()
    chunked = fast_paths.chunks_head(model, head)
    shapes = set()
    for m in model.modules():
        if m is head and chunked:
            shapes.add(("head", m.in_features, m.out_features, m.bias is not None))
        elif isinstance(m, torch.nn.Linear):  # "other": runs plain (hooked, quantized, ..., or too narrow to split)
            splits = fast_paths._plain(m) and fast_paths.split_rows(1, m.out_features) > 1
            shapes.add(("linear" if splits else "other", m.in_features, min(m.out_features, cap), m.bias is not None))
        elif isinstance(m, Conv1D):
            shapes.add(("conv1d", m.weight.shape[0], min(m.weight.shape[1], cap), True))
    return tuple(sorted(shapes))


def _probe_product(kind: str, fan_in: int, fan_out: int, bias: bool, dtype, gen, split: bool):
    """A function of x running the product of one layer shape the way the engine runs it, on random weights."""
    import torch
    import torch.nn.functional as F

    from lifecycle.generation import fast_paths

    if kind == "head":  # two slices and the remainder stand for all of them
        fan_out = 2 * fast_paths.CHUNK + fan_out % fast_paths.CHUNK
    w = torch.randn(fan_out, fan_in, generator=gen).to(dtype)
    b = torch.randn(fan_out, generator=gen).to(dtype) if bias else None
    if kind == "head":
        return lambda x: fast_paths.head_product(x, w, b, split)
    if kind == "conv1d":
        wt = w.t().contiguous()
        return lambda x: torch.addmm(b, x, wt)
    if split and kind == "linear":
        return lambda x: fast_paths.product(x, w, b, True)
    return lambda x: F.linear(x, w, b)


def split_agrees(model, cap: int = 4096) -> bool:
    """Whether fast_paths.product's split products give bitwise the plain product's results for every
    linear shape of `model` at the row counts where they split, on this process's thread count."""
    import torch
    import torch.nn.functional as F

    from lifecycle.generation import fast_paths

    dtype = next(model.parameters()).dtype
    # the Linear layers, and the remainder of a head in vocabulary slices (it runs through product)
    shapes = tuple(sh if sh[0] == "linear" else ("linear", sh[1], sh[2] % fast_paths.CHUNK, sh[3])
                   for sh in _layer_shapes(model, cap)
                   if sh[0] == "linear" or (sh[0] == "head" and sh[2] % fast_paths.CHUNK))
    key = (torch.get_num_threads(), str(dtype), shapes)
    if key not in _agrees:
        gen = torch.Generator().manual_seed(0)
        ok = True
        for _, fan_in, fan_out, bias in shapes:
            w = torch.randn(fan_out, fan_in, generator=gen).to(dtype)
            b = torch.randn(fan_out, generator=gen).to(dtype) if bias else None
            x = torch.randn(fast_paths.SPLIT_MAX_ROWS + 1, fan_in, generator=gen).to(dtype)
            ref = F.linear(x, w, b)  # past SPLIT_MAX_ROWS: the plain product
            ok = ok and all(torch.equal(fast_paths.product(x[:m], w, b, True), ref[:m])
                            for m in (MIN_ROWS, PROBE_ROWS, 2 * PROBE_ROWS, fast_paths.SPLIT_MAX_ROWS))
        _agrees[key] = ok
    return _agrees[key]


def unsafe_row_counts(shapes: tuple[tuple[str, int, int, bool], ...], dtype, split: bool = False) -> frozenset[int]:
    """Row counts up to PROBE_ROWS at which some row of a product rounds differently from the same row
    in a batch of 2 x PROBE_ROWS, for any of `shapes` (see _layer_shapes) run as the engine runs them
    (`split`: through fast_paths' split products), on this process's thread count. Measured, not
    assumed: it depends on the BLAS, the CPU and the number of threads."""
    import torch

    key = (torch.get_num_threads(), str(dtype), shapes, split)
    if key not in _unsafe:
        gen = torch.Generator().manual_seed(0)
        bad = set(range(1, MIN_ROWS))
        for kind, fan_in, fan_out, bias in shapes:
            run = _probe_product(kind, fan_in, fan_out, bias, dtype, gen, split)
            x = torch.randn(2 * PROBE_ROWS, fan_in, generator=gen).to(dtype)
            ref = run(x)
            bad.update(m for m in range(MIN_ROWS, PROBE_ROWS + 1) if not torch.equal(run(x[:m]), ref[:m]))
        _unsafe[key] = frozenset(bad)
    return _unsafe[key]


def unsafe_rows(model, cap: int = 4096) -> frozenset[int]:
    """The row counts at which some product of `model` rounds a row differently (unsafe_row_counts),
    its layers run as the engine runs them on CPU."""
    from lifecycle.generation import fast_paths

    split = fast_paths.SPLIT_PRODUCTS and split_agrees(model)
    return unsafe_row_counts(_layer_shapes(model, cap), next(model.parameters()).dtype, split)


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


_by_heads: dict[tuple, bool] = {}  # (threads, heads, head dim, dtype) -> heads_as_batch_agrees


def heads_as_batch_agrees(heads: int, head_dim: int, dtype) -> bool:
    """Whether one sdpa call over the rows with heads and rows swapped gives every row bitwise what
    its own call gives. Measured here (torch 2.13, MKL): the CPU flash kernel hands its (row, head)
    items to the threads in contiguous runs, and an item's result depends on the thread computing it
    (items on the second thread round otherwise than on one thread; its scratch buffer sitting at
    another offset is the likely cause, not verified); a row's own call
    gives thread t heads [t*H/T, (t+1)*H/T), and so does the swapped call, whatever the row count,
    when the thread count divides the heads. Probed once per shape and thread count, not assumed."""
    import torch
    import torch.nn.functional as F

    key = (torch.get_num_threads(), heads, head_dim, str(dtype))
    if key not in _by_heads:
        gen = torch.Generator().manual_seed(0)
        ok = heads % torch.get_num_threads() == 0
        for length in (1, 6, 40, 300):
            if not ok:
                break
            q, k, v = (torch.randn(3, heads, n, head_dim, generator=gen).to(dtype) for n in (1, length, length))
            bias = torch.randn(1, heads, 1, length, generator=gen).to(dtype)
            for mask in (bias, None):
                rows = torch.cat([F.scaled_dot_product_attention(q[r:r + 1], k[r:r + 1], v[r:r + 1], attn_mask=mask,
                                                                 scale=1.0) for r in range(3)])
                swapped = F.scaled_dot_product_attention(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1),
                                                         attn_mask=None if mask is None else mask.transpose(0, 1),
                                                         scale=1.0)
                ok = ok and torch.equal(swapped.transpose(0, 1), rows)
        _by_heads[key] = ok
    return _by_heads[key]


_layouts: dict[tuple, bool] = {}  # (threads, heads, head dim, dtype) -> projected_layout_agrees


def projected_layout_agrees(heads: int, head_dim: int, dtype) -> bool:
    """Whether sdpa gives a row's one query bitwise the same result over keys and values in a
    projection's layout ((1, keys, heads x head dim) seen as (1, heads, keys, head dim)) as over
    contiguous copies (what transformers' cache holds after its concatenation, and so what the
    one-at-a-time loop attends over). Measured equal here (1-1200 keys, with and without a bias);
    probed once per shape and thread count, not assumed (cross_cache.py keeps the layout on it)."""
    import torch
    import torch.nn.functional as F

    key = (torch.get_num_threads(), heads, head_dim, str(dtype))
    if key not in _layouts:
        gen = torch.Generator().manual_seed(0)
        ok = True
        for length in (1, 7, 40, 300, 600):
            k, v = (torch.randn(1, length, heads * head_dim, generator=gen).to(dtype)
                    .view(1, length, heads, head_dim).transpose(1, 2) for _ in range(2))
            q = torch.randn(2, 1, heads * head_dim, generator=gen).to(dtype).view(2, 1, heads, head_dim).transpose(1, 2)
            for mask, scale in ((torch.zeros(1, heads, 1, length, dtype=dtype), 1.0), (None, None)):  # T5's, BART's
                for r in range(2):
                    ok = ok and torch.equal(
                        F.scaled_dot_product_attention(q[r:r + 1], k, v, attn_mask=mask, scale=scale),
                        F.scaled_dot_product_attention(q[r:r + 1], k.contiguous(), v.contiguous(), attn_mask=mask,
                                                       scale=scale))
        _layouts[key] = ok
    return _layouts[key]


def _bias_cut(bias, row: int, q_from: int, q_to: int, start: int, end: int):
    """A row's slice of a position bias, contiguous, as sdpa_attention_forward would copy it for the
    row's call (given contiguous, it copies nothing): cut once per slice for every layer of a forward,
    since T5 hands every layer the first one's bias (flan-t5-base's encoder: 768 copies of ~2 MB -> 64)."""
    cuts = getattr(_last, "cuts", None)
    if cuts is None:
        cuts = _last.cuts = {}
    kept = cuts.get(id(bias))
    if kept is None or kept[0] is not bias:
        if len(cuts) >= 2:  # a decoding step's self- and cross-attention biases alternate; older ones go
            cuts.clear()
        kept = cuts[id(bias)] = (bias, {})
    r = row if bias.shape[0] > 1 else 0
    where = (r, q_from, q_to, start, end)
    if where not in kept[1]:
        kept[1][where] = bias[r][None][:, :, q_from:q_to, start:end].contiguous()
    return kept[1][where]


def _cross_rows(module, query, key, value, bias, spans, kwargs):
    """One decoding step of cross-attention, a call per row over the row's real keys: the call
    sdpa_attention_forward makes for the row (the per-row path of _invariant_sdpa), made directly.
    The rows' key and value views are kept on the module across steps (the encoder's keys do not
    change), and the bias is cut once per span and step for all layers (_bias_cut). flan-t5-base
    shape, 64 rows of ~200 keys: 22 -> 14-17 ms a layer, most of what is left the kernel's own time."""
    import torch
    import torch.nn.functional as F

    from lifecycle.generation.fast_paths import packed_rows, padded

    kept = module.__dict__.get("_lifecycle_rows")
    if kept is None or kept[0] is not key or kept[1] is not value or kept[2] != spans:
        # keys and values handed over as stand-ins of the packed projections (fast_paths.CROSS_VIEWS):
        # each row's real keys read from the packed product, else cut from the padded tensor
        keys, values = packed_rows(key, spans), packed_rows(value, spans)
        if keys is None or values is None:
            whole_keys, whole_values = padded(key), padded(value)
            keys = [whole_keys[r:r + 1, :, s:e] for r, (s, e) in enumerate(spans)]
            values = [whole_values[r:r + 1, :, s:e] for r, (s, e) in enumerate(spans)]
        kept = (key, value, spans, list(zip(keys, values)))
        module._lifecycle_rows = kept
    # what create_position_bias_mask makes of the row's bias (no mask, not causal): a contiguous copy
    masks = [None] * len(spans) if bias is None else [_bias_cut(bias, r, 0, 1, s, e) for r, (s, e) in enumerate(spans)]
    dropout, scale = kwargs.get("dropout", 0.0), kwargs.get("scaling")
    outs = [F.scaled_dot_product_attention(q, k, v, attn_mask=m, dropout_p=dropout, scale=scale, is_causal=False)
            for q, (k, v), m in zip(query.split(1), kept[3], masks)]
    return torch.cat(outs).transpose(1, 2).contiguous(), None  # (rows, 1 query, heads, head dim)


def _heads_as_batch(module, query, key, value, bias, span, kwargs):
    """One decoding step of self-attention over rows that all hold the same keys (span): a single
    sdpa call with heads as the batch, bitwise each row's own call (heads_as_batch_agrees)."""
    import torch.nn.functional as F

    start, end = span
    mask = None if bias is None else bias[:, :, :, start:end].contiguous()  # as sdpa_attention_forward makes it
    out = F.scaled_dot_product_attention(
        query.transpose(0, 1), key[:, :, start:end].transpose(0, 1), value[:, :, start:end].transpose(0, 1),
        attn_mask=None if mask is None else mask.transpose(0, 1), dropout_p=kwargs.get("dropout", 0.0),
        scale=kwargs.get("scaling"), is_causal=False)
    return out.permute(1, 2, 0, 3).contiguous(), None  # (rows, 1 query, heads, head dim)


def _one_query(module, query, key, bias, args, kwargs) -> bool:
    """One query per row and nothing sdpa_attention_forward would do beyond its sdpa call (grouped
    heads, softcap, attention weights): a decoding step can make that call itself."""
    return query.shape[2] == 1 and not args and key.shape[1] == query.shape[1] \
        and getattr(module, "num_key_value_groups", 1) == 1 and (bias is None or bias.shape[2] == 1) \
        and not kwargs.get("softcap") and not kwargs.get("output_attentions")


def _reads_rows(module, query, key, attention_mask, args, kwargs) -> bool:
    """Whether _invariant_sdpa answers this call with _cross_rows (the one reader of stand-ins)."""
    return ROW_BY_ROW and DIRECT_CROSS and getattr(module, "_lifecycle_cross", False) and query.shape[0] > 1 \
        and (attention_mask is None or (kwargs.get("is_causal") is None
                                        and _spans(attention_mask, query.shape[0]) is not None)) \
        and _one_query(module, query, key, kwargs.get("position_bias"), args, kwargs)


def _invariant_sdpa(module, query, key, value, attention_mask, *args, **kwargs):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from lifecycle.generation import fast_paths

    # stand-ins of packed projections (fast_paths.CROSS_VIEWS) exist only during an encoder-decoder
    # batch; only _cross_rows reads them as they are, any other path the padded tensors they stand for
    if fast_paths._stand_ins and not _reads_rows(module, query, key, attention_mask, args, kwargs):
        key, value = fast_paths.padded(key), fast_paths.padded(value)
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
    one_query = _one_query(module, query, key, bias, args, kwargs)
    if one_query and not cross and not both and rows > 1 and len(set(spans)) == 1 and HEADS_AS_BATCH \
            and heads_as_batch_agrees(query.shape[1], query.shape[3], query.dtype):
        return _heads_as_batch(module, query, key, value, bias, spans[0], kwargs)
    if one_query and cross and DIRECT_CROSS:
        return _cross_rows(module, query, key, value, bias, spans, kwargs)
    out = None
    for row, ((start, end), (q_from, q_to)) in enumerate(zip(spans, queries)):
        if bias is not None:
            kwargs["position_bias"] = _bias_cut(bias, row, q_from, q_to, start, end)
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
        _last.mask = _last.spans = _last.cuts = None
        for module in model.modules():  # the key views _cross_rows kept: the encoder states are let go
            module.__dict__.pop("_lifecycle_rows", None)
