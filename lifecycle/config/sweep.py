"""configs/sweep.yaml (`lifecycle eval sweep --grid configs/sweep.yaml`): generation settings to compare."""

from __future__ import annotations

from typing import Optional, Union

from pydantic import BaseModel, ConfigDict, Field

Scalar = Union[float, int, str, bool, None]


class SweepGrid(BaseModel):
    """configs/sweep.yaml: every point is a complete configs/generation.yaml once its values are filled in."""

    model_config = ConfigDict(extra="forbid")

    shots: int = Field(default=0, ge=0, le=64)
    limit: Optional[int] = Field(default=None, ge=1)
    metric: Optional[str] = None
    seeds: list[int] = Field(default_factory=lambda: [42], min_length=1, max_length=50)
    grid: list[dict[str, Union[Scalar, list[Scalar]]]] = Field(min_length=1, max_length=64)
