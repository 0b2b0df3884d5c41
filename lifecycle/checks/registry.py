"""The check registry: one function per check, registered with its id, stage, title and kind.

A check function takes a `CheckContext` and returns an `Outcome` (pass / fail / todo, a one-line
message, a one-line fix hint, and the evidence it used). `run_checks` turns outcomes into
`CheckResult`s. A check whose inputs are broken elsewhere (an invalid manifest) reports todo
("blocked"), so that one mistake is counted as one failure, by the check that owns it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from lifecycle.errors import LifecycleError, did_you_mean

STAGES = ("scope", "select", "adapt", "integrate")
STAGE_TITLES = {"scope": "Scope", "select": "Select", "adapt": "Adapt & align", "integrate": "Integrate"}
Status = Literal["pass", "fail", "todo"]
Kind = Literal["auto", "manual"]


@dataclass
class Outcome:
    status: Status
    message: str
    hint: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


def passed(message: str, **evidence: Any) -> Outcome:
    return Outcome("pass", message, None, evidence)


def failed(message: str, hint: str, **evidence: Any) -> Outcome:
    return Outcome("fail", message, hint, evidence)


def todo(message: str, hint: str, **evidence: Any) -> Outcome:
    return Outcome("todo", message, hint, evidence)


class Blocked(Exception):
    """Raised by a CheckContext accessor when an input another check owns is broken."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class CheckSpec:
    id: str
    stage: str
    title: str
    kind: Kind
    func: Callable[..., Outcome]
    heavy: bool = False   # loads a tokenizer/model: `status` uses its cached result only


@dataclass
class CheckResult:
    id: str
    stage: str
    title: str
    kind: Kind
    status: Status
    message: str
    hint: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


_REGISTRY: dict[str, CheckSpec] = {}


def register(id: str, stage: str, title: str, kind: Kind = "auto", *, heavy: bool = False):
    """Decorator: add a check function to the registry under `id` (e.g. "scope.data_sample")."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    if not id.startswith(stage + "."):
        raise ValueError(f"check id {id!r} must start with its stage {stage!r}")

    def wrap(func: Callable[..., Outcome]) -> Callable[..., Outcome]:
        if id in _REGISTRY:
            raise ValueError(f"check {id!r} registered twice")
        _REGISTRY[id] = CheckSpec(id, stage, title, kind, func, heavy)
        return func

    return wrap


def _load_stage_modules() -> None:
    # Importing registers the checks; each module is light (heavy imports live inside checks).
    from lifecycle.checks import adapt, integrate, scope, select  # noqa: F401
    from lifecycle.checks import align  # noqa: F401  (adapt.preferences_collected, adapt.aligned)
    from lifecycle.checks import template  # noqa: F401  (integrate.template_current)
    from lifecycle.checks import augment  # noqa: F401  (integrate.rag_index_fresh, integrate.grounded)
    from lifecycle.checks import serving  # noqa: F401  (integrate.serving_targets, integrate.quantization_quality)


def all_checks(stage: str | None = None) -> list[CheckSpec]:
    _load_stage_modules()
    if stage is not None:
        stage = resolve_stage(stage)
    order = {s: i for i, s in enumerate(STAGES)}
    specs = sorted(_REGISTRY.values(), key=lambda s: order[s.stage])  # stable: module order within a stage
    return [s for s in specs if stage is None or s.stage == stage]


def resolve_stage(stage: str) -> str:
    from lifecycle.errors import ConfigError

    name = stage.strip().lower()
    aliases = {"adapt-and-align": "adapt", "adapt_and_align": "adapt", "selection": "select"}
    name = aliases.get(name, name)
    if name not in STAGES:
        raise ConfigError(did_you_mean(stage, STAGES, kind="stage"),
                          hint="stages: " + ", ".join(STAGES))
    return name


def get_check(check_id: str) -> CheckSpec:
    from lifecycle.errors import ConfigError

    _load_stage_modules()
    if check_id not in _REGISTRY:
        raise ConfigError(did_you_mean(check_id, _REGISTRY, kind="check id"),
                          hint="`lifecycle check --list` shows every check id")
    return _REGISTRY[check_id]


def run_one(spec: CheckSpec, ctx) -> CheckResult:
    try:
        out = spec.func(ctx)
    except Blocked as b:
        out = todo(f"blocked: {b.message}", b.hint)
    except LifecycleError as err:  # an input the check reads is broken: say so, in one line
        out = failed(str(err).splitlines()[0], err.hint or "fix the file named above, then re-run the check")
    return CheckResult(spec.id, spec.stage, spec.title, spec.kind, out.status, out.message, out.hint,
                       out.evidence)


def run_checks(root: str | Path, stage: str | None = None, *, measure: bool = True) -> list[CheckResult]:
    """Run the checks of one stage (or all). With measure=False heavy checks answer from their
    cache only (what `lifecycle status` does, to stay fast)."""
    from lifecycle.checks.context import CheckContext

    ctx = CheckContext(Path(root), measure=measure)
    return [run_one(spec, ctx) for spec in all_checks(stage)]


def summarize(results: list[CheckResult]) -> dict[str, dict[str, int]]:
    """stage -> {"pass": n, "fail": n, "todo": n}."""
    counts = {s: {"pass": 0, "fail": 0, "todo": 0} for s in STAGES}
    for r in results:
        counts[r.stage][r.status] += 1
    return counts


def current_stage(results: list[CheckResult]) -> str | None:
    """The first stage with a failing or open check; None when everything passes."""
    counts = summarize(results)
    return next((s for s in STAGES if counts[s]["fail"] or counts[s]["todo"]), None)
