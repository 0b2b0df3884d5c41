"""Which layers a method adapts when the config names none: one rule for training and the estimator."""

from __future__ import annotations

from lifecycle.methods.lora import LORA_TARGETS
from lifecycle.methods.registry import get_estimator_method as get_method  # preference methods adapt layers too


def _peft_default(mapping_name: str, model_type: str) -> list[str] | None:
    from peft.utils import constants

    value = getattr(constants, mapping_name, {}).get(model_type)
    return list(value) if value else None


def default_targets(method: str, model_type: str) -> tuple[list[str] | None, list[str] | None]:
    """(target modules, feed-forward modules) for a model type: our LoRA table first, then peft's own
    per-architecture tables; (None, None) when neither knows the type or the method has no targets."""
    table = get_method(method).targets
    if table == "lora":
        return (list(LORA_TARGETS.get(model_type) or [])
                or _peft_default("TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING", model_type)), None
    if table == "ia3":
        return (_peft_default("TRANSFORMERS_MODELS_TO_IA3_TARGET_MODULES_MAPPING", model_type),
                _peft_default("TRANSFORMERS_MODELS_TO_IA3_FEEDFORWARD_MODULES_MAPPING", model_type))
    return None, None
