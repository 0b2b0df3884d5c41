"""configs/generation.yaml: decoding settings, validated with ranges, turned into a GenerationConfig."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class GenerationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: Literal["greedy", "sampling", "beam"] = "greedy"
    max_new_tokens: int = Field(default=128, ge=1, le=32768)
    min_new_tokens: Optional[int] = Field(default=None, ge=0)
    do_sample: Optional[bool] = Field(default=None, description="Default: true for the sampling preset.")
    temperature: Optional[float] = Field(default=None, gt=0, le=100)
    top_k: Optional[int] = Field(default=None, ge=1)
    top_p: Optional[float] = Field(default=None, gt=0, le=1)
    num_beams: Optional[int] = Field(default=None, ge=1, le=64)
    repetition_penalty: Optional[float] = Field(default=None, gt=0)
    no_repeat_ngram_size: Optional[int] = Field(default=None, ge=0)
    seed: int = Field(default=42, description="Seeds sampling so that runs are reproducible.")
    batch_tokens: int = Field(default=8192, ge=1, description="Token budget per batch (inputs + outputs).")
    max_batch_size: int = Field(default=64, ge=1)
