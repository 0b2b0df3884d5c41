"""Fine-tuning methods: which families support which, default target modules, and applying peft.

`full` trains every weight; `lora`, `ia3`, `prompt_tuning` and `qlora` wrap the model with peft.
Target modules default per architecture (t5: q,v; gpt2: c_attn; llama-like: q_proj,v_proj) and
otherwise fall back to peft's own per-architecture tables."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.errors import DependencyError, FinetuneError

METHODS = ("full", "lora", "prompt_tuning", "ia3", "qlora")
PEFT_METHODS = ("lora", "prompt_tuning", "ia3", "qlora")

# Our defaults where the lifecycle has an opinion (the course lab's LoRA setting on q and v).
LORA_TARGETS = {
    "t5": ["q", "v"], "mt5": ["q", "v"], "umt5": ["q", "v"], "bart": ["q_proj", "v_proj"],
    "gpt2": ["c_attn"], "llama": ["q_proj", "v_proj"], "mistral": ["q_proj", "v_proj"],
    "qwen2": ["q_proj", "v_proj"], "qwen3": ["q_proj", "v_proj"], "gemma": ["q_proj", "v_proj"],
    "gemma2": ["q_proj", "v_proj"], "phi3": ["qkv_proj"], "falcon": ["query_key_value"],
    "gpt_neox": ["query_key_value"],
}


@dataclass
class MethodPlan:
    """What will be trained, resolved from the config and the model."""

    method: str
    target_modules: list[str] | None
    feedforward_modules: list[str] | None = None


def _peft_default(mapping_name: str, model_type: str) -> list[str] | None:
    from peft.utils import constants

    mapping = getattr(constants, mapping_name, {})
    value = mapping.get(model_type)
    return list(value) if value else None


def module_leaf_names(model) -> list[str]:
    """Distinct last name parts of the model's Linear/Conv1D layers: what `target_modules` may name."""
    import torch

    names = set()
    for name, module in model.named_modules():
        if not name:
            continue
        cls = type(module).__name__
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv1d)) or cls == "Conv1D":
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def _all_module_names(model) -> set[str]:
    return {n for n, _ in model.named_modules() if n}


def _check_targets_exist(model, targets: list[str], field: str) -> None:
    """Each target must match a module by its last name part or by a dotted suffix (peft's rule)."""
    names = _all_module_names(model)
    missing = [t for t in targets if not any(n == t or n.endswith("." + t) for n in names)]
    if missing:
        known = module_leaf_names(model)
        raise FinetuneError(
            f"configs/finetune.yaml: {field}: module(s) {', '.join(repr(m) for m in missing)} do not exist in this "
            f"model; its linear layers are: {', '.join(known)}",
            hint=f"set {field} to names from that list (e.g. [{', '.join(known[:2])}])",
        )


def plan_method(method: str, model_type: str, peft_settings, model) -> MethodPlan:
    """Resolve the method for this model, or raise a clear error if the family cannot do it."""
    if method not in METHODS:
        raise FinetuneError(f"unknown fine-tuning method '{method}'; use one of {', '.join(METHODS)}")
    if method in ("full", "prompt_tuning"):
        return MethodPlan(method, None)
    if method in ("lora", "qlora"):
        targets = peft_settings.target_modules or LORA_TARGETS.get(model_type) or _peft_default(
            "TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING", model_type)
        if not targets:
            raise FinetuneError(
                f"{method} has no default target modules for model type '{model_type}'",
                hint="set peft.target_modules in configs/finetune.yaml to some of: "
                + ", ".join(module_leaf_names(model)))
        _check_targets_exist(model, targets, "peft.target_modules")
        return MethodPlan(method, list(targets))
    # ia3
    targets = peft_settings.target_modules or _peft_default("TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING", model_type)
    if not targets:
        raise FinetuneError(
            f"method 'ia3' is not supported for model type '{model_type}' without explicit modules",
            hint="set peft.target_modules and peft.feedforward_modules in configs/finetune.yaml, or use method: lora")
    if peft_settings.target_modules:
        ff = peft_settings.feedforward_modules or []
    else:
        ff = peft_settings.feedforward_modules or _peft_default(
            "TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING", model_type) or []
    _check_targets_exist(model, targets, "peft.target_modules")
    stray = [m for m in ff if m not in targets]
    if stray:
        raise FinetuneError(f"configs/finetune.yaml: peft.feedforward_modules: {', '.join(stray)} must also be in "
                            "peft.target_modules")
    return MethodPlan("ia3", list(targets), list(ff))


def check_qlora_available() -> None:
    """QLoRA quantizes the base model to 4 bit with bitsandbytes, which needs a CUDA GPU."""
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise DependencyError(
            "method 'qlora' needs the bitsandbytes package, which is not installed",
            hint="pip install bitsandbytes (on a machine with a CUDA GPU), or use method: lora")
    import torch

    if not torch.cuda.is_available():
        raise DependencyError("method 'qlora' needs a CUDA GPU (4-bit bitsandbytes kernels); none is available",
                              hint="use method: lora on this machine")


def quantization_config():
    """4-bit NF4 with double quantization and bf16 compute: the QLoRA paper's recipe."""
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


def peft_config(plan: MethodPlan, peft_settings, encoder_decoder: bool, model_ref: str):
    from peft import IA3Config, LoraConfig, PromptTuningConfig, PromptTuningInit, TaskType

    task = TaskType.SEQ_2_SEQ_LM if encoder_decoder else TaskType.CAUSAL_LM
    if plan.method in ("lora", "qlora"):
        return LoraConfig(task_type=task, r=peft_settings.r, lora_alpha=peft_settings.alpha,
                          lora_dropout=peft_settings.dropout, target_modules=plan.target_modules)
    if plan.method == "ia3":
        return IA3Config(task_type=task, target_modules=plan.target_modules,
                         feedforward_modules=plan.feedforward_modules or [])
    if peft_settings.prompt_tuning_init_text:
        return PromptTuningConfig(task_type=task, num_virtual_tokens=peft_settings.num_virtual_tokens,
                                  prompt_tuning_init=PromptTuningInit.TEXT,
                                  prompt_tuning_init_text=peft_settings.prompt_tuning_init_text,
                                  tokenizer_name_or_path=model_ref)
    return PromptTuningConfig(task_type=task, num_virtual_tokens=peft_settings.num_virtual_tokens,
                              prompt_tuning_init=PromptTuningInit.RANDOM)


def apply_method(model, plan: MethodPlan, peft_settings, encoder_decoder: bool, model_ref: str):
    """The model to train: itself for `full`, else a PeftModel with only the method's parameters trainable."""
    if plan.method == "full":
        return model
    from peft import get_peft_model, prepare_model_for_kbit_training

    if plan.method == "qlora":
        model = prepare_model_for_kbit_training(model)
    return get_peft_model(model, peft_config(plan, peft_settings, encoder_decoder, model_ref))


def trainable_parameters(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = total = 0
    for p in model.parameters():
        n = p.numel()
        total += n
        if p.requires_grad:
            trainable += n
    return trainable, total
