"""Prompting: templates with fields from the data, shot selection, chat templates, token budget.

    from lifecycle.prompting import build_prompts, resolve_prompt_config
    prompts = build_prompts(examples, cfg, tokenizer, k=3, context_window=512,
                            reserve_tokens=max_new_tokens, encoder_decoder=False)
    for p in prompts:
        ids = tokenizer(p.text, **p.encode_kwargs)["input_ids"]   # len(ids) == p.n_tokens
        record = p.budget_record()                                   # goes into predictions.jsonl

Heavy libraries are never imported here: the tokenizer comes from the caller."""

from lifecycle.prompting.builder import (
    build_prompts,
    check_examples,
    format_example,
    format_target,
    prompt_lengths,
)
from lifecycle.prompting.presets import PRESETS, Preset, get_preset, presets_for, resolve_prompt_config
from lifecycle.prompting.rendered import BudgetSummary, RenderedPrompt, summarize_budget
from lifecycle.prompting.template import render_template, template_fields

__all__ = [
    "PRESETS", "BudgetSummary", "Preset", "RenderedPrompt", "build_prompts", "check_examples", "format_example",
    "format_target", "get_preset", "presets_for", "prompt_lengths", "render_template", "resolve_prompt_config",
    "summarize_budget", "template_fields",
]
