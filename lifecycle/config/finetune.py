"""configs/finetune.yaml: full fine-tuning or PEFT, on the project's own prompt format."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lifecycle.errors import ConfigError
from lifecycle.methods import get_method, method_names


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PeftSettings(Strict):
    r: int = Field(default=32, ge=1, le=1024)
    alpha: int = Field(default=32, ge=1)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: Optional[list[str]] = Field(default=None, description="Default: chosen per architecture.")
    num_virtual_tokens: int = Field(default=20, ge=1, description="prompt_tuning only.")
    prompt_tuning_init_text: Optional[str] = Field(
        default=None, description="prompt_tuning only: start the soft prompt from this text's embeddings (default: random).")
    feedforward_modules: Optional[list[str]] = Field(
        default=None, description="ia3 only: which target modules are feed-forward layers (default: per architecture).")


# What transformers.TrainingArguments(report_to=...) accepts, for the trackers teams use.
Tracker = Literal["none", "tensorboard", "mlflow", "wandb", "trackio"]


class TrainingSettings(Strict):
    learning_rate: float = Field(default=1e-3, gt=0)
    epochs: float = Field(default=1.0, gt=0)
    max_steps: Optional[int] = Field(default=None, ge=1)
    batch_size: int = Field(default=8, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    eval_strategy: Literal["no", "steps", "epoch"] = "no"
    save_strategy: Literal["no", "steps", "epoch"] = "steps"
    save_steps: int = Field(default=50, ge=1)
    save_total_limit: Optional[int] = Field(default=2, ge=1)
    logging_steps: int = Field(default=10, ge=1)
    seed: int = 42
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = Field(
        default="auto", description="auto: bf16 on GPUs that support it, else fp16 on GPU, none on CPU.")
    eval_steps: Optional[int] = Field(default=None, ge=1, description="With eval_strategy: steps (default: save_steps).")
    weight_decay: float = Field(default=0.0, ge=0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    min_train_examples: int = Field(
        default=1, ge=1, description="Refuse to train on fewer examples (a typo'd data path trains on nothing).")
    report_to: Union[Tracker, list[Tracker]] = Field(
        default="none", description="Experiment tracker the Trainer reports to (its `report_to`); the run "
        "folder is written either way. mlflow reads MLFLOW_TRACKING_URI.")


class FinetuneData(Strict):
    train: str = "data/train.jsonl"  # the template's: held out from the eval set (data/sample.jsonl)
    validation: Optional[str] = None
    max_source_tokens: Optional[int] = Field(
        default=None, ge=1, description="Cut longer prompts to this many tokens (default: a longer prompt is an error).")
    max_target_tokens: Optional[int] = Field(
        default=None, ge=1, description="Cut longer targets to this many tokens (default: a longer target is an error).")
    fields: Optional[list[str]] = Field(
        default=None, description="Fields every example must have (default: those the prompt template uses + the target).")


class FinetuneConfig(Strict):
    """configs/finetune.yaml (`lifecycle finetune`)."""

    method: str = Field(default="lora", description="A registered fine-tuning method (lifecycle.methods).",
                        json_schema_extra=lambda schema: schema.update(enum=method_names()))
    peft: PeftSettings = Field(default_factory=PeftSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    data: FinetuneData = Field(default_factory=FinetuneData)

    @field_validator("method")
    @classmethod
    def _registered(cls, v: str) -> str:
        try:
            get_method(v)
        except ConfigError as err:  # a ValueError, so that the loader locates it (file:line: method: ...)
            raise ValueError(err.message) from None
        return v
