"""The SCOPE answers of `lifecycle new`, validated with pydantic before anything is rendered.

Answers come from three places, later ones winning: the defaults (only under --no-input), an
answers file (`--answers FILE.yaml`, same keys as below) and the command-line flags. Every problem
is reported at once, located at the flag or at the file line that caused it.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lifecycle.errors import ConfigError, ScaffoldError, did_you_mean, located
from lifecycle.manifest import (
    DEFAULT_METRIC, NAME_RE, Adaptation, Data, Device, Hardware, Manifest, Project, Scope,
    Selection, Sensitivity, Success, Task,
)
from lifecycle.scaffold.tasks import spec

PLACEHOLDER_USE_CASE = "TODO: describe the use case in one sentence (edit scope.use_case)"
# Asked in this order by the wizard; required ones have no default outside --no-input.
REQUIRED = ("name", "use_case", "task")


def check_name(value: str) -> str:
    if not NAME_RE.match(value or ""):
        raise ValueError(
            f"'{value}' is not a valid project name: use 1-64 ASCII letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no paths)")
    return value


def parse_memory_gib(value: Any) -> Optional[float]:
    """'24GiB', '24 GB', '512MiB', 24 -> GiB as float, by the one parser (`lifecycle.units`, binary
    units: GB is read as GiB, as cards are sold), so `select --gpu-memory 80GB` means the same."""
    from lifecycle.errors import ConfigError
    from lifecycle.units import parse_memory_gib as _parse

    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ValueError("expected a memory size such as 24GiB")
        return None
    try:
        gib = _parse(value)
    except ConfigError:
        raise ValueError(f"'{value}' is not a memory size; write e.g. 24GiB, 80GB or 512MiB") from None
    if not 0 < gib <= 4096:
        raise ValueError("GPU memory must be between 0 and 4096 GiB")
    return round(gib, 3)


def package_name(name: str) -> str:
    """Project name -> an importable package name for src/."""
    pkg = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()
    if pkg[0].isdigit():
        pkg = "project_" + pkg
    if keyword.iskeyword(pkg) or pkg in {"lifecycle", "tests", "test"}:
        pkg += "_project"
    return pkg


class Answers(BaseModel):
    """What a team decides at the SCOPE stage. Keys are the answers-file keys; flags use dashes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Project name: folder name and (normalised) Python package.")
    use_case: str = Field(min_length=3, max_length=500, description="The use case in one sentence.")
    task: Task
    multi_task: bool = Field(default=False, description="Must one model do several tasks?")
    sensitivity: Sensitivity = Sensitivity.internal
    commercial_use: bool = Field(default=True, description="Must the model licence allow commercial use?")
    device: Device = Device.gpu
    gpu_memory: Optional[float] = Field(default=24.0, description="GiB of one GPU; ignored for cpu.")
    num_gpus: int = Field(default=1, ge=1, le=1024)
    metric: Optional[str] = Field(default=None, description="Success metric; default per task.")
    target: Optional[float] = Field(default=None, description="Target for the metric; default per task.")
    adaptation: Adaptation = Adaptation.prompting
    model: Optional[str] = Field(default=None, description="Hub id or local path; default per task.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v)

    @field_validator("use_case", mode="before")
    @classmethod
    def _one_line(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if any(ord(c) < 32 or ord(c) == 127 for c in v):
                raise ValueError("write the use case as one line of text (no control characters or newlines)")
        return v

    @field_validator("gpu_memory", mode="before")
    @classmethod
    def _memory(cls, v: Any) -> Optional[float]:
        return parse_memory_gib(v)

    @field_validator("model")
    @classmethod
    def _model(cls, v: Optional[str]) -> Optional[str]:
        if v is None:
            return v
        v = v.strip()
        if not v or any(ord(c) < 32 for c in v) or len(v) > 300:
            raise ValueError("expected a hub id such as google/flan-t5-base or a local folder")
        return v

    @model_validator(mode="after")
    def _fill_task_defaults(self) -> "Answers":
        task_spec = spec(self.task)
        default_metric, default_target = DEFAULT_METRIC[self.task]
        if self.metric is None:
            self.metric = default_metric
        elif self.metric not in task_spec.metric_names:
            raise ValueError(did_you_mean(self.metric, task_spec.metric_names, kind=f"metric for {self.task.value}"))
        if self.target is None:
            if self.metric != default_metric:  # the default target is on the default metric's scale
                raise ValueError(f"give a target for metric '{self.metric}' (the default {default_target} "
                                 f"is for {default_metric})")
            self.target = default_target
        if self.model is None:
            self.model = task_spec.default_model
        if self.device == Device.cpu:
            self.gpu_memory = None
        elif self.gpu_memory is None:
            raise ValueError("gpu_memory is required when device is gpu (or use device: cpu)")
        return self

    @property
    def package(self) -> str:
        return package_name(self.name)

    def to_manifest(self, *, model_chosen: bool) -> Manifest:
        """The lifecycle.yaml these answers stand for (validated by the same model users edit)."""
        task_spec = spec(self.task)
        metric = task_spec.metric(self.metric)
        hardware = Hardware(device=self.device, gpu_memory_gib=self.gpu_memory,
                            num_gpus=0 if self.device == Device.cpu else self.num_gpus)
        return Manifest(
            project=Project(name=self.name, package=self.package),
            scope=Scope(
                use_case=self.use_case, task=self.task, multi_task=self.multi_task,
                data_sensitivity=self.sensitivity, commercial_use=self.commercial_use, hardware=hardware,
                success=Success(metric=self.metric, target=self.target, higher_is_better=metric.higher_is_better),
                adaptation=self.adaptation,
            ),
            data=Data(source=task_spec.dataset),
            selection=Selection(model=self.model if model_chosen else None,
                                reason="given to `lifecycle new --model`" if model_chosen else None),
        )


# Where each answer came from, so that an error points at the flag or the file line.
class Sources:
    def __init__(self) -> None:
        self.flags: dict[str, Any] = {}
        self.file_data: dict[str, Any] = {}
        self.file_loaded = None  # LoadedYaml
        self.file_path: Path | None = None
        self.defaults: dict[str, Any] = {}
        self.asked: dict[str, Any] = {}  # answered in the wizard

    def merged(self) -> dict[str, Any]:
        return {**self.defaults, **self.asked, **self.file_data, **self.flags}

    def where(self, field: str) -> tuple[Path | None, int | None, str]:
        if field in self.flags:
            return None, None, "--" + field.replace("_", "-")
        if field in self.asked:
            return None, None, field
        if field in self.file_data and self.file_loaded is not None:
            return self.file_path, self.file_loaded.line_of((field,)), field
        return self.file_path, None, field


def load_answers_file(path: str | Path, sources: Sources) -> None:
    """Read `--answers FILE.yaml` with the safe loader (duplicate keys, tags, aliases: located errors)."""
    from lifecycle.config.yaml_io import load_yaml

    loaded = load_yaml(path)
    data = loaded.data if loaded.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(located(path, 1, None, "expected a mapping of answers (name: ..., task: ...)"))
    sources.file_loaded, sources.file_path, sources.file_data = loaded, Path(path), dict(data)


def missing_answers(values: dict[str, Any]) -> list[str]:
    return [k for k in REQUIRED if values.get(k) in (None, "")]


def validate_answers(sources: Sources) -> Answers:
    """All problems at once, each located at its flag or file line."""
    values = sources.merged()
    try:
        return Answers.model_validate(values)
    except ValidationError as err:
        problems, fields = [], []
        for e in err.errors():
            loc = tuple(e.get("loc", ()))
            msg = e.get("msg", "invalid").removeprefix("Value error, ")
            if e.get("type") == "extra_forbidden":
                msg = "unknown answer; " + did_you_mean(str(loc[0]), list(Answers.model_fields), kind="key")
            elif e.get("type") == "enum" and loc:  # `--task summarisation`: the nearest names, as `models ls` says
                choices = [m.value for m in Answers.model_fields[str(loc[0])].annotation]
                msg = did_you_mean(str(e.get("input")), choices, kind=str(loc[0]).replace("_", " "))
            if not loc:  # a whole-model check: blame the answer it names
                field = next((f for f in ("target", "metric", "gpu_memory") if f in msg), None)
                loc = (field,) if field else ()
            if loc:
                fields.append(str(loc[0]))
                path, line, where = sources.where(str(loc[0]))
                problems.append(located(path, line, where, msg) if path else f"{where}: {msg}")
            else:
                problems.append(msg)
        error = ScaffoldError(problems[0] if len(problems) == 1 else
                              f"{len(problems)} problems:\n  " + "\n  ".join(problems),
                              hint="see `lifecycle new --help` for every answer and its flag")
        error.fields = fields  # the wizard asks these again
        raise error from err
