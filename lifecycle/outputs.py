"""Folders the tool writes as a whole (a merged model, an export): staged beside the target, marked
as ours, and replaced only when the folder being replaced carries our marker of the same kind.

The rule it enforces: no command deletes or overwrites what it did not create. A folder without
the marker (a project, `runs/`, `data/`, a user's model folder) is never replaced, whatever the
flags; `--overwrite` replaces only an earlier output of the same kind.

A kill at any instant leaves either the old folder or the new one in place, plus at most a staging
folder, which the next call removes (its lock is free once its process is gone).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from lifecycle.errors import LifecycleError
from lifecycle.locking import FileLock, is_locked, lock_path

MARKER = ".lifecycle-output.json"
_STAGE = ".lifecycle-staging-"


class OutputError(LifecycleError):
    """A write would replace or delete something the tool did not create; nothing was changed."""


def read_marker(folder: Path) -> dict | None:
    f = Path(folder) / MARKER
    if f.is_symlink() or not f.is_file():
        return None
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # unreadable or hostile: not our marker
        return None
    return data if isinstance(data, dict) else None


def write_marker(folder: Path, kind: str, **info) -> None:
    from lifecycle.config.yaml_io import atomic_write_text

    atomic_write_text(Path(folder) / MARKER, json.dumps({"kind": kind, **info}, indent=2, default=str) + "\n")


def check_target(target: Path, kind: str, *, overwrite: bool, protected: tuple[Path, ...] = ()) -> None:
    """Refuse a target that is, contains or replaces something the tool did not write as `kind`."""
    target = Path(target)
    if target.is_symlink():
        raise OutputError(f"{target} is a symlink; refusing to write through it", hint="pass a real folder with --out")
    resolved = target.resolve()
    for guard in protected:
        guard = guard.resolve()
        if resolved == guard or guard.is_relative_to(resolved):
            raise OutputError(f"{target} is or contains {guard}; refusing to write a {kind} there",
                              hint="pass a new folder with --out, e.g. models/merged")
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"{target} exists and is not a folder; nothing was changed", hint="pass a new folder with --out")
    if not any(target.iterdir()):
        return  # an empty folder: nothing to lose
    marker = read_marker(target)
    if marker is None or marker.get("kind") != kind:
        what = f"a {marker.get('kind')} output" if marker else "a folder this tool did not write"
        raise OutputError(f"{target} is {what}; it is never replaced, not even with --overwrite",
                          hint="pass a new folder with --out")
    if not overwrite:
        raise OutputError(f"{target} already exists (an earlier {kind})",
                          hint="pass --overwrite to replace it, or --out ANOTHER_DIR")


def clean_stale_staging(parent: Path, prefix: str = _STAGE) -> list[Path]:
    """Remove staging folders left by killed processes (their lock is free). Returns what went."""
    removed = []
    if not Path(parent).is_dir():
        return removed
    for p in Path(parent).glob(f"{prefix}*"):
        if not p.is_dir() or p.is_symlink():
            continue
        if is_locked(_lock_name(p)):
            continue  # a live process is still writing it
        if prefix == _STAGE and "-old-" in p.name:  # killed mid-swap: the previous output, put back if nothing replaced it
            original = p.with_name(p.name[len(_STAGE):].rsplit("-old-", 1)[0])
            if not original.exists():
                os.rename(p, original)
                continue
        shutil.rmtree(p, ignore_errors=True)
        lock_path(_lock_name(p)).unlink(missing_ok=True)
        removed.append(p)
    return removed


def _lock_name(staging: Path) -> Path:
    return staging.with_name(staging.name + ".stage")  # FileLock adds .lock beside it, not inside


def new_staging(parent: Path, prefix: str = _STAGE) -> tuple[Path, Callable[[], None]]:
    """A fresh staging folder in `parent`, locked while this process lives, after removing the ones
    killed processes left. Returns (folder, done): `done()` removes what is left of it and its lock."""
    clean_stale_staging(parent, prefix)
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    lock = FileLock(_lock_name(staging)).acquire(timeout=0)

    def done() -> None:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        lock.release()
        lock.path.unlink(missing_ok=True)

    return staging, done


@contextmanager
def staged_output(target: Path, kind: str, *, overwrite: bool, protected: tuple[Path, ...] = (),
                  **marker_info) -> Iterator[Path]:
    """Yield a staging folder beside `target`; on success it is marked and moved into place
    (replacing an earlier `kind` output only when `overwrite`). On any failure, nothing changes."""
    target = Path(target)
    check_target(target, kind, overwrite=overwrite, protected=protected)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging, done = new_staging(target.parent, f"{_STAGE}{target.name}-")
    try:
        yield staging
        write_marker(staging, kind, **marker_info)
        check_target(target, kind, overwrite=overwrite, protected=protected)  # it may have changed meanwhile
        _swap_into_place(staging, target)
    finally:
        done()


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    if not any(target.iterdir()):
        target.rmdir()
        os.rename(staging, target)
        return
    # Move the old output aside (still a staging name, so a kill here leaves it for cleanup), then
    # the new one in: at every instant either the old or the new folder is at `target`.
    aside = target.with_name(f"{_STAGE}{target.name}-old-{os.getpid()}")  # see clean_stale_staging
    os.rename(target, aside)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)
