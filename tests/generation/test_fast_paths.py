"""The engine's CPU fast paths (lifecycle/generation/fast_paths.py) change speed, never outputs:
the vocabulary-sliced output projection gives bitwise the same logits, and prefill-apart + static
cache decoding give the tokens the engine gives without them, on a model whose vocabulary is
near-tied (every odd row the even one plus ~1e-6: last-bit rounding decides which token wins)."""

from __future__ import annotations

import pytest
import torch

from lifecycle.config.generation import GenerationSettings
from lifecycle.generation import fast_paths
from lifecycle.generation.engine import Engine


def test_vocabulary_slices_give_bitwise_the_same_logits():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=20000, n_embd=64, n_layer=1, n_head=2, n_positions=64)).eval()
    head = model.get_output_embeddings()
    for rows in (1, 3, 4, 9):
        ids = torch.randint(0, 20000, (rows, 7))
        with torch.inference_mode():
            plain = model(ids).logits
            with fast_paths.chunked_output_head(model) as active:
                assert active and "forward" in head.__dict__
                sliced = model(ids).logits
        assert torch.equal(plain, sliced), f"{rows} rows: logits differ"
    assert "forward" not in head.__dict__  # the head is the plain Linear again


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_split_products_round_every_row_as_the_plain_product_of_a_large_batch(two_threads):
    """On 2 threads a product of few rows runs as one product per thread over half the outputs each:
    every row (from 4 rows on; 1-3 round otherwise in any product) has the bits it has in a plain
    product of 400 rows, with or without bias. Widths whose slices would sit off 64-byte alignment
    (MKL rounds those otherwise) are not split."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    assert fast_paths.split_rows(64, 515) == fast_paths.split_rows(64, 528) == 1  # 257 or 264 a slice
    for fan_in, fan_out, bias in ((64, 512, False), (96, 384, True), (64, 2048, False)):
        w = torch.randn(fan_out, fan_in, generator=g)
        b = torch.randn(fan_out, generator=g) if bias else None
        x = torch.randn(400, fan_in, generator=g)
        ref = F.linear(x, w, b)
        assert fast_paths.split_rows(64, fan_out) == 2
        for m in (*range(4, 40), 64, 100, 256):
            got = fast_paths.product(x[:m], w, b, True)
            assert torch.equal(got, ref[:m]), f"{fan_in}x{fan_out} {m} rows: the split product rounds otherwise"
        assert torch.equal(fast_paths.product(x[:300], w, b, True), ref[:300])  # past SPLIT_MAX_ROWS: plain


def test_the_head_in_vocabulary_slices_is_bitwise_one_product(two_threads):
    """Slices of CHUNK vocabulary rows in one batched product, the remainder (384, as flan-t5's
    32128) split between the threads: each row's logits are those of one plain product of many rows."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    w = torch.randn(2 * fast_paths.CHUNK + 384, 48, generator=g)
    x = torch.randn(3, 9, 48, generator=g)
    ref = F.linear(x.reshape(-1, 48), w)
    for rows in (4, 5, 9, 27):
        assert torch.equal(fast_paths.head_product(x.reshape(-1, 48)[:rows], w, split=True), ref[:rows]), rows
    assert torch.equal(fast_paths.head_product(x, w, split=True), ref.view(3, 9, -1))


def test_a_small_vocabulary_is_left_as_it_is(loaded_gpt2):
    with fast_paths.chunked_output_head(loaded_gpt2.model) as active:
        assert not active


@pytest.fixture(scope="module")
def near_tie_gpt2(near_tie_model):
    return near_tie_model("gpt2")


def test_the_static_cache_changes_no_token(near_tie_gpt2, prompts, monkeypatch):
    """On near-tied vocabularies any change of rounding shows as another token: decoding with the
    static cache (prompts prefilled together) gives exactly the dynamic cache's tokens."""
    settings = GenerationSettings(max_new_tokens=16, min_new_tokens=16)
    monkeypatch.setattr(fast_paths, "PREFILL_APART", False)
    static = [g.token_ids for g in Engine(near_tie_gpt2, settings).generate(prompts)]
    monkeypatch.setattr(fast_paths, "STATIC_CACHE", False)
    assert [g.token_ids for g in Engine(near_tie_gpt2, settings).generate(prompts)] == static
    assert len({tuple(t) for t in static}) > 1  # outputs depend on the input: rows cannot be mixed up unseen


def test_prefilled_apart_a_prompt_gives_the_same_tokens_in_any_batch(near_tie_gpt2, prompts, monkeypatch):
    """Prefill apart changes where a prompt's last token is computed (a decoding step, not the end of
    its prefill), so on near ties its tokens may differ from the padded-prefill path's (neither is the
    lone loop's: see numerics.py); what serve and generate need is that they do not depend on the
    batch, one-token prompts (nothing to prefill) and padding rows included. Against the plain loop
    the engine is compared on the lively model (test_engine.py) and on the benchmark (64/64)."""
    settings = GenerationSettings(max_new_tokens=8, min_new_tokens=8)
    calls = []
    real = fast_paths.prefill_apart
    monkeypatch.setattr(fast_paths, "prefill_apart", lambda *a, **k: calls.append(1) or real(*a, **k))
    tok = near_tie_gpt2.tokenizer
    one = next(text for text in (tok.decode([i]) for i in range(200, 400)) if len(tok(text)["input_ids"]) == 1)
    batch = [one, prompts[1], prompts[3], one, *prompts[4:]]
    together = Engine(near_tie_gpt2, settings).generate(batch)
    assert calls, "the decoder-only batch should have been prefilled apart"
    alone = [Engine(near_tie_gpt2, settings).generate([p])[0] for p in batch]
    pairs = Engine(near_tie_gpt2, settings.model_copy(update={"max_batch_size": 2})).generate(batch)
    assert [g.token_ids for g in together] == [g.token_ids for g in alone] == [g.token_ids for g in pairs]


@pytest.mark.parametrize("scale", [3.0, 1e-3])  # 1e-3: the norm's epsilon is of the variance's size
def test_inplace_elementwise_gives_the_bits_of_the_t5_modules(two_threads, scale):
    """T5's gated-GELU feed-forward and RMS norm, run in place inside inplace_elementwise, give
    bitwise what the modules' own forwards give, at every row count the engine runs (a lone row,
    decoding steps, encoder groups), and run as before outside inference mode."""
    from transformers import T5Config
    from transformers.models.t5.modeling_t5 import T5DenseGatedActDense, T5LayerNorm

    torch.manual_seed(0)
    config = T5Config(d_model=64, d_ff=192, feed_forward_proj="gated-gelu", dropout_rate=0.0)
    model = torch.nn.Sequential(T5LayerNorm(64), T5DenseGatedActDense(config)).eval()
    with torch.no_grad():
        model[0].weight.normal_()
    for rows in (1, 3, 7, 64, 301):
        x = torch.randn(2, rows, 64) * scale
        with torch.inference_mode():
            own = [m(x) for m in model]
            with fast_paths.inplace_elementwise(model) as active:
                assert active and all("forward" in m.__dict__ for m in model)
                for m, out in zip(model, own):
                    assert torch.equal(m(x), out), f"{type(m).__name__}, {rows} rows: differs"
        with fast_paths.inplace_elementwise(model), torch.no_grad():  # autograd-visible: the modules' own code
            assert torch.equal(model[1](x), own[1])
    assert not any("forward" in m.__dict__ for m in model)
