"""The fine-tuning method registry (peft's `register_peft_method` style), core layer.

One `Method` record per method: its peft config builder, whether its adapter merges into the base
weights, whether it needs CUDA, how the memory estimator models it and its default dtype. The CLI
choices (`lifecycle finetune --method`, `models estimate --method`), `configs/finetune.yaml`'s
`method` validator, the estimator (`catalog/memory.py`), `finetune merge` and the fine-tune
pre-flight (`finetune/resources.py`) all read this table. A new method (e.g. the alignment stage's
preference tuning) is one `register_method(Method(...))` in its own module.

Light on import: peft is imported inside the builders only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional

from lifecycle.errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class AdapterSettings:
    """What a peft config is built from, whoever asks (training, or the estimator's meta model)."""

    task_type: Optional[str] = None  # "seq2seq", "causal" or None (an encoder, or no head to wrap)
    r: int = 8
    alpha: Optional[int] = None  # None: 2 * r
    dropout: float = 0.0
    target_modules: Optional[Any] = None  # list of names, or "all-linear"
    feedforward_modules: Optional[list[str]] = None
    num_virtual_tokens: int = 20
    init_text: Optional[str] = None  # prompt tuning: start from this text's embeddings
    tokenizer: Optional[str] = None  # prompt tuning with init_text: where its tokenizer is


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    # "full": every weight trains (gradients and AdamW states for all of them); "adapter": peft wraps
    # a frozen base and only the adapter's parameters train. This is how the estimator models it.
    trains: Literal["full", "adapter"]
    peft_config: Optional[Callable[[AdapterSettings], Any]] = None  # None for "full"
    targets: Optional[Literal["lora", "ia3"]] = None  # which default target-module table applies
    mergeable: bool = False  # `lifecycle finetune merge` can fold it into the base weights
    needs_cuda: bool = False
    quantized_base: bool = False  # the frozen base is loaded in 4 bit (bitsandbytes)
    default_dtype: Optional[str] = None  # estimator dtype when none is asked (None: from the hardware)
    # when the estimator cannot simulate this method on fake tensors: (method, settings changes) to ask instead
    estimate_fallback: Optional[tuple[str, dict]] = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def build_peft_config(self, settings: AdapterSettings):
        if self.peft_config is None:
            raise ConfigError(f"method '{self.name}' trains the model itself: it has no peft config")
        return self.peft_config(settings)


METHODS: dict[str, Method] = {}
INFERENCE = "inference"  # the estimator's extra "method": no training step


def register_method(method: Method) -> Method:
    if method.name in METHODS or method.name == INFERENCE:
        raise ValueError(f"method '{method.name}' is registered twice")
    if (method.trains == "adapter") != (method.peft_config is not None):
        raise ValueError(f"method '{method.name}': an adapter method needs a peft config builder (and only it)")
    METHODS[method.name] = method
    return method


def method_names() -> list[str]:
    return list(METHODS)


def estimator_methods() -> list[str]:
    """What `lifecycle models estimate --method` takes: inference and every registered method."""
    return [INFERENCE, *METHODS]


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ConfigError(did_you_mean(str(name), method_names(), kind="fine-tuning method"),
                          hint=f"methods: {', '.join(METHODS)}") from None


class _Mergeable:
    """A live view (`name in MERGEABLE`): methods registered later are seen too."""

    def __contains__(self, name: object) -> bool:
        return name in METHODS and METHODS[name].mergeable  # type: ignore[index]

    def __iter__(self):
        return iter([m.name for m in METHODS.values() if m.mergeable])

    def __repr__(self) -> str:
        return repr(tuple(self))


MERGEABLE = _Mergeable()


def peft_task_type(settings: AdapterSettings):
    from peft import TaskType

    return {"seq2seq": TaskType.SEQ_2_SEQ_LM, "causal": TaskType.CAUSAL_LM}.get(settings.task_type or "")


def task_type_for(architecture: str | None = None, *, encoder_decoder: bool | None = None) -> Optional[str]:
    """The AdapterSettings task type of a model: from its architecture, or the encoder_decoder flag."""
    if encoder_decoder is not None:
        return "seq2seq" if encoder_decoder else "causal"
    return {"encoder-decoder": "seq2seq", "decoder": "causal"}.get(architecture or "")
