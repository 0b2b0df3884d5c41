"""Pydantic model of one catalog entry (lifecycle/catalog/models.yaml)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lifecycle.manifest import Task

Architecture = Literal["encoder", "encoder-decoder", "decoder"]
ModelClass = Literal["AutoModel", "AutoModelForSeq2SeqLM", "AutoModelForCausalLM"]

# Which Auto class a checkpoint is counted and estimated as, per architecture.
CLASS_FOR_ARCH: dict[str, str] = {
    "encoder": "AutoModel",
    "encoder-decoder": "AutoModelForSeq2SeqLM",
    "decoder": "AutoModelForCausalLM",
}


class Sources(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: str = Field(description="Where the architecture values came from (config.json URL).")
    parameters: str = Field(description="How the count was obtained and the figure the model card states.")
    context_window: str
    licence: str


class CatalogEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    id: str = Field(description="Hugging Face hub id.")
    aliases: list[str] = Field(default_factory=list, description="Older or short ids that resolve to this entry.")
    family: str = Field(description="transformers model_type family, e.g. t5, llama.")
    architecture: Architecture
    model_class: ModelClass
    parameters: int = Field(ge=0, description="Exact count of unique parameters of `model_class`.")
    context_window: int = Field(gt=0)
    licence: str
    commercial_use: bool
    tasks: list[Task]
    instruction_tuned: bool = False
    gated: bool = Field(default=False, description="The hub repo is gated: its licence must be accepted on the hub "
                        "and a token used (`hf auth login`) before it downloads.")
    config: dict[str, Any] = Field(description="config.json values that shape the parameters.")
    source: Sources

    @field_validator("config")
    @classmethod
    def _has_model_type(cls, v: dict[str, Any]) -> dict[str, Any]:
        if "model_type" not in v:
            raise ValueError("config needs model_type (e.g. t5, llama)")
        return v

    @property
    def names(self) -> list[str]:
        return [self.id, *self.aliases]


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[CatalogEntry]
