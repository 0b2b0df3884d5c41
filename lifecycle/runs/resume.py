"""Finishing an interrupted run: the one resume policy of `lifecycle generate --resume` and
`lifecycle eval run --resume`.

A run is finished in its own folder, by one writer, with the configs its run.yaml recorded (never
the current ones), and only while the inputs it recorded are still what they were; otherwise one
run would hold the predictions of two models or two datasets:

- `open_for_resume`: the run by ref; a run of another kind (or that the command cannot resume) or
  a complete run (finished runs are never changed) is a one-line refusal; then it is claimed.
- `check_inputs`: the model (the current configs/model.yaml names the recorded model, revision,
  dtype, device, trust_remote_code and allow_pickle; runs recorded before `config.model`: the
  model id and revision), the weights of a model folder (sha256), the dataset and shot pool
  (sha256), and for an eval run its eval key (eval set + prompt wording).

Core: the commands pass what they computed (the current model config, the eval key); nothing here
knows a stage."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from lifecycle.artifacts import weights_hash
from lifecycle.data import DataNotFound, resolve_source, source_sha256
from lifecycle.errors import DataError, RunError
from lifecycle.runs.store import Run, RunStore

# What names the model whose predictions a run holds (max_context, architecture... shape prompts,
# which the recorded config rebuilds, but not whose answers they are).
MODEL_KEYS = ("model", "revision", "dtype", "device", "trust_remote_code", "allow_pickle")


def open_for_resume(runs_dir: str | Path, ref: str, *, kind: str, what: str, new_run: str,
                    accept: Callable[[Run], bool] | None = None) -> Run:
    """The run `ref` names, claimed (one writer: a second resume gets a one-line error). Refused in
    one line: another kind than `kind` (or one `accept` turns down; `what` names what can be
    resumed), and a complete run. `new_run` is the hint: how to start a new run instead."""
    found = RunStore(runs_dir).get(ref)
    _refuse(found, kind, what, new_run, accept)  # before the lock: a clear line even while it is written
    run = Run(found.path).claim()
    try:
        _refuse(run, kind, what, new_run, accept)  # run.yaml read again under the lock: the last writer's
    except BaseException:
        run.release()
        raise
    return run


def _refuse(run: Run, kind: str, what: str, new_run: str, accept) -> None:
    if run.kind != kind:
        raise RunError(f"run {run.id} is a '{run.kind}' run, not {what}; only those can be resumed here",
                       hint="resume it with the command that made it")
    if accept is not None and not accept(run):
        raise RunError(f"run {run.id} is not {what}; only those can be resumed here", hint=new_run)
    if run.recorded_status == "complete":
        raise RunError(f"run {run.id} is already complete; finished runs are never changed", hint=new_run)


def recorded(config: dict, key: str, validate, *, default: dict | None = None, new_run: str):
    """One config a resumed run recorded in run.yaml `config`, validated (`validate`, e.g. a pydantic
    model's model_validate); missing (without a default) or edited into nonsense is one line."""
    try:
        return validate(config[key] if default is None else config.get(key) or default)
    except (KeyError, TypeError, ValueError) as err:
        raise RunError(f"cannot resume: incomplete or edited run file (config.{key}: {err})".splitlines()[0],
                       hint=new_run) from err


def check_inputs(run: Run, *, model_now: dict, eval_key: str | None = None, new_run: str) -> None:
    """Refuse (one line) when an input `run` recorded is not what it was: `model_now` is the current
    configs/model.yaml as the run's command resolves it (ModelConfig.model_dump); `eval_key` the key
    the eval set and recorded prompt give now (eval runs)."""
    _check_model(run, model_now)
    meta = run.meta
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), dict) else {}
    _check_data(run, dataset.get("path"), dataset.get("sha256"), "dataset", new_run)
    pool = dataset.get("shot_pool") if isinstance(dataset.get("shot_pool"), dict) else {}
    _check_data(run, pool.get("path"), pool.get("sha256"), "shot pool", new_run)
    if eval_key is not None and (meta.get("eval") or {}).get("eval_key") != eval_key:
        raise RunError(f"run {run.id} was started on another eval set or prompt (its eval key differs from the one "
                       "they give now); resuming would mix two eval sets in one run", hint=new_run)


def _check_model(run: Run, now: dict) -> None:
    recorded = (run.meta.get("config") or {}).get("model")
    if isinstance(recorded, dict):
        differ = [k for k in MODEL_KEYS if k in recorded and recorded.get(k) != now.get(k)]
        was = recorded
    else:  # runs recorded before config.model: the model's id and revision
        m = run.meta.get("model") if isinstance(run.meta.get("model"), dict) else {}
        differ = [k for k, old in (("model", m.get("id")), ("revision", m.get("revision")))
                  if old is not None and str(old) != str(now.get(k))]
        was = {"model": m.get("id"), "revision": m.get("revision")}
    if differ:
        raise RunError(
            f"run {run.id} was started with model {was.get('model')} and configs/model.yaml now differs "
            f"({', '.join(f'{k}: {was.get(k)!r} -> {now.get(k)!r}' for k in differ)}): resuming would mix two "
            "models' predictions in one run", hint="put configs/model.yaml back as it was, or start a new run")
    sha = (run.meta.get("model") or {}).get("weights_sha256")
    folder = now.get("model")
    if sha and folder and Path(str(folder)).is_dir():
        if weights_hash(folder) != sha:
            raise RunError(f"the weights in {folder} changed since run {run.id} started (sha256 differs): "
                           "resuming would mix two models' predictions in one run", hint="start a new run instead")


def _check_data(run: Run, path, sha, what: str, new_run: str) -> None:
    """A local file or save_to_disk folder must hash as recorded; a hub dataset has no local bytes
    (the eval key covers the rows read)."""
    if not path or not sha:
        return
    try:
        source = resolve_source(path)
    except DataNotFound:
        raise DataError(f"{path}: the {what} of run {run.id} is gone", hint="restore it, or start a new run") from None
    if source.kind == "hub":
        return
    if source_sha256(source) != sha:
        raise RunError(f"the {what} {path} changed since run {run.id} started (sha256 differs); resuming would mix "
                       f"predictions of two {'datasets' if what == 'dataset' else 'shot pools'}", hint=new_run)
