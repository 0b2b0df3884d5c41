"""A prompt's greedy output is the same whatever batch it rides in (serve batches arbitrary requests
together and must answer what `lifecycle generate` writes), and a per-request cancel stops its row.

The models here have near-tied output rows: every odd vocabulary row is the even row before it plus
a ~1e-6 relative part, so whenever such a pair wins, last-bit rounding decides which token comes out.
On plain fp32 batching (batch_invariant off) that decision changed with batch composition here
(measured: 2 distinct outputs over 28 compositions on the t5 model); the engine must give one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from lifecycle.config.generation import GenerationSettings
from lifecycle.generation.engine import Engine


@pytest.fixture(scope="module", params=["t5", "gpt2"])
def near_tie(request, near_tie_model):
    return near_tie_model(request.param)


def _compositions(target: str, others: list[str]) -> list[list[str]]:
    return [[target], [target, others[0]], [target, *others[:2]], [*others[:3], target], [target, *others],
            [*others[::-1], target], [others[1], target, others[1], others[1], others[1]]]


def test_greedy_output_of_a_prompt_does_not_depend_on_its_batch(near_tie, prompts, two_threads):
    # the prompt with the most varied output alone: the most steps where a near tie can decide
    alone = Engine(near_tie, GenerationSettings(max_new_tokens=24)).generate(prompts)
    target = prompts[max(range(len(prompts)), key=lambda i: len(set(alone[i].token_ids)))]
    others = [p for p in prompts if p != target]
    seen = {}
    before = near_tie.model.config._attn_implementation
    for batch in _compositions(target, others):
        for size in (1, 2, 4, 64):
            gens = Engine(near_tie, GenerationSettings(max_new_tokens=24, max_batch_size=size)).generate(batch)
            seen[(len(batch), batch.index(target), size)] = tuple(gens[batch.index(target)].token_ids)
    assert len(set(seen.values())) == 1, f"{len(set(seen.values()))} distinct outputs over {len(seen)} batchings"
    assert len(set(next(iter(seen.values())))) > 1, "the output should not be one repeated token"
    assert near_tie.model.config._attn_implementation == before  # the engine puts attention back


@pytest.fixture
def two_threads():
    """2 threads, as CI and a 2-core machine run: MKL splits small batches between the threads there
    (numerics.py), which one thread (this folder's default) never does."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_row_at_the_tail_of_a_small_batch_gets_its_large_batch_output(near_tie, prompts, two_threads):
    # Measured on 2 threads: the last rows of 5-7 and 9-11 of a plain product round as a lone row; the
    # engine pads such batches up to a safe count.
    _tail_rows_keep_their_output(near_tie, prompts)


def test_split_products_keep_the_output_of_small_batches(near_tie_model, prompts, two_threads):
    """A model wide enough that its products split between the threads (fast_paths.product): batches
    of 5-7 and 9-11 then run unpadded, and a row at their tail still gets its large-batch output."""
    from lifecycle.generation import fast_paths, numerics

    model = near_tie_model("t5-wide")
    assert numerics.split_agrees(model.model) and fast_paths.split_rows(5, 512) == 2
    assert numerics.batch_rows(model.model, 5) == 5  # unpadded: the split products round 5 rows as 12
    _tail_rows_keep_their_output(model, prompts)


def test_decoder_steps_run_as_one_call_and_keep_the_row_by_row_tokens(near_tie_model, prompts, two_threads,
                                                                     monkeypatch):
    """Every row of an encoder-decoder's decoder holds the same keys: a decoding step runs its
    self-attention as one call with heads as the batch (numerics.heads_as_batch_agrees), and the
    tokens are those of one call per row, on a near-tied vocabulary where any other rounding shows."""
    from lifecycle.generation import numerics

    model = near_tie_model("t5")
    settings = GenerationSettings(max_new_tokens=16, min_new_tokens=16)
    calls = []
    real = numerics._heads_as_batch
    monkeypatch.setattr(numerics, "_heads_as_batch", lambda *a: calls.append(1) or real(*a))
    together = [g.token_ids for g in Engine(model, settings).generate(prompts)]
    assert calls, "the decoder's self-attention should have run as one call"
    monkeypatch.setattr(numerics, "HEADS_AS_BATCH", False)
    assert [g.token_ids for g in Engine(model, settings).generate(prompts)] == together
    assert len({tuple(t) for t in together}) > 1


def _tail_rows_keep_their_output(near_tie, prompts):
    alone = Engine(near_tie, GenerationSettings(max_new_tokens=24)).generate(prompts)
    fill = (prompts * 12)[:11]
    for target in prompts:
        big = Engine(near_tie, GenerationSettings(max_new_tokens=24)).generate([*fill, target])[-1].token_ids
        for n in (5, 6, 7, 9, 10, 11):
            got = Engine(near_tie, GenerationSettings(max_new_tokens=24)).generate([*fill[:n - 1], target])
            assert got[-1].token_ids == big, f"a batch of {n} rows changed the last row's output"
    assert len({tuple(g.token_ids) for g in alone}) > 1


def test_batch_rows_pads_only_to_counts_whose_rows_round_as_a_large_batch(loaded_t5, two_threads):
    import torch
    import torch.nn.functional as F

    from lifecycle.generation.numerics import batch_rows

    model = loaded_t5.model
    x = torch.randn(200, model.config.d_model, generator=torch.Generator().manual_seed(3))
    for lin in [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.in_features == x.shape[1]][:3]:
        ref = F.linear(x, lin.weight)
        for n in range(1, 40):
            rows = batch_rows(model, n)
            assert rows >= max(n, 4)
            # this tiny model's products are too narrow to split: the engine runs them plain
            assert torch.equal(F.linear(x[:rows], lin.weight), ref[:rows]), f"{rows} rows (for {n}) round differently"


@dataclass
class _Request:  # the shape serve's jobs have: an id, a text and an optional cancel callback
    id: str
    text: str
    cancel: Callable[[], bool] | None = None


def test_a_cancelled_request_stops_its_row_and_leaves_the_others(loaded_t5, prompts):
    settings = GenerationSettings(max_new_tokens=12, min_new_tokens=12)
    plain = Engine(loaded_t5, settings).generate(prompts[:3])
    polls = []

    def gone() -> bool:  # the client disconnects after the third token
        polls.append(1)
        return len(polls) >= 3

    reqs = [_Request("a", prompts[0]), _Request("b", prompts[1], cancel=gone), _Request("c", prompts[2])]
    gens = Engine(loaded_t5, settings).generate(reqs)
    assert gens[1].stopped_by == "cancelled" and gens[1].tokens_out == 3
    assert gens[1].token_ids == plain[1].token_ids[:3]
    assert [gens[0].token_ids, gens[2].token_ids] == [plain[0].token_ids, plain[2].token_ids]
    assert {g.stopped_by for g in (gens[0], gens[2])} == {"length"}


def test_cross_attention_keeps_its_keys_and_calls_each_row_directly(near_tie_model, prompts, two_threads,
                                                                    monkeypatch):
    """Encoder-decoder decoding keeps the cross-attention keys as projected (no copy into the
    cache) and calls each row's one-query attention directly over views kept across steps: the
    tokens are those of the copied cache and the per-row path through transformers' sdpa wrapper."""
    from lifecycle.generation import cross_cache, fast_paths, numerics

    model = near_tie_model("t5")
    settings = GenerationSettings(max_new_tokens=16, min_new_tokens=16)
    kept, direct = [], []
    update = cross_cache.KeptLayer.update
    monkeypatch.setattr(cross_cache.KeptLayer, "update",
                        lambda self, k, v, *a, **kw: kept.append(update(self, k, v, *a, **kw)[0] is k) or (self.keys, self.values))
    rows = numerics._cross_rows
    monkeypatch.setattr(numerics, "_cross_rows", lambda *a: direct.append(1) or rows(*a))
    fast = [g.token_ids for g in Engine(model, settings).generate(prompts)]
    assert kept and all(kept), "the cross-attention cache should hold the projections themselves"
    assert len(direct) >= 16 * model.model.config.num_decoder_layers
    monkeypatch.setattr(fast_paths, "KEPT_CROSS", False)
    monkeypatch.setattr(numerics, "DIRECT_CROSS", False)
    kept.clear()
    assert [g.token_ids for g in Engine(model, settings).generate(prompts)] == fast
    assert not kept
    assert len({tuple(t) for t in fast}) > 1


def test_cross_attention_keys_are_read_from_the_packed_projections_on_every_path(near_tie_model, prompts,
                                                                                 two_threads, monkeypatch):
    """The model gets its cross-attention keys as stand-ins over the packed projections
    (fast_paths.CROSS_VIEWS): the direct per-row calls read each row's keys from the packed product;
    a call that takes another path (direct calls off) and a cache that copies (its layout probe
    failing) get the padded tensor made on the spot. The tokens are the same on every path."""
    from lifecycle.generation import fast_paths, numerics

    model = near_tie_model("t5")
    settings = GenerationSettings(max_new_tokens=16, min_new_tokens=16)
    read, padded = [], []
    rows, pad = fast_paths.packed_rows, fast_paths.padded
    monkeypatch.setattr(fast_paths, "packed_rows", lambda t, spans: read.append(rows(t, spans) is not None) or rows(t, spans))
    monkeypatch.setattr(fast_paths, "padded", lambda t: padded.append(fast_paths._stand_in_of(t) is not None) or pad(t))

    def run():
        read.clear()
        padded.clear()
        out = [g.token_ids for g in Engine(model, settings).generate(prompts)]
        assert not fast_paths._stand_ins, "the stand-ins are let go with the batch"
        return out

    views = run()
    layers = model.model.config.num_decoder_layers
    assert read.count(True) >= 2 * layers and not any(padded), "each layer's keys and values read packed, never padded"
    monkeypatch.setattr(fast_paths, "CROSS_VIEWS", False)
    assert run() == views and not any(read) and not any(padded)
    monkeypatch.setattr(fast_paths, "CROSS_VIEWS", True)
    monkeypatch.setattr(numerics, "DIRECT_CROSS", False)
    assert run() == views and padded.count(True) >= 2 * layers  # every step's call pads the stand-ins
    monkeypatch.setattr(numerics, "DIRECT_CROSS", True)
    monkeypatch.setattr(numerics, "projected_layout_agrees", lambda *a: False)
    assert run() == views and padded.count(True) == 2 * layers  # copied into the cache once, padded
    assert len({tuple(t) for t in views}) > 1
