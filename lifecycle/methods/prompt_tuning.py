"""Prompt tuning: a trained soft prompt in front of every input; the base stays untouched."""

from __future__ import annotations

from lifecycle.methods.registry import AdapterSettings, Method, peft_task_type, register_method


def prompt_tuning_config(s: AdapterSettings):
    from peft import PromptTuningConfig, PromptTuningInit

    if s.init_text:
        return PromptTuningConfig(task_type=peft_task_type(s), num_virtual_tokens=s.num_virtual_tokens,
                                  prompt_tuning_init=PromptTuningInit.TEXT, prompt_tuning_init_text=s.init_text,
                                  tokenizer_name_or_path=s.tokenizer)
    return PromptTuningConfig(task_type=peft_task_type(s), num_virtual_tokens=s.num_virtual_tokens,
                              prompt_tuning_init=PromptTuningInit.RANDOM)


register_method(Method(
    "prompt_tuning", "a soft prompt of virtual tokens; stays an adapter (nothing to merge)",
    trains="adapter", peft_config=prompt_tuning_config,
    # where a prompt-tuning step cannot be simulated on fake tensors: LoRA r=1 on the same frozen
    # base, an upper bound on prompt tuning's tiny trainable part
    estimate_fallback=("lora", {"lora_r": 1, "lora_dropout": 0.0, "target_modules": None}),
))
