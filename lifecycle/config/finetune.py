"""configs/finetune.yaml: full fine-tuning or PEFT, on the project's own prompt format."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PeftSettings(Strict):
    r: int = Field(default=32, ge=1, le=1024)
    alpha: int = Field(default=32, ge=1)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: Optional[list[str]] = Field(default=None, description="Default: chosen per architecture.")
    num_virtual_tokens: int = Field(default=20, ge=1, description="prompt_tuning only.")


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
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"


class FinetuneData(Strict):
    train: str = "data/sample.jsonl"
    validation: Optional[str] = None
    max_source_tokens: Optional[int] = Field(default=None, ge=1)
    max_target_tokens: Optional[int] = Field(default=None, ge=1)


class FinetuneConfig(Strict):
    method: Literal["full", "lora", "prompt_tuning", "ia3", "qlora"] = "lora"
    peft: PeftSettings = Field(default_factory=PeftSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    data: FinetuneData = Field(default_factory=FinetuneData)
