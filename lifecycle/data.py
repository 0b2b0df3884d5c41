"""Reading the project's data: JSONL files, one example per line, with file:line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from lifecycle.errors import DataError


def iter_json_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSONL file; DataError naming file:line for
    a line that is not valid JSON or not a JSON object."""
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{lineno}: not valid JSON ({err.msg} at column {err.colno})") from err
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def load_jsonl(path: str | Path, *, required: Iterable[str] = (), id_field: str = "id",
               limit: int | None = None, allow_empty: bool = False) -> list[dict]:
    """Examples from a JSONL file. Every example gets a string `id_field` (its line number when the
    file has none). Raises DataError naming file:line for a malformed line, a non-object, a
    missing field (listing the available ones), a duplicate id, or an empty file."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: file not found", hint="check the dataset path in your config")
    required = list(required)
    examples: list[dict] = []
    seen: dict[str, int] = {}
    for lineno, obj in iter_json_objects(p):
        for field in required:
            if field not in obj:
                raise DataError(
                    f"{p}:{lineno}: field '{field}' is missing; available fields: {', '.join(sorted(obj)) or 'none'}"
                )
        ex_id = str(obj.get(id_field, lineno))
        if ex_id in seen:
            raise DataError(f"{p}:{lineno}: duplicate {id_field} '{ex_id}' (first on line {seen[ex_id]})")
        seen[ex_id] = lineno
        obj[id_field] = ex_id
        examples.append(obj)
        if limit is not None and len(examples) >= limit:
            break
    if not examples and not allow_empty:
        raise DataError(f"{p}: no examples (the file is empty)")
    return examples


def field_names(examples: list[dict]) -> list[str]:
    names: dict[str, None] = {}
    for ex in examples:
        names.update(dict.fromkeys(ex))
    return list(names)
