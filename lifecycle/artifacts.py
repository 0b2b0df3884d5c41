"""The content identity of a model's weights: one hash scheme for what was evaluated, served,
quantized or exported, so a gate can tell whether two runs used the same artifact."""

from __future__ import annotations

import hashlib
from pathlib import Path

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def weight_files(folder: str | Path) -> list[Path]:
    root = Path(folder)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)


def weights_hash(folder: str | Path | None) -> str | None:
    """sha256 over the weight files of a model folder (names and bytes, sorted); None if it is no folder."""
    if folder is None:
        return None
    root = Path(folder)
    files = weight_files(root)
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(root).as_posix().encode())
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest() if files else None
