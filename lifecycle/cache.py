"""A small JSON cache in a project's `.lifecycle/cache/`: one keyed value per name.

Measured answers (a memory estimate simulates a training step; a check may load a tokenizer) are
kept with the hash of everything they depend on; a different key is a miss. An unreadable file is
an empty cache and an unwritable one leaves the answer uncached: the cache never fails a command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class JsonCache:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # a cache that does not read is a miss
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, name: str, key: str) -> Any:
        entry = self._load().get(name)
        return entry.get("value") if isinstance(entry, dict) and entry.get("key") == key else None

    def put(self, name: str, key: str, value: Any) -> None:
        from lifecycle.config.yaml_io import atomic_write_text
        from lifecycle.errors import LockedError
        from lifecycle.locking import locked

        try:  # read-modify-write under the file's lock: parallel commands never drop each other's entries
            with locked(self.path, timeout=10):
                data = self._load()
                data[name] = {"key": key, "value": value}
                atomic_write_text(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n")
        except (OSError, LockedError):  # a read-only or busy project still gets its answer, just not cached
            return
