"""configs/model.yaml: which model, how it is loaded."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(description="Hub id (e.g. google/flan-t5-base) or a local folder.")
    revision: Optional[str] = Field(default=None, description="Branch, tag or commit on the hub.")
    architecture: Literal["auto", "seq2seq", "causal"] = "auto"
    dtype: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto", description="auto: bf16 on CUDA when supported, fp32 on CPU.")
    device: str = Field(default="auto", description="auto, cpu, cuda or cuda:N.")
    trust_remote_code: bool = Field(
        default=False, description="Run the model repo's own code (off unless you trust it; a hub id then needs "
        "`revision` pinned to a 40-hex commit).")
    allow_pickle: bool = Field(
        default=False, description="Load pickle weights (pytorch_model.bin) when a folder has no safetensors; "
        "read with torch.load(weights_only=True), never arbitrary objects.")
    max_context: Optional[int] = Field(default=None, ge=1, description="Override the context window read from the config.")
