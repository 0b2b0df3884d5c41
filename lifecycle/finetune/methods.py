"""Fine-tuning methods on a real model: which families support which, resolving target modules,
and applying peft. The methods themselves (their peft config builders, mergeable, CUDA, default
dtype) are records of the method registry, `lifecycle.methods`; this module plans and applies them.

Target modules default per architecture (t5: q,v; gpt2: c_attn; llama-like: q_proj,v_proj) and
otherwise fall back to peft's own per-architecture tables (`default_targets`, which the memory
estimator uses too)."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.errors import DependencyError, FinetuneError
from lifecycle.methods import (
    LORA_TARGETS, METHODS as REGISTRY, AdapterSettings, default_targets, get_method, task_type_for,
)

# Views of the method registry (lifecycle.methods), kept for callers of this module.
METHODS = tuple(REGISTRY)
PEFT_METHODS = tuple(n for n, m in REGISTRY.items() if m.trains == "adapter")
__all__ = ["LORA_TARGETS", "METHODS", "PEFT_METHODS", "MethodPlan", "plan_method", "peft_config", "apply_method",
           "default_targets", "adapter_settings", "check_qlora_available", "quantization_config",
           "trainable_parameters", "module_leaf_names"]


@dataclass
class MethodPlan:
    """What will be trained, resolved from the config and the model."""

    method: str
    target_modules: list[str] | None
    feedforward_modules: list[str] | None = None


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
    if method not in REGISTRY:
        from lifecycle.errors import did_you_mean

        raise FinetuneError(did_you_mean(method, list(REGISTRY), kind="fine-tuning method"))
    table = REGISTRY[method].targets
    if table is None:
        return MethodPlan(method, None)
    if table == "lora":
        targets = peft_settings.target_modules or default_targets(method, model_type)[0]
        if not targets:
            raise FinetuneError(
                f"{method} has no default target modules for model type '{model_type}'",
                hint="set peft.target_modules in configs/finetune.yaml to some of: "
                + ", ".join(module_leaf_names(model)))
        _check_targets_exist(model, targets, "peft.target_modules")
        return MethodPlan(method, list(targets))
    # ia3
    default, default_ff = default_targets(method, model_type)
    targets = peft_settings.target_modules or default
    if not targets:
        raise FinetuneError(
            f"method 'ia3' is not supported for model type '{model_type}' without explicit modules",
            hint="set peft.target_modules and peft.feedforward_modules in configs/finetune.yaml, or use method: lora")
    if peft_settings.target_modules:
        ff = peft_settings.feedforward_modules or []
    else:
        ff = peft_settings.feedforward_modules or default_ff or []
    _check_targets_exist(model, targets, "peft.target_modules")
    stray = [m for m in ff if m not in targets]
    if stray:
        raise FinetuneError(f"configs/finetune.yaml: peft.feedforward_modules: {', '.join(stray)} must also be in "
                            "peft.target_modules")
    return MethodPlan(method, list(targets), list(ff))


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


def adapter_settings(plan: MethodPlan, peft_settings, encoder_decoder: bool, model_ref: str) -> AdapterSettings:
    """configs/finetune.yaml's peft section and the plan, as the registry's builders take them."""
    return AdapterSettings(task_type=task_type_for(encoder_decoder=encoder_decoder), r=peft_settings.r,
                           alpha=peft_settings.alpha, dropout=peft_settings.dropout,
                           target_modules=plan.target_modules, feedforward_modules=plan.feedforward_modules,
                           num_virtual_tokens=peft_settings.num_virtual_tokens,
                           init_text=peft_settings.prompt_tuning_init_text, tokenizer=model_ref)


def peft_config(plan: MethodPlan, peft_settings, encoder_decoder: bool, model_ref: str):
    """The peft config, built by the method's registry entry (the one place peft configs are made)."""
    return get_method(plan.method).build_peft_config(adapter_settings(plan, peft_settings, encoder_decoder, model_ref))


def apply_method(model, plan: MethodPlan, peft_settings, encoder_decoder: bool, model_ref: str):
    """The model to train: itself for `full`, else a PeftModel with only the method's parameters trainable."""
    method = get_method(plan.method)
    if method.trains == "full":
        return model
    from peft import get_peft_model, prepare_model_for_kbit_training

    if method.quantized_base:
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
