"""Run folders: `runs/<utc-time>-<kind>-<shorthash>/`.

    run.yaml           resolved config, model id + revision, dataset path + sha256, library
                       versions, seed, command line, status, wall time
    predictions.jsonl  one JSON object per example, streamed (flushed per line) so that an
                       interrupted run resumes without recomputing finished examples
    metrics.json       {"n": N, "metrics": {name: {value, ci: [lo, hi], n, higher_is_better, aggregation}}}
    report.md / report.html / plots/

Runs are append-only: the store creates folders and adds files; it never deletes a run.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator


from lifecycle.errors import DataError, RunError, RunInterruptedError, did_you_mean
from lifecycle.config.yaml_io import atomic_write_text, dump_yaml
from lifecycle.hashing import stable_hash
from lifecycle.locking import FileLock, is_locked
from lifecycle.runs.records import RunRecord, validate_metrics, validate_record

RUN_FILE = "run.yaml"
STATUSES = ("running", "complete", "failed", "interrupted")
PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"
_VERSIONED = ("lifecycle", "genai-lifecycle", "torch", "transformers", "peft", "accelerate",
              "evaluate", "datasets", "tokenizers", "rouge_score", "sacrebleu")


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def library_versions() -> dict[str, str]:
    """Installed versions from package metadata: nothing heavy is imported."""
    from importlib import metadata

    versions = {"python": sys.version.split()[0]}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _sigterm_as_interrupt() -> Callable[[], None]:
    """SIGTERM raises KeyboardInterrupt in the main thread, so a `kill` is recorded like Ctrl-C.
    Returns the function that restores the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def _raise(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, _raise)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


class Run:
    """One run folder. Files are written atomically except predictions, which are streamed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._meta: dict | None = None
        self._lock: FileLock | None = None

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def meta(self) -> dict:
        if self._meta is None:
            from lifecycle.config.yaml_io import parse_yaml
            from lifecycle.errors import ConfigError
            from lifecycle.paths import safe_path
            from lifecycle.textio import MAX_YAML_BYTES, read_text

            f = safe_path(self.path / RUN_FILE, what="run file")
            if not f.is_file():
                raise RunError(f"{self.path}: not a run folder (no {RUN_FILE})")
            # The same safe loader as configs: bad bytes, deep nesting, huge files are one located line.
            try:
                data = parse_yaml(read_text(f, limit=MAX_YAML_BYTES, kind="run file", error=RunError), f).data or {}
            except ConfigError as err:
                raise RunError(f"unreadable run file: {err}") from None
            validate_record(data, f"run {self.id} ({f})")
            self._meta = data
        return self._meta

    @property
    def record(self) -> RunRecord:
        """run.yaml as the typed record (validated)."""
        return RunRecord.model_validate(self.meta)

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", ""))

    @property
    def recorded_status(self) -> str:
        return str(self.meta.get("status", "unknown"))

    @property
    def status(self) -> str:
        """The recorded status, except that a `running` run whose writer is gone (its lock is free:
        killed, crashed, or it could not record its end on a full disk) is `interrupted`."""
        status = self.recorded_status
        if status == "running" and self.meta.get("owner") and not self.is_being_written():
            return "interrupted"
        return status

    def is_being_written(self) -> bool:
        """Whether a live process holds this run (this process included)."""
        return (self._lock is not None and self._lock.held) or is_locked(self.path)

    # ownership: one writer at a time --------------------------------------------------------
    def claim(self, *, timeout: float = 0.0) -> "Run":
        """Become this run's only writer (resume, rescore): a second writer gets a one-line error."""
        if self._lock is None or not self._lock.held:
            self._lock = FileLock(self.path).acquire(timeout=timeout, what=f"run {self.id}")
        return self

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def ensure_writable(self, action: str, *, hint: str | None = None) -> None:
        """Finished runs are immutable: refuse to write results into a complete run."""
        if self.recorded_status == "complete":
            raise RunError(f"run {self.id} is complete and finished runs are never changed; cannot {action}",
                           hint=hint or "start a new run instead")

    @contextmanager
    def recording(self, *, resume_hint: str | None = None, complete: bool = True) -> Iterator["Run"]:
        """Claim the run for the block and record how it ended, in one place: `complete` on success
        (unless the block finished it itself; with complete=False it stays running and claimed, for
        a caller that finishes it later), `interrupted` on Ctrl-C or SIGTERM (raised as
        RunInterruptedError with how to resume), `failed` on any other exception (re-raised)."""
        self.claim()
        restore = _sigterm_as_interrupt()
        ok = False
        try:
            yield self
            ok = True
        except (KeyboardInterrupt, RunInterruptedError) as err:  # the latter: a nested run was interrupted
            self._record_end("interrupted", "interrupted (Ctrl-C or SIGTERM)")
            raise RunInterruptedError(f"run {self.id} interrupted; its finished work is kept",
                                      hint=resume_hint) from err
        except BaseException as err:
            self._record_end("failed", f"{type(err).__name__}: {err}")
            raise
        else:
            if complete and self.recorded_status == "running":
                self.finish("complete")
        finally:
            restore()
            if complete or not ok:
                self.release()

    def _record_end(self, status: str, error: str) -> None:
        # On a full disk this write can fail too; the released lock then still tells readers
        # that the run is no longer running (see `status`), so the original error is what surfaces.
        try:
            self._meta = None  # the block may have written run.yaml through another Run object
            if self.recorded_status == "running":
                self.finish(status, error=error[:2000])
        except (OSError, RunError):
            pass

    def write_meta(self, meta: dict) -> None:
        self._meta = dict(meta)
        atomic_write_text(self.path / RUN_FILE, dump_yaml(self._meta))

    def update_meta(self, **fields: Any) -> None:
        """Add fields to run.yaml; a complete run is refused here, in the one place every writer goes
        through (finished runs are immutable: what a gate or a report read stays what it read)."""
        self._meta = None  # another Run object (or process) may have finished it since this one read it
        self.ensure_writable(f"record {', '.join(sorted(fields))}")
        meta = dict(self.meta)
        meta.update(fields)
        self.write_meta(meta)

    def finish(self, status: str = "complete", **fields: Any) -> None:
        if status not in STATUSES:
            raise RunError(f"unknown run status {status!r}; one of {', '.join(STATUSES)}")
        started = self.meta.get("started_monotonic_unix")
        wall = round(time.time() - started, 3) if started else None
        self.update_meta(status=status, finished=utc_now(), wall_time_s=wall, **fields)
        if status != "running":
            self.release()

    # predictions ---------------------------------------------------------------------------
    @property
    def predictions_path(self) -> Path:
        return self.path / PREDICTIONS_FILE

    def iter_predictions(self) -> Iterator[dict]:
        """Records in file order. A torn last line (the process died mid-write) is skipped;
        a malformed line elsewhere is an error naming file:line."""
        from lifecycle.data import iter_json_objects
        from lifecycle.textio import MAX_PREDICTION_LINE_BYTES

        p = self.predictions_path
        if not p.is_file() and not p.is_symlink():
            return
        # Streamed with a line cap; a symlink out of the project is refused (resume would write
        # through it); a torn last line (no newline: the writer died mid-write) is skipped; an id
        # twice means two writers raced: scoring it would count an example twice, so it is refused.
        seen: dict[str, int] = {}
        for lineno, obj in iter_json_objects(p, max_line=MAX_PREDICTION_LINE_BYTES, kind="predictions file",
                                             torn_tail_ok=True):
            if "id" in obj:
                key = str(obj["id"])
                if key in seen:
                    raise DataError(f"{p}:{lineno}: duplicate id '{key}' (first on line {seen[key]})",
                                    hint="two processes wrote this run at once; start a new run")
                seen[key] = lineno
            yield obj

    def read_predictions(self) -> list[dict]:
        return list(self.iter_predictions())

    def done_ids(self) -> set[str]:
        return {str(r["id"]) for r in self.iter_predictions() if "id" in r}

    def repair_predictions(self) -> None:
        """Drop a torn last line so that appends start on a clean line (used by --resume)."""
        p = self.predictions_path
        if p.is_symlink():
            raise RunError(f"{p} is a symlink; refusing to write predictions through it",
                           hint="replace it with a real file (or start a new run)")
        if not p.is_file():
            return
        data = p.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data[: data.rfind(b"\n") + 1]
            with p.open("r+b") as fh:
                fh.truncate(len(keep))

    def prediction_writer(self) -> "PredictionWriter":
        return PredictionWriter(self.predictions_path)

    # metrics -------------------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    def write_metrics(self, metrics: dict) -> None:
        atomic_write_text(self.metrics_path, json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")

    def metrics(self) -> dict | None:
        """metrics.json, validated against MetricsDoc (a bad file is one line naming it)."""
        from lifecycle.errors import DataError
        from lifecycle.textio import read_json

        if not self.metrics_path.is_file():
            return None
        try:
            data = read_json(self.metrics_path, kind="metrics file")
        except DataError as err:
            raise RunError(f"run {self.id}: unreadable metrics file: {err}") from None
        validate_metrics(data, f"run {self.id} ({self.metrics_path})")
        return data

    def __repr__(self) -> str:
        return f"Run({self.id!r})"


class PredictionWriter:
    """Appends one JSON line per example and flushes it, so a crash loses at most one line."""

    def __init__(self, path: Path) -> None:
        # O_NOFOLLOW: a predictions.jsonl that is a symlink (to a file outside the project) is
        # refused, never written through.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError:
            if Path(path).is_symlink():
                raise RunError(f"{path} is a symlink; refusing to write predictions through it",
                               hint="replace it with a real file (or start a new run)") from None
            raise
        self._fh = os.fdopen(fd, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()

    def write_many(self, records: Iterable[dict]) -> None:
        for r in records:
            self.write(r)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "PredictionWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RunStore:
    """All runs of a project, under `runs/`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.skipped: list[str] = []  # one line per run folder the last list() could not read

    def create(self, kind: str, *, config: dict, model: dict | None = None, dataset: dict | None = None,
               seed: int | None = None, extra: dict | None = None, argv: list[str] | None = None) -> Run:
        """A new run folder with run.yaml written (status: running)."""
        if not kind.isidentifier():
            raise RunError(f"run kind must be an identifier, got {kind!r}")
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        short = stable_hash({"config": config, "model": model, "dataset": dataset, "t": stamp}, 7)
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{stamp}-{kind}-{short}"
        path.mkdir()  # a clash is a real error: runs are never reused
        run = Run(path)
        meta = {
            "id": path.name,
            "kind": kind,
            "status": "running",
            "created": utc_now(),
            "started_monotonic_unix": time.time(),
            "user": _current_user(),
            "owner": {"pid": os.getpid(), "host": socket.gethostname()},
            "command": list(argv if argv is not None else sys.argv),
            "model": model or {},
            "dataset": dataset or {},
            "seed": seed,
            "config": config,
            "config_hash": stable_hash(config),
            "versions": library_versions(),
        }
        meta.update(extra or {})
        run.claim()  # held until finish() or process exit: readers see a live writer
        run.write_meta(meta)
        return run

    @contextmanager
    def new_run(self, kind: str, *, resume_hint: str | None = None, **fields: Any) -> Iterator[Run]:
        """`with store.new_run("eval", config=...) as run:` a run whose end status is recorded
        by `Run.recording` (complete / interrupted / failed)."""
        run = self.create(kind, **fields)
        with run.recording(resume_hint=resume_hint):
            yield run

    def list(self, kind: str | None = None, status: str | None = None) -> list[Run]:
        """Runs oldest first (folder names start with the UTC time)."""
        if not self.root.is_dir():
            return []
        runs = []
        self.skipped = []
        for p in sorted(self.root.iterdir()):
            if not (p / RUN_FILE).is_file():
                continue
            run = Run(p)
            try:
                run.meta  # validates the record: a bad one is skipped (and named in .skipped)
                if kind and run.kind != kind:
                    continue
                if status and run.status != status:
                    continue
            except RunError as err:
                self.skipped.append(str(err))
                continue
            runs.append(run)
        return runs

    def get(self, ref: str | Path) -> Run:
        """A run by folder path, full id, or unique id prefix/suffix."""
        p = Path(ref)
        if (p / RUN_FILE).is_file():
            return Run(p)
        # every folder with a run.yaml, valid or not: naming a broken run gets its own error, not "unknown"
        ids = [p.name for p in sorted(self.root.iterdir()) if (p / RUN_FILE).is_file()] if self.root.is_dir() else []
        hits = [i for i in ids if i == str(ref)] or [i for i in ids if i.startswith(str(ref)) or i.endswith(str(ref))]
        if len(hits) == 1:
            return Run(self.root / hits[0])
        if len(hits) > 1:
            raise RunError(f"run '{ref}' is ambiguous: {', '.join(hits[:5])}")
        if not ids:
            raise RunError(f"no runs yet in {self.root}", hint="create one with `lifecycle generate` or `lifecycle eval run`")
        raise RunError(did_you_mean(str(ref), ids, kind="run"))

    def latest(self, kind: str | None = None, status: str | None = "complete") -> Run | None:
        runs = self.list(kind=kind, status=status)
        return runs[-1] if runs else None
