"""Which weights a run used, by content hash: the served artifact must be the evaluated one.

One hash scheme for both sides (`weights_hash` of serve/model.py: sha256 over the weight files'
names and bytes): the server reports it in /v1/models and every response, a bench run records it,
and `evaluated_artifact` recomputes it for an eval run from what the run recorded (its model folder,
its finetune run's adapter, the quantize run that produced its predictions).

Hashing a large folder takes seconds, so `weights_hash_cached` keys the hash by the files' names,
sizes and modification times (a changed file changes the key)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from lifecycle.serve.model import weight_files, weights_hash

Cache = tuple[Callable[[str], dict | None], Callable[[str, dict], None]]  # (get(key), put(key, value))


def hub_snapshot(ref: str, revision: str | None) -> Path | None:
    """The local snapshot folder of a hub model already in the cache (offline), or None."""
    if not ref or Path(ref).expanduser().exists() or ref.count("/") > 1:
        return None
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=ref, revision=revision, local_files_only=True))
    except Exception:  # not cached, not a repo id, no hub library: nothing to hash here
        return None


def model_folder(ref: str, revision: str | None = None, *, root: Path | None = None) -> Path | None:
    """The folder whose files are the model: a local folder (absolute or under the project) or the
    hub cache's snapshot of `ref` at `revision`."""
    for cand in ([Path(ref).expanduser()] + ([root / ref] if root is not None else [])):
        if cand.is_dir():
            return cand.resolve()
    return hub_snapshot(ref, revision)


def signature(folder: Path) -> str:
    """Names, sizes and mtimes of the weight files: a cheap key that changes when any of them does."""
    parts = []
    for p in weight_files(folder):
        st = p.stat()
        parts.append(f"{p.relative_to(folder).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
    return f"{folder}|" + "|".join(parts)


def weights_hash_cached(folder: Path | None, cache: Cache | None = None) -> str | None:
    if folder is None:
        return None
    if cache is None:
        return weights_hash(folder)
    get, put = cache
    key = signature(folder)
    hit = get(key)
    if hit and hit.get("sha256"):
        return hit["sha256"]
    sha = weights_hash(folder)
    if sha:
        put(key, {"sha256": sha})
    return sha


def evaluated_artifact(run, store, *, root: Path, cache: Cache | None = None) -> dict:
    """{"sha256", "how", "folder"} for the weights an eval run scored (sha256 None when it cannot be told)."""
    meta = run.meta
    model = meta.get("model") if isinstance(meta.get("model"), dict) else {}
    if model.get("weights_sha256"):
        return {"sha256": model["weights_sha256"], "how": "recorded by the eval run", "folder": None}
    q = meta.get("quantize_run")
    if q:
        qrun = _get(store, q)
        qmeta = (qrun.meta.get("quantize") or {}) if qrun else {}
        if meta.get("precision") == "fp32":  # the fp32 side of a quantize run: its source
            return {"sha256": qmeta.get("source_weights_sha256"), "folder": None,
                    "how": f"the source model of quantize run {q} (hash recorded there)"}
        return {"sha256": qmeta.get("weights_sha256"), "folder": None,
                "how": f"the int8 model of quantize run {q} (hash recorded there)"}
    ft = meta.get("finetune_run") or model.get("finetune_run")
    folder = None
    if ft:
        ftrun = _get(store, ft)
        if ftrun is not None:
            from lifecycle.finetune.runs import weights_dir
            from lifecycle.errors import RunError

            try:
                folder = weights_dir(ftrun)
            except RunError:
                folder = None
        if folder is None and model.get("adapter") and Path(model["adapter"]).is_dir():
            folder = Path(model["adapter"])
        how = f"the weights of finetune run {ft}, hashed now"
    elif model.get("id"):
        folder = model_folder(str(model["id"]), model.get("revision"), root=root)
        how = f"the files of {model['id']}" + (f" at {model['revision']}" if model.get("revision") else "") + \
              ", hashed now from the path the eval run recorded"
    else:
        how = "the eval run names no model (scored from a predictions file)"
    sha = weights_hash_cached(folder, cache)
    if folder is not None and sha is None:
        how += " (no weight files there)"
    elif folder is None and (ft or model.get("id")):
        how += " (not found on this machine)"
    return {"sha256": sha, "how": how, "folder": str(folder) if folder else None}


def _get(store, run_id: str):
    from lifecycle.errors import LifecycleError

    try:
        return store.get(run_id)
    except LifecycleError:
        return None
