"""Reading the project's data: JSONL files, one example per line, with file:line errors.

Files are streamed a bounded line at a time (lifecycle.textio): bad UTF-8, a line torn inside a
character, a huge line, deep nesting or NaN are one located error. Field types are checked where
they are read: a text field takes a string, an id a string or an integer; nothing is stringified."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from lifecycle.errors import DataError
from lifecycle.textio import MAX_DATA_LINE_BYTES, iter_jsonl

_JSON_TYPE = {dict: "an object", list: "a list", int: "a number", float: "a number",
              str: "text", type(None): "null"}


def json_type(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _JSON_TYPE.get(type(value), type(value).__name__)


def iter_json_objects(path: Path, *, max_line: int = MAX_DATA_LINE_BYTES,
                      kind: str = "data file", torn_tail_ok: bool = False) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSONL file; DataError naming file:line for
    a line that is not UTF-8, not valid JSON or not a JSON object. A data file inside a project must
    not be a symlink that leaves it (lifecycle.paths.safe_path)."""
    from lifecycle.paths import safe_path

    path = safe_path(path, what=kind)
    for lineno, obj in iter_jsonl(path, max_line=max_line, kind=kind, torn_tail_ok=torn_tail_ok):
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {json_type(obj)}")
        yield lineno, obj


def check_id(value, path: Path, lineno: int, id_field: str) -> str:
    """An id is text or an integer (true/false, null, numbers with a fraction, lists are refused:
    str() of them would silently collide or change meaning)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"{path}:{lineno}: {id_field}: must be text or an integer, got {json_type(value)}",
                        hint=f'write it as "{id_field}": "ex-1" or "{id_field}": 1')
    text = str(value)
    if not text.strip():
        raise DataError(f"{path}:{lineno}: {id_field}: is empty")
    return text


def check_text(obj: dict, field: str, path: Path, lineno: int) -> None:
    value = obj[field]
    if not isinstance(value, str):
        raise DataError(f"{path}:{lineno}: {field}: must be text, got {json_type(value)}",
                        hint=f'write it as a JSON string: "{field}": "..."')


def check_references(obj: dict, field: str, path: Path, lineno: int) -> None:
    """A reference field holds one text or a non-empty list of texts."""
    value = obj[field]
    if isinstance(value, str):
        return
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return
    what = "an empty list" if value == [] else (
        "a list with " + json_type(next(v for v in value if not isinstance(v, str)))
        if isinstance(value, list) else json_type(value))
    raise DataError(f"{path}:{lineno}: {field}: must be text or a list of texts, got {what}",
                    hint=f'write it as "{field}": "..." or "{field}": ["...", "..."]')


def load_jsonl(path: str | Path, *, required: Iterable[str] = (), id_field: str = "id",
               limit: int | None = None, allow_empty: bool = False, text_fields: Iterable[str] = (),
               reference_fields: Iterable[str] = (), line_field: str | None = None) -> list[dict]:
    """Examples from a JSONL file. Every example gets a string `id_field` (its line number when the
    file has none). Raises DataError naming file:line for a malformed line, a non-object, a
    missing field (listing the available ones), a field of the wrong type (`text_fields` take a
    string, `reference_fields` a string or a list of strings, the id a string or an integer), a
    duplicate id, or an empty file. `line_field` stores each example's line number under that key."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: file not found", hint="check the dataset path in your config")
    required = list(required)
    text_fields = [f for f in dict.fromkeys(text_fields) if f != id_field]
    reference_fields = list(dict.fromkeys(reference_fields))
    examples: list[dict] = []
    seen: dict[str, int] = {}
    for lineno, obj in iter_json_objects(p):
        for field in required:
            if field not in obj:
                raise DataError(
                    f"{p}:{lineno}: field '{field}' is missing; available fields: {', '.join(sorted(obj)) or 'none'}"
                )
        for field in reference_fields:
            if field in obj:
                check_references(obj, field, p, lineno)
        for field in text_fields:
            if field in obj and field not in reference_fields:
                check_text(obj, field, p, lineno)
        ex_id = check_id(obj[id_field], p, lineno, id_field) if id_field in obj else str(lineno)
        if ex_id in seen:
            raise DataError(f"{p}:{lineno}: duplicate {id_field} '{ex_id}' (first on line {seen[ex_id]})")
        seen[ex_id] = lineno
        obj[id_field] = ex_id
        if line_field:
            obj[line_field] = lineno
        examples.append(obj)
        if limit is not None and len(examples) >= limit:
            break
    if not examples and not allow_empty:
        raise DataError(f"{p}: no examples (the file is empty)")
    return examples


def prompt_field_types(prompt_cfg) -> dict:
    """`load_jsonl` keyword arguments for the fields a prompt config reads: its template fields
    take text, its target a text or a list of texts (references)."""
    from lifecycle.prompting import resolve_prompt_config, template_fields

    cfg = resolve_prompt_config(prompt_cfg)
    return {"text_fields": template_fields(cfg.template), "reference_fields": [cfg.target_field]}


def field_names(examples: list[dict]) -> list[str]:
    names: dict[str, None] = {}
    for ex in examples:
        names.update(dict.fromkeys(ex))
    return list(names)
