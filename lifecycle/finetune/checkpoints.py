"""Checkpoints that survive SIGKILL: find the last COMPLETE one and set aside torn ones.

The Trainer writes `checkpoint-N/` file by file (weights, optimizer, scheduler, RNG, and
trainer_state.json last), so a kill mid-save leaves a folder that looks like a checkpoint but is not.
A checkpoint counts as complete when trainer_state.json parses and names step N, and every file the
resume will load does: the weights, adapter_config.json for an adapter, optimizer, scheduler, the
gradient scaler when there is one, and each process's RNG state (loaded the way the Trainer loads it)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import FinetuneError
from lifecycle.reporting import to_stderr

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
WEIGHT_FILES = ("adapter_model.safetensors", "model.safetensors", "model.safetensors.index.json")


@dataclass
class CheckpointStatus:
    path: Path
    step: int
    problem: str | None  # None when complete

    @property
    def ok(self) -> bool:
        return self.problem is None


def _check_safetensors(path: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        for key in fh.keys():
            fh.get_tensor(key)


def _check_weights(folder: Path) -> str | None:
    present = [f for f in WEIGHT_FILES if (folder / f).is_file()]
    if not present:
        return "no weights file (adapter_model.safetensors or model.safetensors)"
    name = present[0]
    try:
        if name.endswith(".index.json"):
            index = json.loads((folder / name).read_text(encoding="utf-8"))
            for shard in sorted(set(index["weight_map"].values())):
                _check_safetensors(folder / shard)
        else:
            _check_safetensors(folder / name)
    except Exception as err:  # any failure to read means the file was torn
        return f"{name} does not load ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
    return None


def _check_torch_file(path: Path) -> str | None:
    import torch
    from transformers.trainer_pt_utils import safe_globals

    if not path.is_file():
        return f"{path.name} is missing"
    try:
        with safe_globals():  # the allowlist the Trainer itself loads RNG states with (numpy state)
            torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        return f"{path.name} does not load ({type(err).__name__})"
    return None


def _check_adapter_config(folder: Path) -> str | None:
    if not (folder / "adapter_model.safetensors").is_file():
        return None
    path = folder / "adapter_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return f"adapter_config.json does not load ({type(err).__name__})"
    return None if isinstance(data, dict) else "adapter_config.json is not a JSON object"


def check_checkpoint(folder: Path) -> CheckpointStatus:
    m = CHECKPOINT_RE.match(folder.name)
    step = int(m.group(1)) if m else -1
    state = folder / "trainer_state.json"
    if not state.is_file():
        return CheckpointStatus(folder, step, "trainer_state.json is missing (the save was interrupted)")
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return CheckpointStatus(folder, step, f"trainer_state.json does not parse ({err})")
    if not isinstance(data, dict) or data.get("global_step") != step:
        return CheckpointStatus(folder, step, f"trainer_state.json names step {data.get('global_step') if isinstance(data, dict) else '?'}, "
                                f"not {step}")
    problem = _check_weights(folder) or _check_adapter_config(folder)
    optional = [p.name for p in sorted(folder.glob("rng_state*.pth"))] + (["scaler.pt"] if (folder / "scaler.pt").exists() else [])
    for name in ("optimizer.pt", "scheduler.pt", *optional):
        problem = problem or _check_torch_file(folder / name)
    return CheckpointStatus(folder, step, problem)


def list_checkpoints(folder: Path) -> list[Path]:
    """checkpoint-N folders, oldest (lowest N) first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_dir() and CHECKPOINT_RE.match(p.name)]
    return sorted(found, key=lambda p: int(CHECKPOINT_RE.match(p.name).group(1)))


def last_complete_checkpoint(folder: Path, warn=to_stderr) -> Path:
    """The newest complete checkpoint. Newer incomplete ones are renamed `torn-checkpoint-N` (kept
    for inspection, out of the Trainer's way) with a warning; none complete is a FinetuneError."""
    candidates = list_checkpoints(folder)
    if not candidates:
        raise FinetuneError(f"no checkpoint to resume from in {folder}",
                            hint="start a new run with `lifecycle finetune` (without --resume)")
    problems = []
    for path in reversed(candidates):
        status = check_checkpoint(path)
        if status.ok:
            for torn in problems:
                _set_aside(torn[0])
            if problems:
                warn("warning: skipped incomplete checkpoint(s) "
                     + "; ".join(f"{p.name}: {why}" for p, why in problems)
                     + f"; resuming from {path.name}")
            return path
        problems.append((path, status.problem))
    raise FinetuneError(
        f"no complete checkpoint in {folder}: " + "; ".join(f"{p.name}: {why}" for p, why in problems),
        hint="start a new run with `lifecycle finetune` (without --resume)")


def _set_aside(path: Path) -> None:
    target = path.with_name(f"torn-{path.name}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"torn{n}-{path.name}")
    path.rename(target)
