"""CPU speed-ups of the engine, each measured (benchmarks/bench_generate.py --variants: what each
buys) and each checked to leave the outputs as they were.

- The output projection (hidden -> vocabulary logits) in slices of CHUNK vocabulary rows: MKL runs a
  (rows x d) @ (d x 50k) product about 2x faster as 1024-row slices at 4-64 rows (measured on this
  machine's AVX2 CPU, torch 2.13: 34 rows, GPT-2's 50257 x 768 head, 96 -> 55 ms). Each logit is the
  same dot product over d either way, so the result is bitwise equal (tests/generation/test_fast_paths.py
  checks it on the machine that runs the tests).
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

Only on CPU: GPU kernels have their own blocking, and nothing here was measured there."""

from __future__ import annotations

import copy
from contextlib import contextmanager

CHUNK = 1024
MIN_VOCAB = 8192  # smaller heads gain nothing measurable
# Switches, all on; benchmarks/bench_generate.py turns them off one by one to measure what each buys.
HEAD_CHUNKS = True
STATIC_CACHE = True
PREFILL_APART = True
PACKED_CROSS = True


def _chunked_linear(head):
    import torch
    import torch.nn.functional as F

    def forward(x):
        w, b = head.weight, head.bias
        parts = [F.linear(x, w[i:i + CHUNK], None if b is None else b[i:i + CHUNK]) for i in range(0, w.shape[0], CHUNK)]
        return torch.cat(parts, dim=-1)

    return forward


@contextmanager
def chunked_output_head(model, enabled: bool = True):
    """Inside the block the model's output projection runs in vocabulary slices (same logits, faster on CPU)."""
    import torch

    head = model.get_output_embeddings() if enabled and HEAD_CHUNKS else None
    if type(head) is not torch.nn.Linear or head.out_features < MIN_VOCAB \
            or "forward" in head.__dict__:  # a quantized, adapted or hooked head: left as it is
        yield False
        return
    head.forward = _chunked_linear(head)
    try:
        yield True
    finally:
        del head.forward  # the class's forward again


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
def packed_cross_projections(model, hidden, attention, enabled: bool = True):
    """Inside the block, the decoder's cross-attention projections of `hidden` (right-padded encoder
    states, the very tensor generate is given) run over the rows' real tokens packed into one product;
    padded positions get zeros (their keys are masked). Any other input goes through as usual."""
    import torch
    import torch.nn.functional as F

    from lifecycle.generation.numerics import CROSS_ATTENTION

    real = attention.bool()
    linears = [m for name, m in model.get_decoder().named_modules()
               if type(m) is torch.nn.Linear and "forward" not in m.__dict__ and any(p in name for p in CROSS_ATTENTION)]
    if not (enabled and PACKED_CROSS) or not linears or bool(real.all()) or real.shape != hidden.shape[:2]:
        yield False
        return

    def packed(linear):
        def forward(x):
            if x is not hidden:
                return F.linear(x, linear.weight, linear.bias)
            out = x.new_zeros((*x.shape[:-1], linear.out_features))
            out[real] = F.linear(x[real], linear.weight, linear.bias)
            return out
        return forward

    for linear in linears:
        linear.forward = packed(linear)
    try:
        yield True
    finally:
        for linear in linears:
            del linear.forward
