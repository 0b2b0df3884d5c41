"""The task registry as the template sees it: `lifecycle.tasks` (every per-task fact) with each
suite metric's direction filled in from the metric registry, so that the `configs/eval.yaml` a new
project gets says what `lifecycle eval metrics` says. Read by the answers model, the template
(through the Jinja extension) and the tests; nothing here is a second copy of a task fact."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.evaluation.metrics.registry import MetricDef, suite
from lifecycle.tasks import TASKS as _TASKS
from lifecycle.tasks import TaskSpec as CoreTaskSpec
from lifecycle.tasks import Task, get_task

__all__ = ["MetricDef", "TaskSpec", "TASKS", "spec"]


@dataclass(frozen=True)
class TaskSpec:
    """A registry entry (`core`) whose `metrics` carry their direction; other attributes are the core's."""

    core: CoreTaskSpec
    metrics: tuple[MetricDef, ...]

    def __getattr__(self, name: str):
        if name == "core":  # not yet set (copy/pickle): no recursion
            raise AttributeError(name)
        return getattr(self.core, name)

    @property
    def task(self) -> Task:
        return Task(self.core.name)

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    def metric(self, name: str) -> MetricDef:
        return next(m for m in self.metrics if m.name == name)


TASKS: dict[Task, TaskSpec] = {Task(name): TaskSpec(core, suite(name)) for name, core in _TASKS.items()}


def spec(task: Task | str) -> TaskSpec:
    return TASKS[Task(get_task(task).name)]
