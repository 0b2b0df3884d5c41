"""Pydantic models of `lifecycle.yaml`, the project's decisions across the four stages.

The manifest is user-owned: the CLI reads it everywhere and writes it only when asked
(`lifecycle select --apply`), through `config.yaml_io.update_yaml`, which keeps comments and order.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lifecycle.tasks import TASKS, Task  # noqa: F401  (Task is part of this module's API)

MANIFEST_FILE = "lifecycle.yaml"
SCHEMA_VERSION = 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Sensitivity(str, Enum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


class Adaptation(str, Enum):
    prompting = "prompting"
    peft = "peft"
    full = "full"


class Device(str, Enum):
    gpu = "gpu"
    cpu = "cpu"


# The success metric a task gets unless the team says otherwise, and a modest first target
# (from the task registry).
DEFAULT_METRIC = {Task(t.name): (t.default_metric, t.default_target) for t in TASKS.values()}

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Project(Strict):
    name: str = Field(description="Project name; also the folder and (normalised) the Python package.")
    package: str = Field(description="Python package under src/ holding the team's code.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return v

    @field_validator("package")
    @classmethod
    def _package(cls, v: str) -> str:
        if not v.isidentifier() or not v.isascii():
            raise ValueError("must be a Python identifier (letters, digits, '_')")
        return v


class Hardware(Strict):
    device: Device = Device.gpu
    gpu_memory_gib: Optional[float] = Field(
        default=24.0, gt=0, le=4096, description="Memory of one GPU in GiB; null for CPU-only.")
    num_gpus: int = Field(default=1, ge=0, le=1024)

    @model_validator(mode="after")
    def _cpu_has_no_gpu_memory(self) -> "Hardware":
        if self.device == Device.gpu and self.gpu_memory_gib is None:
            raise ValueError("gpu_memory_gib is required when device is gpu")
        return self


class Success(Strict):
    metric: str = Field(description="Metric name from `lifecycle eval metrics`, e.g. rougeL.")
    target: float = Field(description="Value the best run's lower confidence bound must reach.")
    higher_is_better: bool = True


class Scope(Strict):
    use_case: str = Field(min_length=3, max_length=500, description="The use case in one sentence.")
    task: Task
    multi_task: bool = Field(default=False, description="Must one model do many tasks?")
    data_sensitivity: Sensitivity = Sensitivity.internal
    commercial_use: bool = Field(default=True, description="Must the licence allow commercial use?")
    hardware: Hardware = Field(default_factory=Hardware)
    success: Success
    adaptation: Adaptation = Adaptation.prompting
    labels: Optional[list[str]] = Field(
        default=None, description="Classification: the label set answers are scored against "
        "(configs/prompt.yaml `labels` overrides it).")


class Selection(Strict):
    model: Optional[str] = Field(default=None, description="Hub id or local path of the chosen model.")
    revision: Optional[str] = None
    reason: Optional[str] = None


class AdaptationFiles(Strict):
    prompt: str = "configs/prompt.yaml"
    generation: str = "configs/generation.yaml"
    finetune: str = "configs/finetune.yaml"


class EvaluationFiles(Strict):
    config: str = "configs/eval.yaml"


class Alignment(Strict):
    """ADAPT & ALIGN with human feedback: what `lifecycle check adapt` asks of preference evidence."""

    method: Optional[Literal["dpo", "ipo"]] = Field(default=None, description="Preference tuning the project "
                                                     "ships (`lifecycle align dpo`); null: no alignment step.")
    judge: Literal["reward_model", "judge", "people"] = Field(default="reward_model", description="Who decides the "
                                                              "win-rate of `lifecycle align eval`.")
    min_pairs: int = Field(default=20, ge=1, description="Preference pairs needed before training "
                           "(adapt.preferences_collected).")
    min_kappa: float = Field(default=0.4, ge=-1, le=1, description="Lowest Cohen's kappa (CI lower bound) between "
                             "two annotators, or between a judge and people before the judge may gate.")


class Integration(Strict):
    serving: Optional[str] = Field(default=None, description="How the model will be served (later).")
    notes: Optional[str] = None
    latency_p95_ms: Optional[float] = Field(default=None, gt=0, description="Target: end-to-end p95 latency of a "
                                            "request (ms), measured by `lifecycle serve bench`.")
    requests_per_s: Optional[float] = Field(default=None, gt=0, description="Target: requests per second the "
                                            "server sustains at that latency (`lifecycle serve bench`).")
    quantization_tolerance: Optional[float] = Field(default=None, ge=0, description="Largest quality loss on the "
                                                    "success metric a quantized model may show (the CI's far end).")


class Data(Strict):
    sample: str = Field(default="data/sample.jsonl", description="Small sample shipped with the project.")
    source: Optional[str] = Field(default=None, description="Where the real data lives (hub id or path).")


class Manifest(Strict):
    """lifecycle.yaml"""

    schema_version: int = SCHEMA_VERSION
    project: Project
    scope: Scope
    data: Data = Field(default_factory=Data)
    selection: Selection = Field(default_factory=Selection)
    adaptation: AdaptationFiles = Field(default_factory=AdaptationFiles)
    evaluation: EvaluationFiles = Field(default_factory=EvaluationFiles)
    alignment: Alignment = Field(default_factory=Alignment)
    integration: Integration = Field(default_factory=Integration)

    @field_validator("schema_version")
    @classmethod
    def _version(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"this lifecycle supports schema_version {SCHEMA_VERSION}")
        return v


def load_manifest(path: str | Path) -> Manifest:
    from lifecycle.config.yaml_io import load_config

    return load_config(path, Manifest)
