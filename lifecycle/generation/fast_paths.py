"""CPU speed-ups of the engine, each measured (benchmarks/bench_generate.py --variants: what each
buys) and each checked to leave the outputs as they were.

- The output projection (hidden -> vocabulary logits) in slices of CHUNK vocabulary rows: MKL runs a
  (rows x d) @ (d x 50k) product about 2x faster as 1024-row slices at 4-64 rows (measured on this
  machine's AVX2 CPU, torch 2.13: 34 rows, GPT-2's 50257 x 768 head, 96 -> 55 ms), and faster still
  as one batched product over the slices (views of the weight; flan-t5-base's head, 64 rows: 67 ->
  37-42 ms). Each logit is the same dot product over d either way, so the result is bitwise equal
  (tests/generation/test_fast_paths.py checks it on the machine that runs the tests).
- Split products (`SPLIT_PRODUCTS`): a Linear over few rows (decoding steps) on several threads
  runs as one batched product over a slice of the outputs per thread; MKL's own threading splits
  64 rows badly (768 -> 2048 on 2 threads: 37 -> 61-72 GFLOP/s, as fast as one thread alone before).
  Bitwise the plain product, probed per machine (numerics.split_agrees); flan-t5-base shape, 64 rows:
  a decoding step ~0.75 -> ~0.57 s together with the decoder's attention as one call (numerics.py).
- A static KV cache for decoder-only models (`STATIC_CACHE`): transformers' dynamic cache
  concatenates every layer's keys and values at every step (34 rows, 12 layers, ~240 keys: ~17 ms a
  concatenation, ~400 ms a step); the static one writes the new column in place. The batch-invariant
  attention (numerics.py) reads each row's real keys only, so the unused slots change nothing.
- Prefill apart, decode together (`prefill_apart`, decoder-only, with the static cache): a
  left-padded prefill computes the padding too (64 DialogSum prompts: 54% of its tokens), and the
  prefill is where the compute is. Each prompt but its last token runs alone and unpadded, as the
  loop runs it; the last token is the first batched decoding step. That step's attention is a
  one-query call where the loop's is the last row of its prompt-long call, so the outputs are
  checked: identical to the loop's on the benchmark (64/64, GPT-2 shape) and on the test models, and
  on a near-tied vocabulary the same in every batch (tests/generation/test_fast_paths.py).
- Cross-attention projections over real tokens only (`PACKED_CROSS`, encoder-decoder): the first
  decoding step projects the encoder states to keys and values in every cross-attention layer, and
  a right-padded batch pads them to its longest input (64 DialogSum dialogues: 54% padding). The
  real tokens of all rows go through one product instead; a row's
  projection is the one it gets alone (the matmul rounds a row the same in any safe row count,
  numerics.py). flan-t5-base shape, 64 dialogues: first step 11.1 -> 8.8 s.

- In-place elementwise work (`INPLACE_ELEMENTWISE`, T5 family): the gated-GELU feed-forward and
  the RMS norm run the very same operations on the same operands, in the same order, but write
  into tensors already allocated instead of a fresh one per operation (NewGELU alone makes 8
  temporaries of rows x d_ff). flan-t5-base's feed-forward elementwise work, 2048 tokens: 65 -> 25 ms;
  its norm, 2048 x 768: 2.2-3.1 -> 0.6 ms (fresh allocations page-fault). Bitwise equal by
  construction (each result is the same IEEE operation on the same two values), and checked by the tests.
- A cross-attention cache that keeps the projections (`KEPT_CROSS`, encoder-decoder, see
  cross_cache.py): transformers' cache copies every layer's encoder keys and values once
  (a concatenation onto an empty tensor: 24 x 82 MB, ~2.4 s of flan-t5-base's first step).
- Cross-attention keys as rows of the packed projection (`CROSS_VIEWS`, with the packed
  projections, the kept cache and numerics' direct cross calls): the packed product was scattered
  back into a right-padded tensor per layer for the model's code to split into heads (24 scatters
  into fresh 83 MB tensors, 54% padding: ~60 ms each, ~1.4 s of flan-t5-base's first step). The
  model is handed a stand-in of the padded shape over the packed product instead (every row a view
  of its first rows: nothing copied, nothing faulted in), and the one-query cross calls read each
  row's keys from the packed product (`packed_rows`), the very values the scatter wrote, in the same
  layout. Any other reader gets the padded tensor made on the spot (`padded`). Bench (flan-t5-base
  shape, 64 dialogues, one process): engine 34.7 -> 31.7-32.2 s, and 33.3 -> 32.8 s in a second run.

Only on CPU: GPU kernels have their own blocking, and nothing here was measured there."""

from __future__ import annotations

import copy
import math
import threading
from contextlib import contextmanager

CHUNK = 1024
MIN_VOCAB = 8192  # smaller heads gain nothing measurable
# Switches, all on; benchmarks/bench_generate.py turns them off one by one to measure what each buys.
HEAD_CHUNKS = True
STATIC_CACHE = True
PREFILL_APART = True
PACKED_CROSS = True
SPLIT_PRODUCTS = True
INPLACE_ELEMENTWISE = True
KEPT_CROSS = True
CROSS_VIEWS = True
SPLIT_MAX_ROWS = 256  # above this MKL's own threading does as well (measured: 512-2048 rows, +-15%)
SPLIT_MIN_WIDTH = 128  # output features per thread below which a slice is not worth its own product
# Slices of a multiple of 16 outputs (64 bytes of fp32): MKL rounds a product whose output sits off
# that alignment otherwise (measured: 515 outputs, 2 slices of 257, rows differ from the plain product)
SPLIT_ALIGN = 16
_splitting = threading.local()  # .on: inside split_products on this thread (serve decodes on a worker thread)
# storage address -> (packed product, real-token mask, row offsets, row lengths) of packed_cross_projections' stand-ins
_stand_ins: dict[int, tuple] = {}


def _plain(module) -> bool:
    """An nn.Linear running its class's forward (not quantized, adapted, hooked or patched)."""
    import torch

    return type(module) is torch.nn.Linear and "forward" not in module.__dict__


def split_rows(rows: int, out_features: int) -> int:
    """Into how many output slices a product of `rows` rows splits (1: it runs as one product)."""
    import torch

    parts = torch.get_num_threads()
    if not SPLIT_PRODUCTS or parts < 2 or not 0 < rows <= SPLIT_MAX_ROWS or out_features // parts < SPLIT_MIN_WIDTH \
            or out_features % (parts * SPLIT_ALIGN):
        return 1
    return parts


def product(x, weight, bias=None, split: bool | None = None):
    """`F.linear(x, weight, bias)`; a product of few rows on several threads runs as one batched
    product over as many slices of the output features as there are threads, a slice per thread
    (MKL splits few rows badly between threads: 64 x 768 @ 768 x 2048 on 2 threads, 37 -> 61-72
    GFLOP/s). Each output is the same dot product either way; numerics.split_agrees checks that the
    bits agree with the plain product on this machine before the engine uses it. `split`: None
    splits inside split_products only (the thread's flag), True whenever split_rows says so."""
    import torch.nn.functional as F

    rows = x.numel() // x.shape[-1] if x.dim() else 0
    out_features, fan_in = weight.shape
    split = getattr(_splitting, "on", False) if split is None else split
    parts = split_rows(rows, out_features) if split else 1
    if parts == 1 or not weight.is_contiguous() or x.dtype != weight.dtype or x.device.type != "cpu":
        return F.linear(x, weight, bias)
    out = _over_slices(x.reshape(rows, fan_in), weight, bias, parts, out_features // parts)
    return out.view(*x.shape[:-1], out_features)


def _over_slices(flat, weight, bias, count: int, width: int):
    """flat @ weight[:count * width].T (+ bias) as one batched product over `count` slices of `width`
    output rows (views of the weight: nothing is copied), as a (rows, count * width) tensor."""
    import torch

    rows, fan_in = flat.shape
    many = flat.expand(count, rows, fan_in)
    slices = weight[:count * width].view(count, width, fan_in).transpose(1, 2)
    out = torch.bmm(many, slices) if bias is None else \
        torch.baddbmm(bias[:count * width].view(count, 1, width), many, slices)
    return out.transpose(0, 1).reshape(rows, count * width)


def head_product(x, weight, bias=None, split: bool | None = None):
    """The output projection as one batched product over CHUNK-row slices of the vocabulary (views
    of the weight), the remainder through `product`: bitwise the logits of one product."""
    import torch

    vocab, fan_in = weight.shape
    n = vocab // CHUNK * CHUNK
    flat = x.reshape(-1, fan_in)
    out = _over_slices(flat, weight, bias, n // CHUNK, CHUNK)
    if n < vocab:
        out = torch.cat([out, product(flat, weight[n:], None if bias is None else bias[n:], split)], dim=1)
    return out.view(*x.shape[:-1], vocab)


def chunks_head(model, head=None) -> bool:
    """Whether the output head runs as head_product (a plain Linear head over a large vocabulary)."""
    head = model.get_output_embeddings() if head is None else head
    return HEAD_CHUNKS and head is not None and _plain(head) and head.out_features >= MIN_VOCAB \
        and head.weight.is_contiguous()


@contextmanager
def chunked_output_head(model, enabled: bool = True):
    """Inside the block the model's output projection runs in vocabulary slices (same logits, faster on CPU)."""
    head = model.get_output_embeddings()
    if not enabled or not chunks_head(model, head):  # a quantized, adapted or hooked head: left as it is
        yield False
        return
    head.forward = lambda x: head_product(x, head.weight, head.bias)
    try:
        yield True
    finally:
        del head.forward  # the class's forward again


def _split_forward(linear):
    def forward(x):
        return product(x, linear.weight, linear.bias)

    forward.split = True  # packed_cross_projections may stand in for it (and restores it)
    return forward


@contextmanager
def split_products(model, enabled: bool = True):
    """Inside the block the model's plain Linear layers run through `product`, if
    numerics.split_agrees finds its bits the plain product's on this machine. Enter it inside
    chunked_output_head: a head that runs in vocabulary slices is no plain Linear then."""
    from lifecycle.generation.numerics import split_agrees

    linears = [m for m in model.modules() if _plain(m)]
    if not (enabled and SPLIT_PRODUCTS and linears and split_agrees(model)):
        yield False
        return
    for linear in linears:
        linear.forward = _split_forward(linear)
    _splitting.on = True
    try:
        yield True
    finally:
        _splitting.on = False
        for linear in linears:
            del linear.forward


# The T5 family's modules whose forward inplace_elementwise runs (transformers' copies of T5's code).
# GPT-2's NewGELU feed-forward gained nothing measurable in place (its prompts run alone: 200 x 3072
# tensors, reused by the allocator; 32 prompts 15.8-17.5 s either way), so it is left as it is.
T5_FEED_FORWARD = ("T5DenseGatedActDense", "MT5DenseGatedActDense", "UMT5DenseGatedActDense")
T5_NORM = ("T5LayerNorm", "MT5LayerNorm", "UMT5LayerNorm")
_GELU_C = math.sqrt(2.0 / math.pi)  # NewGELUActivation's constant, computed as it computes it


def _new_gelu_(x):
    """NewGELUActivation on `x`, in place: 0.5 * x * (1 + tanh(c * (x + 0.044715 * x^3))), each
    operation the original's on the same operands in the same order, one temporary instead of 8."""
    import torch

    inner = torch.pow(x, 3.0)
    inner.mul_(0.044715).add_(x).mul_(_GELU_C).tanh_().add_(1.0)
    return x.mul_(0.5).mul_(inner)


def _gated_gelu(ffn, original):
    """T5DenseGatedActDense.forward with NewGELU, the activation in place (_new_gelu_) and the gate
    product written into it: 2 tensors of rows x d_ff instead of 10."""
    import torch

    def forward(hidden):
        if not torch.is_inference_mode_enabled():  # in place needs no autograd to see it
            return original(hidden)
        out = ffn.dropout(_new_gelu_(ffn.wi_0(hidden)).mul_(ffn.wi_1(hidden)))  # gelu(wi_0 x) * wi_1 x
        weight = ffn.wo.weight  # the original's cast to wo's dtype (a method on a dynamically quantized wo)
        if isinstance(weight, torch.Tensor) and out.dtype != weight.dtype and weight.dtype != torch.int8:
            out = out.to(weight.dtype)
        return ffn.wo(out)

    return forward


def _rms_norm(norm, original):
    """T5LayerNorm.forward in fp32 with its temporaries folded into one tensor (same operations)."""
    import torch

    def forward(hidden):
        if not torch.is_inference_mode_enabled() or hidden.dtype != torch.float32 or norm.weight.dtype != torch.float32:
            return original(hidden)
        squares = hidden.pow(2)
        scale = torch.rsqrt(squares.mean(-1, keepdim=True) + norm.variance_epsilon)
        return torch.mul(hidden, scale, out=squares).mul_(norm.weight)

    return forward


@contextmanager
def inplace_elementwise(model, enabled: bool = True):
    """Inside the block (and under inference mode) the T5 family's gated-GELU feed-forward and RMS
    norm do their elementwise work in place; any other module, or a patched one, is left as it is."""
    from transformers.activations import NewGELUActivation

    patched = []
    if enabled and INPLACE_ELEMENTWISE:
        for m in model.modules():
            name = type(m).__name__
            if "forward" in m.__dict__:
                continue
            if name in T5_FEED_FORWARD and type(getattr(m, "act", None)) is NewGELUActivation:
                m.forward = _gated_gelu(m, type(m).forward.__get__(m))
            elif name in T5_NORM:
                m.forward = _rms_norm(m, type(m).forward.__get__(m))
            else:
                continue
            patched.append(m)
    try:
        yield bool(patched)
    finally:
        for m in patched:
            del m.forward


def decoding_config(generation_config, loaded, beams: int, invariant: bool):
    """The generation config a batch decodes with: a copy with a static cache where it pays and is
    safe (decoder-only models on CPU under the batch-invariant attention, which never reads the
    unused slots; one beam, since beam search reorders the cache every step), else the config itself.
    The config runs record stays the one the settings give."""
    model = loaded.model
    if not STATIC_CACHE or not invariant or loaded.encoder_decoder or beams != 1 or loaded.device.type != "cpu" \
            or not getattr(model, "_can_compile_fullgraph", False):  # models whose layers take a StaticCache
        return generation_config
    config = copy.deepcopy(generation_config)
    config.cache_implementation = "static"
    return config


def keeps_cross(config, loaded, beams: int, invariant: bool) -> bool:
    """Whether an encoder-decoder batch decodes with cross_cache.kept_cross_cache: on CPU, under the
    batch-invariant attention (it reads each row's real keys only), one beam, and no cache the
    generation config asks for."""
    return KEPT_CROSS and invariant and beams == 1 and loaded.encoder_decoder and loaded.device.type == "cpu" \
        and getattr(config, "cache_implementation", None) is None


def prefills_apart(config) -> bool:
    """Whether a batch decoding with `config` (from decoding_config) runs its prompts apart."""
    return PREFILL_APART and getattr(config, "cache_implementation", None) == "static"


def prefill_apart(model, rows: list[list[int]], max_new_tokens: int):
    """A static cache holding every row's prompt but its last token, each prompt run alone.

    A left-padded batch spends its prefill on padding (64 DialogSum prompts: 54% of the tokens) and
    prefill is where the compute is. Here each prompt (minus its last token) runs alone at its own
    length, as the one-at-a-time loop runs it, and its keys and values are placed
    right-aligned in one static cache; `generate` then starts from the last prompt token of every row
    (rows end together under left padding), so decoding is batched as before. Returns the cache
    (pass it as `cache=` with the full left-padded input ids), or None where the model takes no cache
    this way."""
    import inspect

    import torch
    from transformers import StaticCache

    width = max(len(ids) for ids in rows)
    cache = StaticCache(config=model.config, max_cache_len=width + max_new_tokens)
    keep = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(model.forward).parameters else {}
    device = model.device
    keys: list = []
    values: list = []
    done: dict[tuple, list[int]] = {}  # the padding rows of a small batch repeat a real row: run it once
    for r, ids in enumerate(rows):
        done.setdefault(tuple(ids), []).append(r)
    for ids, where in done.items():
        if len(ids) < 2:  # a one-token prompt: nothing before its last token (its slots stay padding)
            continue
        out = model(input_ids=torch.tensor([ids[:-1]], device=device), use_cache=True, **keep)
        cached = out["cache"] if "cache" in out else out.get("past_key_values")  # transformers >= 5.2 names it cache
        layers = getattr(cached, "layers", None)
        if not layers:
            return None
        for i, layer in enumerate(layers):
            k, v = layer.keys, layer.values  # (1, kv heads, len - 1, head dim)
            if len(keys) <= i:
                keys.append(k.new_zeros((len(rows), k.shape[1], width - 1, k.shape[3])))
                values.append(v.new_zeros((len(rows), v.shape[1], width - 1, v.shape[3])))
            for r in where:
                keys[i][r, :, width - len(ids):] = k[0]
                values[i][r, :, width - len(ids):] = v[0]
    if not keys:  # every prompt is one token long: nothing to prefill
        return None
    for i in range(len(keys)):  # the public API: writes slots 0..width-2 of each layer
        cache.update(keys[i], values[i], i)
        keys[i] = values[i] = None
    return cache


@contextmanager
def packed_cross_projections(model, hidden, attention, enabled: bool = True, zero_padding: bool = True,
                             views: bool = False):
    """Inside the block, the decoder's cross-attention projections of `hidden` (right-padded encoder
    states, the very tensor generate is given) run over the rows' real tokens packed into one product
    (the real tokens gathered once for all layers); padded positions get zeros, or are left unset
    where `zero_padding` is False (under the batch-invariant attention, which reads each row's real
    keys only). `views` (the kept cross cache and numerics' direct cross calls read the keys, see
    CROSS_VIEWS): a projection comes back as a stand-in of the padded shape over the packed product,
    which `packed_rows` cuts into rows and `padded` turns into the padded tensor. Any other input goes
    through as usual."""
    import torch

    from lifecycle.generation.numerics import CROSS_ATTENTION

    real = attention.bool()
    linears = [m for name, m in model.get_decoder().named_modules()
               if type(m) is torch.nn.Linear and (_plain(m) or getattr(m.__dict__.get("forward"), "split", False))
               and any(p in name for p in CROSS_ATTENTION)]
    if not (enabled and PACKED_CROSS) or not linears or bool(real.all()) or real.shape != hidden.shape[:2]:
        yield False
        return
    tokens = hidden[real]  # gathered once for every layer's projections
    lengths = real.sum(dim=1)
    # stand-ins need every row's real tokens first (right padding) and the longest row as wide as the batch
    views = views and CROSS_VIEWS and zero_padding is False and hidden.shape[0] > 1 \
        and int(lengths.max()) == hidden.shape[1] \
        and bool((real == (torch.arange(real.shape[1], device=real.device) < lengths[:, None])).all())
    if views:
        lengths = lengths.tolist()
        offsets = [0]
        for n in lengths[:-1]:
            offsets.append(offsets[-1] + n)
    made: list[int] = []

    def packed(linear):
        def forward(x):
            if x is not hidden:
                return product(x, linear.weight, linear.bias)
            projected = product(tokens, linear.weight, linear.bias)
            if not views:
                return _scatter(projected, real, zero_padding)
            projected = projected.contiguous()
            made.append(projected.untyped_storage().data_ptr())
            _stand_ins[made[-1]] = (projected, real, offsets, lengths)
            return projected.as_strided((*x.shape[:-1], linear.out_features), (0, linear.out_features, 1))
        return forward

    previous = [linear.__dict__.get("forward") for linear in linears]
    for linear in linears:
        linear.forward = packed(linear)
    try:
        yield True
    finally:
        for key in made:
            _stand_ins.pop(key, None)
        for linear, forward in zip(linears, previous):
            if forward is None:
                del linear.forward
            else:
                linear.forward = forward


def _scatter(projected, real, zero_padding: bool):
    """The packed rows `projected` back in the right-padded layout `real` marks (padding zero, or unset)."""
    shape = (*real.shape, projected.shape[-1])
    out = projected.new_zeros(shape) if zero_padding else projected.new_empty(shape)
    out[real] = projected
    return out


def _stand_in_of(t):
    """(packed product, real-token mask, offsets, lengths) when `t` is a stand-in of packed_cross_projections split into
    heads ((rows, heads, width, head dim) over (rows, width, heads x head dim)), else None."""
    if t is None or t.dim() != 4 or t.shape[0] < 2 or t.stride(0) != 0:
        return None
    entry = _stand_ins.get(t.untyped_storage().data_ptr())
    if entry is None:
        return None
    _, heads, width, dim = t.shape
    if t.storage_offset() or t.stride()[1:] != (dim, heads * dim, 1) or entry[0].shape[1] != heads * dim:
        raise RuntimeError(f"a packed cross-attention projection was reshaped as {tuple(t.shape)} "
                           f"strides {t.stride()}, which nothing here reads")
    return entry


def packed_rows(t, spans):
    """Each row's (1, heads, keys, head dim) view of its keys `spans` in the packed product `t` stands
    for (the values the padded tensor holds there, in its layout), or None if `t` is no stand-in."""
    entry = _stand_in_of(t)
    if entry is None:
        return None
    projected, _, offsets, lengths = entry
    heads, dim = t.shape[1], t.shape[3]
    if len(spans) != len(offsets) or not all(0 <= s <= e <= n for n, (s, e) in zip(lengths, spans)):
        return None  # keys outside a row's real tokens: read through `padded`
    return [projected[o + s:o + e].view(1, e - s, heads, dim).transpose(1, 2) for o, (s, e) in zip(offsets, spans)]


def padded(t):
    """The right-padded tensor a stand-in stands for (padding unset: the invariant attention never
    reads it); any other tensor as it is."""
    entry = _stand_in_of(t)
    if entry is None:
        return t
    rows, heads, width, dim = t.shape
    return _scatter(entry[0], entry[1], zero_padding=False).view(rows, width, heads, dim).transpose(1, 2)
