"""`lifecycle runs ls` rows and `lifecycle runs rm`, the one place a run folder is ever deleted.

Removal is guarded: only a real folder directly under runs/ that holds a run.yaml, never a
symlink (it could point anywhere); not while a live process writes it, and not while a check uses
it as evidence (its id appears in a check's evidence), unless forced.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from lifecycle.errors import RunError
from lifecycle.runs.store import RUN_FILE, Run, RunStore


@dataclass
class RunRow:
    id: str
    kind: str
    status: str
    created: str
    metric: str   # "name value [lo, hi]" or "-"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def key_metric_name(root: Path) -> Optional[str]:
    """The project's success metric (lifecycle.yaml scope.success.metric), if the manifest loads."""
    from lifecycle.errors import LifecycleError
    from lifecycle.project import Project

    try:
        return Project(root).manifest.scope.success.metric or None
    except (LifecycleError, AttributeError):
        return None


def _metric_text(run: Run, name: Optional[str]) -> str:
    metrics = ((run.metrics() or {}).get("metrics") or {}) if (run.path / "metrics.json").is_file() else {}
    if not metrics:
        return "-"
    pick = name if name in metrics else next(iter(metrics))
    m = metrics[pick]
    if not isinstance(m, dict) or not isinstance(m.get("value"), (int, float)):
        return "-"
    text = f"{pick} {m['value']:.4g}"
    ci = m.get("ci")
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
        text += f" [{ci[0]:.4g}, {ci[1]:.4g}]"
    return text


def list_rows(root: Path, kind: Optional[str] = None) -> list[RunRow]:
    name = key_metric_name(root)
    rows = []
    for run in RunStore(root / "runs").list(kind=kind):
        try:
            rows.append(RunRow(run.id, run.kind, run.status, str(run.meta.get("created", "")), _metric_text(run, name)))
        except (RunError, ValueError):
            rows.append(RunRow(run.id, "?", "unreadable", "", "-"))
    return rows


def _ids_in(value: Any, ids: set[str], found: set[str]) -> None:
    if isinstance(value, str):
        if value in ids:
            found.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            _ids_in(v, ids, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _ids_in(v, ids, found)


def evidence_users(root: Path, run_id: str) -> list[str]:
    """Ids of the checks whose current evidence names this run (cached answers for heavy checks)."""
    from lifecycle.checks import run_checks

    users = []
    for result in run_checks(root, measure=False):
        found: set[str] = set()
        _ids_in(result.evidence, {run_id}, found)
        if found:
            users.append(result.id)
    return users


def resolve_for_removal(root: Path, ref: str) -> Run:
    runs_dir = root / "runs"
    store = RunStore(runs_dir)
    candidate = Path(ref)
    # A path given directly must name a folder inside runs/; an id is looked up in the store.
    if "/" in ref or candidate.is_symlink() or (candidate / RUN_FILE).exists():
        # Compare the parent (resolved) and keep the leaf as named: a symlinked run is never followed.
        if candidate.absolute().parent.resolve() != runs_dir.resolve():
            raise RunError(f"{ref}: not a run folder of this project (only folders directly under {runs_dir} "
                           "are removed)")
        name = candidate.name
    else:
        name = store.get(ref).id
    path = runs_dir / name
    if path.is_symlink():
        raise RunError(f"{path}: a symlink; not removed (it may point outside runs/)",
                       hint="remove the link itself with `rm` if you mean to")
    if not path.is_dir() or not (path / RUN_FILE).is_file() or (path / RUN_FILE).is_symlink():
        raise RunError(f"{path}: not a run folder (no {RUN_FILE}); not removed")
    return Run(path)


def remove_run(root: Path, ref: str, *, force: bool = False) -> tuple[Run, list[str]]:
    """Delete one run folder. Returns the run and the checks that were using it (with force)."""
    root = Path(root).resolve()
    run = resolve_for_removal(root, ref)
    if run.status == "running" and not force:
        raise RunError(f"run {run.id} is running (a live process is writing it); not removed",
                       hint="wait for it to finish, or stop it first; --force removes it anyway")
    users = evidence_users(root, run.id)
    if users and not force:
        raise RunError(f"run {run.id} is evidence for {', '.join(users)}; not removed",
                       hint="`lifecycle check` would lose it; add --force to remove it anyway")
    shutil.rmtree(run.path)  # rmtree removes links inside the folder, never their targets
    return run, users
