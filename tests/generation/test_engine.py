"""The batched engine on real tiny models: same outputs as one example at a time, input order kept,
prompt stripped, stop sequences, end-of-sequence bookkeeping, out-of-memory halving, seeded sampling."""

from __future__ import annotations

import pytest
import torch

from lifecycle.config.generation import GenerationSettings
from lifecycle.errors import GenerationError
from lifecycle.generation.batching import BatchLimits, batch_cost, plan_batches
from lifecycle.generation.engine import Engine


def _one_at_a_time(loaded, settings, prompts):
    return [Engine(loaded, settings).generate([p])[0] for p in prompts]


def _reference_generate(loaded, text, max_new_tokens):
    """Plain transformers, no engine: the lab's way."""
    tok, model = loaded.tokenizer, loaded.model
    inputs = tok(text, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tok.pad_token_id)
    start = 1 if loaded.encoder_decoder else inputs["input_ids"].shape[1]
    return out[0, start:].tolist()


def test_greedy_batched_equals_one_at_a_time(loaded, prompts):
    settings = GenerationSettings(max_new_tokens=12, max_batch_size=4)
    engine = Engine(loaded, settings)
    batched = engine.generate(prompts)
    assert len(engine.stats.batch_sizes) > 1 and max(engine.stats.batch_sizes) > 1  # really batched
    single = _one_at_a_time(loaded, settings, prompts)
    assert [g.token_ids for g in batched] == [g.token_ids for g in single]
    assert [g.text for g in batched] == [g.text for g in single]
    assert len({g.text for g in batched}) >= 4, "outputs should depend on the input"
    assert [g.tokens_in for g in batched] == [len(loaded.tokenizer(p)["input_ids"]) for p in prompts]


def test_encoder_groups_of_similar_length_give_the_same_outputs(loaded_t5, prompts):
    """Seq2seq batches are encoded in small length-sorted groups (each padded only to its own
    longest row), then decoded together: outputs equal one example at a time."""
    settings = GenerationSettings(max_new_tokens=12, max_batch_size=8)
    engine = Engine(loaded_t5, settings)
    engine.encoder_group_tokens = 1  # one row per group: the most splitting there can be
    batched = engine.generate(prompts)
    assert max(engine.stats.batch_sizes) > 1
    lengths = {len(loaded_t5.tokenizer(p)["input_ids"]) for p in prompts}
    assert len(lengths) > 1, "the prompts must differ in length for groups to matter"
    assert [g.token_ids for g in batched] == [g.token_ids for g in _one_at_a_time(loaded_t5, settings, prompts)]


def test_inputs_encoded_in_a_padded_group_get_the_states_they_get_alone(near_tie_model, prompts):
    """Batch-invariant, inputs of similar length share one encoder call (right-padded, attention row
    by row): each input's states are bitwise those it gets encoded alone, zero after its length."""
    import torch

    from lifecycle.generation.numerics import invariant_attention

    loaded = near_tie_model("t5")
    tok, model = loaded.tokenizer, loaded.model
    enc = tok.pad({"input_ids": [tok(p)["input_ids"] for p in prompts]}, padding=True, return_tensors="pt")
    engine = Engine(loaded, GenerationSettings(max_new_tokens=4))
    encoder = model.get_encoder()
    calls = []
    hook = encoder.register_forward_pre_hook(lambda module, args, kwargs: calls.append(kwargs["input_ids"].shape),
                                             with_kwargs=True)
    try:
        with torch.inference_mode(), invariant_attention(model, True) as invariant:
            grouped = engine._encode(enc["input_ids"], enc["attention_mask"], invariant).last_hidden_state
    finally:
        hook.remove()
    assert invariant and any(shape[0] > 1 for shape in calls), f"no input shared an encoder call: {calls}"
    with torch.inference_mode():
        for i, n in enumerate(enc["attention_mask"].sum(1).tolist()):
            alone = encoder(input_ids=enc["input_ids"][i:i + 1, :n]).last_hidden_state[0]
            assert torch.equal(grouped[i, :n], alone), f"input {i} changed in its group"
            assert not grouped[i, n:].any()


def test_outputs_match_plain_transformers_generate(loaded, prompts):
    settings = GenerationSettings(max_new_tokens=10, min_new_tokens=10)
    gens = Engine(loaded, settings).generate(prompts)
    for prompt, gen in zip(prompts, gens):
        assert gen.token_ids == _reference_generate(loaded, prompt, 10)
        assert gen.tokens_out == 10 and gen.stopped_by == "length"


def test_decoder_only_output_has_no_prompt_and_padding_is_left(loaded_gpt2, prompts):
    gens = Engine(loaded_gpt2, GenerationSettings(max_new_tokens=8)).generate(prompts[:3])
    assert loaded_gpt2.tokenizer.padding_side == "left"
    for prompt, gen in zip(prompts[:3], gens):
        assert gen.tokens_out <= 8
        assert not gen.text.startswith(prompt.strip()[:10])


def test_results_come_back_in_input_order_whatever_the_batching(loaded_t5, prompts):
    settings = GenerationSettings(max_new_tokens=6)
    reference = [g.token_ids for g in Engine(loaded_t5, settings).generate(prompts)]
    shuffled = list(reversed(prompts))
    small = Engine(loaded_t5, settings.model_copy(update={"max_batch_size": 2})).generate(shuffled)
    assert [g.token_ids for g in small] == list(reversed(reference))


def test_plan_batches_respects_the_token_budget_and_sorts_by_length():
    lengths = [5, 50, 20, 20, 7, 49, 1, 33]
    limits = BatchLimits(batch_tokens=200, max_batch_size=3, max_new_tokens=10)
    plan = plan_batches(lengths, limits)
    assert sorted(i for b in plan for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in plan for i in b]
    assert flat == sorted(lengths, reverse=True)
    for b in plan:
        assert len(b) <= 3
        assert len(b) == 1 or batch_cost(len(b), max(lengths[i] for i in b), limits) <= 200
    # an example over the budget still gets its own batch
    assert plan_batches([500], limits) == [[0]]


def test_stop_sequence_cuts_the_text_and_stops_early(loaded_gpt2, prompts):
    base = Engine(loaded_gpt2, GenerationSettings(max_new_tokens=16)).generate(prompts)
    # choose a stop string that appears inside an unconstrained output, after its first characters
    row, stop = next((i, g.text[3:6]) for i, g in enumerate(base) if len(g.text) > 8 and g.text[3:6].strip())
    stopped = Engine(loaded_gpt2, GenerationSettings(max_new_tokens=16), stop=[stop]).generate(prompts)
    g = stopped[row]
    assert g.stopped_by == "stop"
    assert stop not in g.text
    assert base[row].text.startswith(g.text)
    assert g.tokens_out < 16  # generation stopped early, not only the text cut
    assert g.token_ids == base[row].token_ids[: g.tokens_out]
    for b, s in zip(base, stopped):  # rows without the stop are untouched by other rows stopping
        if stop not in b.text:
            assert s.token_ids == b.token_ids


def test_rows_finishing_at_different_steps_are_counted_right(eosy_gpt2, prompts):
    from lifecycle.loading import load_model

    loaded = load_model(str(eosy_gpt2))
    settings = GenerationSettings(max_new_tokens=20)
    batched = Engine(loaded, settings).generate(prompts)
    single = _one_at_a_time(loaded, settings, prompts)
    eos = loaded.tokenizer.eos_token_id
    reasons = {g.stopped_by for g in batched}
    assert "eos" in reasons, "the eos-boosted model should end some rows early"
    for b, s in zip(batched, single):
        assert (b.token_ids, b.tokens_out, b.stopped_by) == (s.token_ids, s.tokens_out, s.stopped_by)
        if b.stopped_by == "eos":
            assert b.token_ids[-1] == eos and eos not in b.token_ids[:-1]
        else:
            assert b.tokens_out == 20


def test_out_of_memory_halves_the_batch_and_retries(loaded_t5, prompts):
    attempts = []

    def guard(batch_size, tokens):  # a device that can only hold 2 examples at a time
        attempts.append(batch_size)
        if batch_size > 2:
            raise torch.OutOfMemoryError("simulated: CUDA out of memory")

    settings = GenerationSettings(max_new_tokens=6, max_batch_size=7)
    reference = [g.token_ids for g in Engine(loaded_t5, settings).generate(prompts)]
    engine = Engine(loaded_t5, settings, batch_guard=guard)
    gens = engine.generate(prompts)
    assert [g.token_ids for g in gens] == reference
    assert attempts[:3] == [7, 4, 2]  # halved (rounding up) until it fits
    assert engine.stats.batch_sizes == [2, 2, 2, 1] and engine.stats.oom_retries == 2
    assert all(a <= 2 for a in attempts[3:])  # the lowered cap holds for later batches


def test_out_of_memory_on_a_single_example_is_a_clear_error(loaded_t5, prompts):
    def guard(batch_size, tokens):
        raise torch.OutOfMemoryError("simulated")

    with pytest.raises(GenerationError, match="out of memory generating a single example"):
        Engine(loaded_t5, GenerationSettings(max_new_tokens=4), batch_guard=guard).generate(prompts[:3])


def test_sampling_is_reproducible_with_a_seed(loaded, prompts):
    settings = GenerationSettings(preset="sampling", max_new_tokens=10, temperature=1.5, seed=3)
    a = Engine(loaded, settings).generate(prompts)
    torch.manual_seed(12345)  # global RNG state must not matter
    b = Engine(loaded, settings).generate(prompts)
    c = Engine(loaded, settings.model_copy(update={"seed": 4})).generate(prompts)
    greedy = Engine(loaded, GenerationSettings(max_new_tokens=10)).generate(prompts)
    assert [g.token_ids for g in a] == [g.token_ids for g in b]
    assert [g.token_ids for g in a] != [g.token_ids for g in c]
    assert [g.token_ids for g in a] != [g.token_ids for g in greedy]


def test_beam_search_batched_equals_one_at_a_time(loaded_t5, prompts):
    settings = GenerationSettings(preset="beam", num_beams=3, max_new_tokens=8)
    batched = Engine(loaded_t5, settings).generate(prompts[:4])
    single = _one_at_a_time(loaded_t5, settings, prompts[:4])
    assert [g.token_ids for g in batched] == [g.token_ids for g in single]


def test_rendered_prompts_are_accepted_and_keyed_by_id(loaded_t5, prompts):
    from lifecycle.prompting import RenderedPrompt

    prompts = [RenderedPrompt(id=f"x{i}", text=t, n_tokens=0, shots_used=0, shot_ids=[], truncated=False,
                              truncated_tokens=0, reference=None) for i, t in enumerate(prompts[:3])]
    gens = Engine(loaded_t5, GenerationSettings(max_new_tokens=5)).generate(prompts)
    plain = Engine(loaded_t5, GenerationSettings(max_new_tokens=5)).generate(prompts[:3])
    assert [g.token_ids for g in gens] == [g.token_ids for g in plain]


def test_empty_prompt_is_refused(loaded_t5):
    with pytest.raises(GenerationError, match="prompt '1' is empty"):
        Engine(loaded_t5, GenerationSettings(max_new_tokens=4)).generate(["fine", "  "])


def test_decoder_only_prompt_over_the_context_window_is_refused(loaded_gpt2):
    window = loaded_gpt2.context_window
    long_text = "lamp " * (window + 10)
    with pytest.raises(GenerationError, match="exceeds the context window"):
        Engine(loaded_gpt2, GenerationSettings(max_new_tokens=4)).generate([long_text])
