"""LoRA and QLoRA: low-rank updates on chosen linear layers (QLoRA: of a 4-bit frozen base)."""

from __future__ import annotations

from lifecycle.methods.registry import AdapterSettings, Method, peft_task_type, register_method

# Our defaults where the lifecycle has an opinion (the course lab's LoRA setting on q and v);
# other model types fall back to peft's own per-architecture table.
LORA_TARGETS = {
    "t5": ["q", "v"], "mt5": ["q", "v"], "umt5": ["q", "v"], "bart": ["q_proj", "v_proj"],
    "gpt2": ["c_attn"], "llama": ["q_proj", "v_proj"], "mistral": ["q_proj", "v_proj"],
    "qwen2": ["q_proj", "v_proj"], "qwen3": ["q_proj", "v_proj"], "gemma": ["q_proj", "v_proj"],
    "gemma2": ["q_proj", "v_proj"], "phi3": ["qkv_proj"], "falcon": ["query_key_value"],
    "gpt_neox": ["query_key_value"],
}


def lora_config(s: AdapterSettings):
    from peft import LoraConfig

    return LoraConfig(task_type=peft_task_type(s), r=s.r, lora_alpha=s.alpha or 2 * s.r, lora_dropout=s.dropout,
                      target_modules=s.target_modules)


register_method(Method(
    "lora", "low-rank adapters on the attention projections; merges into the base weights",
    trains="adapter", peft_config=lora_config, targets="lora", mergeable=True,
))
register_method(Method(
    "qlora", "LoRA on a 4-bit NF4 base (bitsandbytes, CUDA only); merges into the base weights",
    trains="adapter", peft_config=lora_config, targets="lora", mergeable=True, needs_cuda=True,
    quantized_base=True, default_dtype="int4",
))
