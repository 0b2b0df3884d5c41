"""The typed run record: what every run.yaml and metrics.json holds, whatever made it.

The common fields are typed and validated on read (a run folder whose record does not validate is
one line naming the run and the field, and listings skip it). Each stage adds its own section
(`eval`, `training`, `budget`, `evaluation`, ...): those stay open (extra fields allowed) so a stage
can add one without touching this file; what a section holds is the stage's own contract.
JSON Schemas: `lifecycle schema run` / `lifecycle schema metrics` (lifecycle/schemas/).
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lifecycle.errors import RunError

Status = Literal["running", "complete", "failed", "interrupted"]


class Owner(BaseModel):
    """The process that writes the run; its lock (runs/<id>/.lock) is held while it lives."""

    model_config = ConfigDict(extra="forbid")
    pid: int
    host: str


class RunRecord(BaseModel):
    """run.yaml."""

    model_config = ConfigDict(extra="allow")
    id: str
    kind: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    status: Status
    created: str
    finished: Optional[str] = None
    wall_time_s: Optional[float] = None
    user: Optional[str] = None
    owner: Optional[Owner] = None  # absent in runs recorded before ownership locks
    command: list[str] = Field(default_factory=list)
    model: dict[str, Any] = Field(default_factory=dict)
    dataset: dict[str, Any] = Field(default_factory=dict)
    seed: Optional[int] = None
    config: dict[str, Any] = Field(default_factory=dict)
    config_hash: Optional[str] = None
    versions: dict[str, str] = Field(default_factory=dict)
    error: Optional[str] = None


class MetricEntry(BaseModel):
    """One metric of metrics.json: the value, its interval and how to read it."""

    model_config = ConfigDict(extra="allow")
    value: Optional[float] = None
    ci: Optional[list[Optional[float]]] = None
    n: Optional[int] = None
    higher_is_better: Optional[bool] = None
    aggregation: Optional[str] = None


class MetricsDoc(BaseModel):
    """metrics.json."""

    model_config = ConfigDict(extra="allow")
    n: Optional[int] = None
    metrics: dict[str, MetricEntry] = Field(default_factory=dict)


def _first_problem(err: ValidationError) -> str:
    problem = err.errors()[0]
    where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {problem['msg']}{more}"


def validate_record(data: Any, where: str) -> RunRecord:
    if not isinstance(data, dict):
        raise RunError(f"{where}: not a run record (expected a mapping)")
    try:
        return RunRecord.model_validate(data)
    except ValidationError as err:
        raise RunError(f"{where}: invalid run record: {_first_problem(err)}",
                       hint="this run is skipped by checks and listings; restore the file or remove the run") from None


def validate_metrics(data: Any, where: str) -> MetricsDoc:
    try:
        return MetricsDoc.model_validate(data)
    except ValidationError as err:
        raise RunError(f"{where}: invalid metrics file: {_first_problem(err)}") from None
