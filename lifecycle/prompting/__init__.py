"""Prompting: templates with fields from the data, shot selection, chat templates, token budget.

    from lifecycle.config.prompt import resolve_prompt_config   # presets applied (core)
    from lifecycle.prompting import build_prompts
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
from lifecycle.prompting.rendered import BudgetSummary, RenderedPrompt, summarize_budget

# Public API kept from before the core moves: generated projects' tests (templates/*/tests/test_prompts.py,
# in every project made so far) import template_fields from here. Their homes are core modules.
from lifecycle.config.prompt import resolve_prompt_config  # noqa: E402
from lifecycle.prompt_template import render_template, template_fields  # noqa: E402

__all__ = [
    "BudgetSummary", "RenderedPrompt", "build_prompts", "check_examples", "format_example", "format_target",
    "prompt_lengths", "render_template", "resolve_prompt_config", "summarize_budget", "template_fields",
]
