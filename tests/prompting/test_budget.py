"""The token budget: counted with the model's tokenizer; auto drops shots, truncate cuts the input,
error refuses; nothing is cut without a record."""

from __future__ import annotations

import pytest

from lifecycle.config.prompt import PromptConfig
from lifecycle.errors import PromptError
from lifecycle.prompting import build_prompts, prompt_lengths, summarize_budget


def cfg(policy: str = "auto", **budget) -> PromptConfig:
    return PromptConfig(preset="dialogue-instruction", budget={"policy": policy, **budget})


def test_counts_match_the_models_tokenizer(examples, t5_tok, gpt2_tok, n_tokens):
    for tok in (t5_tok, gpt2_tok):
        for p in build_prompts(examples, cfg(), tok, k=2, context_window=4096):
            assert p.n_tokens == n_tokens(tok, p) and p.shots_used == 2 and not p.truncated
            assert p.reference == next(e["summary"] for e in examples if e["id"] == p.id)
    # T5 appends </s>: the count includes it.
    p = build_prompts(examples[:1], cfg(), t5_tok, context_window=4096)[0]
    assert p.n_tokens == len(t5_tok(p.text, add_special_tokens=False)["input_ids"]) + 1


def test_few_shot_prompt_is_shots_joined_by_the_separator(examples, t5_tok):
    p = build_prompts(examples, cfg(), t5_tok, k=2, context_window=4096)[0]
    s2, s3, s1 = examples[1], examples[2], examples[0]
    shot = "Summarize the following conversation.\n\n{}\n\nSummary: {}"
    assert p.text == "\n\n\n".join([shot.format(s2["dialogue"], s2["summary"]), shot.format(s3["dialogue"], s3["summary"]),
                                    shot.format(s1["dialogue"], "")])
    assert p.shot_ids == ["s2", "s3"]


def test_auto_drops_shots_until_it_fits_and_records_it(examples, t5_tok, n_tokens):
    full = prompt_lengths(examples, cfg(), t5_tok, k=3)
    one = prompt_lengths(examples, cfg(), t5_tok, k=1)
    window = max(one)  # every example fits with one shot, none with three
    assert min(full) > window
    # keep_input 1.0: never cut the input while a shot can be dropped (the old `auto`)
    prompts = build_prompts(examples, cfg(keep_input=1.0), t5_tok, k=3, context_window=window)
    for p in prompts:
        assert 1 <= p.shots_used < 3 and p.shots_requested == 3 and p.n_tokens <= window
        assert p.n_tokens == n_tokens(t5_tok, p) and not p.truncated
        assert p.budget_record()["shots_used"] == p.shots_used
    summary = summarize_budget(prompts, window)
    assert summary.shots_dropped == len(examples) and "got fewer shots to fit" in summary.line()


def test_auto_cuts_the_input_to_keep_shots_then_drops_them(examples, t5_tok, n_tokens):
    one = dict(zip((e["id"] for e in examples), prompt_lengths(examples, cfg(), t5_tok, k=1)))
    window = min(one.values()) - 3  # no example fits with one whole shot, all with a slightly cut input
    prompts = build_prompts(examples, cfg(keep_input=0.2), t5_tok, k=1, context_window=window)
    assert any(p.shots_used == 1 and p.truncated for p in prompts)  # cut a little, kept the shot
    for p in prompts:
        assert p.n_tokens <= window and p.n_tokens == n_tokens(t5_tok, p)
        assert p.truncated == (p.truncated_tokens > 0)
    # keep_input 1.0 never cuts while a shot remains: every example loses its shot instead
    strict = build_prompts(examples, cfg(keep_input=1.0), t5_tok, k=1, context_window=window)
    assert all(p.shots_used == 0 for p in strict)


def test_auto_cuts_an_example_too_long_with_zero_shots(examples, t5_tok, n_tokens):
    """auto always has a way forward: an input too long even alone is cut (and recorded)."""
    zero = dict(zip((e["id"] for e in examples), prompt_lengths(examples, cfg(), t5_tok, k=0)))
    longest = max(zero, key=zero.get)
    window = zero[longest] - 1
    prompts = {p.id: p for p in build_prompts(examples, cfg(), t5_tok, k=2, context_window=window)}
    assert prompts[longest].truncated and prompts[longest].shots_used == 0
    assert all(p.n_tokens <= window and p.n_tokens == n_tokens(t5_tok, p) for p in prompts.values())


def test_auto_refuses_only_a_template_longer_than_the_budget(examples, t5_tok):
    with pytest.raises(PromptError) as err:
        build_prompts(examples, cfg(), t5_tok, k=2, context_window=5)
    msg = str(err.value)
    assert "with 0 shots and its input cut to one token but the budget is 5" in msg
    assert f"{len(examples)} of {len(examples)} examples do not fit" in msg
    # the way forward is the template or the model, never another budget policy (no circle)
    assert "shorten `template`" in err.value.hint and "budget.policy" not in err.value.hint


def test_hints_never_point_in_a_circle(examples, t5_tok):
    two = prompt_lengths(examples, cfg(), t5_tok, k=2)
    hints = {}
    for policy in ("error", "truncate"):
        with pytest.raises(PromptError) as err:
            build_prompts(examples, cfg(policy), t5_tok, k=2, context_window=min(two) // 4)
        hints[policy] = err.value.hint
    assert "budget.policy: auto" in hints["error"] and "budget.policy: auto" in hints["truncate"]
    # ... and auto gets through where both refused
    fitted = build_prompts(examples, cfg(), t5_tok, k=2, context_window=min(two) // 4)
    assert all(p.n_tokens <= min(two) // 4 for p in fitted)


def test_error_policy_refuses_what_does_not_fit_with_k_shots(examples, t5_tok):
    two = prompt_lengths(examples, cfg(), t5_tok, k=2)
    with pytest.raises(PromptError, match=r"needs \d+ tokens with 2 shots but the budget is"):
        build_prompts(examples, cfg("error"), t5_tok, k=2, context_window=max(two) - 1)
    fitted = build_prompts(examples, cfg("error"), t5_tok, k=2, context_window=max(two))
    assert all(p.shots_used == 2 for p in fitted)


@pytest.mark.parametrize("side", ["right", "left"])
def test_truncate_cuts_the_input_by_tokens_from_the_chosen_side(examples, t5_tok, n_tokens, side):
    window = 80
    prompts = build_prompts(examples, cfg("truncate", truncate_side=side), t5_tok, k=0, context_window=window)
    zero = prompt_lengths(examples, cfg(), t5_tok, k=0)
    assert any(p.truncated for p in prompts)
    for p, ex, n0 in zip(prompts, examples, zero):
        assert p.n_tokens <= window and p.n_tokens == n_tokens(t5_tok, p)
        if n0 <= window:
            assert not p.truncated and p.truncated_tokens == 0
            continue
        assert p.truncated and p.truncated_field == "dialogue" and p.truncated_tokens > 0
        body = p.text[len("Summarize the following conversation.\n\n"):-len("\n\nSummary: ")]
        assert body and body != ex["dialogue"]
        assert ex["dialogue"].startswith(body) if side == "right" else ex["dialogue"].endswith(body)
        # As much as fits is kept: one more token of the dialogue would not fit.
        full = len(t5_tok(ex["dialogue"], add_special_tokens=False)["input_ids"])
        assert p.truncated_tokens <= full - 1 and p.n_tokens >= window - 3


def test_truncate_keeps_the_shots_and_refuses_when_they_fill_the_budget(examples, t5_tok):
    one = prompt_lengths(examples, cfg(), t5_tok, k=1)
    prompts = build_prompts(examples, cfg("truncate"), t5_tok, k=1, context_window=min(one) - 5)
    assert all(p.shots_used == 1 and p.truncated for p in prompts)
    with pytest.raises(PromptError, match="input cut to one token"):
        build_prompts(examples, cfg("truncate"), t5_tok, k=3, context_window=min(one))


def test_decoder_only_budget_reserves_max_new_tokens(examples, gpt2_tok):
    n = prompt_lengths(examples[:1], cfg(), gpt2_tok, k=0)[0]
    kw = dict(k=0, context_window=n + 10, reserve_tokens=10)
    assert build_prompts(examples[:1], cfg("error"), gpt2_tok, encoder_decoder=False, **kw)[0].n_tokens == n
    with pytest.raises(PromptError, match=r"- 11 reserved for new tokens"):
        build_prompts(examples[:1], cfg("error"), gpt2_tok, encoder_decoder=False, k=0, context_window=n + 10,
                      reserve_tokens=11)
    # Encoder-decoder: new tokens come out of the decoder and do not count against the input.
    assert build_prompts(examples[:1], cfg("error"), gpt2_tok, encoder_decoder=True, k=0, context_window=n,
                         reserve_tokens=500)
    with pytest.raises(PromptError, match="no room for a prompt"):
        build_prompts(examples[:1], cfg(), gpt2_tok, encoder_decoder=False, k=0, context_window=64, reserve_tokens=64)


def test_empty_inputs(t5_tok):
    with pytest.raises(PromptError, match="no examples to build prompts from"):
        build_prompts([], cfg(), t5_tok, context_window=512)
    with pytest.raises(PromptError, match="example 'e2': field 'dialogue' is empty"):
        build_prompts([{"id": "e1", "dialogue": "hi"}, {"id": "e2", "dialogue": " "}], cfg(), t5_tok, context_window=512)
    with pytest.raises(PromptError, match="uses no field of the data"):
        build_prompts([{"id": "e1", "dialogue": "hi"}], PromptConfig(template="Hi", target_field="s"), t5_tok,
                      context_window=512)


def test_chat_template_shots_become_prior_turns(examples, chat_tok, n_tokens):
    chat_cfg = PromptConfig(preset="dialogue-instruction", system="Be brief.")
    p = build_prompts(examples, chat_cfg, chat_tok, k=1, context_window=4096, encoder_decoder=False)[0]
    shot, query = examples[1], examples[0]
    instr = "Summarize the following conversation.\n\n{}\n\nSummary:"
    assert p.chat and not p.add_special_tokens
    assert p.text == (f"<|system|>\nBe brief.</s>\n<|user|>\n{instr.format(shot['dialogue'])}</s>\n"
                      f"<|assistant|>\n{shot['summary']}</s>\n<|user|>\n{instr.format(query['dialogue'])}</s>\n"
                      "<|assistant|>\n")
    assert p.n_tokens == n_tokens(chat_tok, p)
    plain = build_prompts(examples, chat_cfg.model_copy(update={"use_chat_template": "never"}), chat_tok, k=1,
                          context_window=4096)[0]
    assert not plain.chat and "<|user|>" not in plain.text and plain.text.endswith("Summary: ")


def test_always_without_a_chat_template_is_an_error(examples, t5_tok):
    with pytest.raises(PromptError, match="use_chat_template is 'always' but the tokenizer"):
        build_prompts(examples, PromptConfig(preset="dialogue-flan", use_chat_template="always"), t5_tok,
                      context_window=512)


def test_truncate_field_must_be_a_template_field(examples, t5_tok):
    with pytest.raises(PromptError, match="budget.truncate_field 'summary' is not a field the template uses"):
        build_prompts(examples, cfg("truncate", truncate_field="summary"), t5_tok, context_window=80)


def test_truncate_under_a_chat_template(examples, chat_tok, n_tokens):
    chat_cfg = PromptConfig(preset="dialogue-instruction", budget={"policy": "truncate", "truncate_side": "left"})
    window = 90
    prompts = build_prompts(examples, chat_cfg, chat_tok, k=0, context_window=window, encoder_decoder=False)
    assert any(p.truncated for p in prompts)
    for p, ex in zip(prompts, examples):
        assert p.chat and p.n_tokens <= window and p.n_tokens == n_tokens(chat_tok, p)
        assert p.text.startswith("<|user|>\nSummarize the following conversation.\n\n")
        body = p.text.split("\n\n", 1)[1].rsplit("\n\nSummary:", 1)[0]
        assert ex["dialogue"].endswith(body) and (p.truncated == (body != ex["dialogue"]))


def test_examples_need_the_id_field(t5_tok):
    with pytest.raises(PromptError, match="example #2 has no id field 'id'; available fields: dialogue"):
        build_prompts([{"id": "a", "dialogue": "x"}, {"dialogue": "y"}], cfg(), t5_tok, context_window=512)
