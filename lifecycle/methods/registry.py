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
    # preference tuning (`lifecycle align dpo`): chosen and rejected run through the policy as one
    # batch of twice the pairs; `reference` says how the frozen reference model is held
    pairs: bool = False
    reference: Optional[Literal["precomputed", "adapter_disabled"]] = None
    loss: Optional[str] = None  # the align loss (configs/align.yaml dpo.loss) this method trains with

    def build_peft_config(self, settings: AdapterSettings):
        if self.peft_config is None:
            raise ConfigError(f"method '{self.name}' trains the model itself: it has no peft config")
        return self.peft_config(settings)


METHODS: dict[str, Method] = {}  # fine-tuning methods (`lifecycle finetune --method`)
PREFERENCE_METHODS: dict[str, Method] = {}  # preference tuning (`lifecycle align dpo`); not finetune's
INFERENCE = "inference"  # the estimator's extra "method": no training step


def register_method(method: Method) -> Method:
    if method.name in METHODS or method.name in PREFERENCE_METHODS or method.name == INFERENCE:
        raise ValueError(f"method '{method.name}' is registered twice")
    if (method.trains == "adapter") != (method.peft_config is not None):
        raise ValueError(f"method '{method.name}': an adapter method needs a peft config builder (and only it)")
    if method.pairs != (method.reference is not None):
        raise ValueError(f"method '{method.name}': a preference method says how its reference model is held")
    (PREFERENCE_METHODS if method.pairs else METHODS)[method.name] = method
    return method


def method_names() -> list[str]:
    """Fine-tuning methods: what `lifecycle finetune --method` and configs/finetune.yaml take."""
    return list(METHODS)


def preference_method_names() -> list[str]:
    return list(PREFERENCE_METHODS)


def estimator_methods() -> list[str]:
    """What `lifecycle models estimate --method` takes: inference, every fine-tuning and preference method."""
    return [INFERENCE, *METHODS, *PREFERENCE_METHODS]


def get_method(name: str) -> Method:
    """A fine-tuning method's record (`lifecycle finetune`, configs/finetune.yaml): a preference
    method is refused here, so that nothing fine-tunes under its name."""
    if isinstance(name, str) and name in PREFERENCE_METHODS:
        raise ConfigError(f"'{name}' is a preference-tuning method, not a fine-tuning method",
                          hint="train it with `lifecycle align dpo` (configs/align.yaml dpo.loss / dpo.method); "
                               f"fine-tuning methods: {', '.join(METHODS)}")
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ConfigError(did_you_mean(str(name), method_names(), kind="fine-tuning method"),
                          hint=f"methods: {', '.join(METHODS)}") from None


def get_estimator_method(name: str) -> Method:
    """A fine-tuning or preference method's record: what the memory estimator models."""
    try:
        return METHODS[name] if name in METHODS else PREFERENCE_METHODS[name]
    except (KeyError, TypeError):
        raise ConfigError(did_you_mean(str(name), [*METHODS, *PREFERENCE_METHODS], kind="method"),
                          hint=f"fine-tuning methods: {', '.join(METHODS)}; preference methods: "
                               f"{', '.join(PREFERENCE_METHODS)}") from None


def preference_method_for(loss: str, policy: str) -> Method:
    """The registered preference method of an align run (configs/align.yaml dpo.loss and dpo.method)."""
    for m in PREFERENCE_METHODS.values():
        if m.loss == loss and (m.trains == "full") == (policy == "full"):
            return m
    raise ConfigError(f"no preference method trains loss '{loss}' with a {policy} policy",
                      hint=f"preference methods: {', '.join(PREFERENCE_METHODS)}")


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
