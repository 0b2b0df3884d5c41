"""configs/eval.yaml: what `lifecycle eval run` scores and against which targets."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvalDataset(Strict):
    path: str = Field(description="JSONL file of examples (relative to the project root).")
    id_field: str = "id"
    input_fields: list[str] = Field(min_length=1)
    reference_field: str
    limit: Optional[int] = Field(default=None, ge=1)


class MetricSpec(Strict):
    name: str
    function: Optional[str] = Field(
        default=None, description="Your own metric: `<package>.<module>:<function>` in the project's src/ package, "
        "`def f(prediction: str, reference: str) -> float` (the run's value is the mean).",
        pattern=r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")
    higher_is_better: Optional[bool] = Field(
        default=None, description="The metric registry's direction, stated to be checked against it; null for "
        "descriptive metrics (length).")
    args: dict = Field(default_factory=dict)


class Target(Strict):
    metric: str
    value: float
    higher_is_better: bool = True


class EvalConfig(Strict):
    task: str
    dataset: EvalDataset
    prompt: str = "configs/prompt.yaml"
    generation: str = "configs/generation.yaml"
    model: str = "configs/model.yaml"
    shots: list[int] = Field(default_factory=lambda: [0], description="The in-context-learning ladder.")
    metrics: list[MetricSpec] = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)
    bootstrap_samples: int = Field(default=1000, ge=100)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    seed: int = 42
