"""Reading the project's data: one loader for every format `datasets` reads, with located errors.

Sources (`resolve_source`):
  - `*.jsonl` / `*.ndjson` (and any file of another suffix): the fast path, streamed a bounded line
    at a time (lifecycle.textio): bad UTF-8, a line torn inside a character, a huge line, deep
    nesting or NaN are one `file:line` error. `datasets` is not imported.
  - `*.csv` / `*.tsv` (every column read as text: a CSV has no types), `*.parquet`, `*.json` (an
    array or JSON lines), `*.arrow`: read by `datasets`; problems name `file: row N`.
  - a folder written by `Dataset.save_to_disk` / `DatasetDict.save_to_disk`.
  - `hf://datasets/OWNER/NAME`: a dataset on the Hugging Face hub, when the hub is reachable
    (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE: only from the local cache; no network: one line).
  A `:SPLIT` suffix picks a split of a DatasetDict folder or a hub dataset (`...:validation`);
  without it, a source with several splits is an error listing them.

Field mapping (`fields`, configs/prompt.yaml): `{name the template uses: column in the data}`, e.g.
`{dialogue: text, summary: highlights}`; mapped columns are renamed before anything is checked.

Field types are checked where they are read: a text field takes a string, an id a string or an
integer; nothing is stringified."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from lifecycle.config.prompt import resolve_prompt_config
from lifecycle.errors import DataError
from lifecycle.hashing import file_sha256, stable_hash
from lifecycle.paths import safe_path
from lifecycle.prompt_template import template_fields
from lifecycle.textio import MAX_DATA_LINE_BYTES, decode, iter_jsonl

_JSON_TYPE = {dict: "an object", list: "a list", int: "a number", float: "a number",
              str: "text", type(None): "null"}

JSONL_SUFFIXES = (".jsonl", ".ndjson")
# suffix -> datasets' packaged builder (a CSV/TSV is read with every column as text)
DATASETS_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
                     ".json": "json", ".arrow": "arrow"}
HUB_PREFIX = "hf://datasets/"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_SPLIT = re.compile(r"^[A-Za-z0-9][\w.-]*$")
# `save_to_disk` writes dataset_dict.json (a DatasetDict) or state.json + dataset_info.json (a Dataset)
_DISK_MARKERS = ("dataset_dict.json", "state.json")
HUB_CHECK_TIMEOUT_S = 3.0
_TRUE = {"1", "on", "yes", "true"}


class DataNotFound(DataError):
    """The path names no file, folder or hub dataset."""


def json_type(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _JSON_TYPE.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class DataSource:
    """Where examples come from: `kind` is jsonl, csv, tsv, parquet, json, arrow, disk or hub."""

    given: str                 # as written (shown in messages)
    kind: str
    path: Path | None = None   # file or folder; None for the hub
    hub_id: str | None = None
    split: str | None = None

    @property
    def format(self) -> str:
        return {"disk": "save_to_disk folder", "hub": "hub dataset"}.get(self.kind, self.kind)

    def __str__(self) -> str:
        return self.given


def _hub_part(text: str) -> str | None:
    """The `OWNER/NAME[:SPLIT]` of an hf://datasets/ source, also after it was joined to a project
    root by pathlib (which folds `//` into `/`)."""
    for marker in (HUB_PREFIX, "hf:/datasets/"):
        at = text.find(marker)
        if at >= 0:
            return text[at + len(marker):]
    return None


def _split_suffix(text: str) -> tuple[str, str | None]:
    head, sep, tail = text.rpartition(":")
    if sep and head and _SPLIT.match(tail) and "/" not in tail:
        return head, tail
    return text, None


def resolve_source(path: str | Path) -> DataSource:
    """What `path` names (see the module docstring); DataError when it names nothing readable."""
    text = str(path)
    hub = _hub_part(text)
    if hub is not None:
        ident, split = _split_suffix(hub)
        if not _HUB_ID.match(ident):
            raise DataError(f"{text}: not a hub dataset id (expected {HUB_PREFIX}OWNER/NAME[:SPLIT])")
        return DataSource(text, "hub", hub_id=ident, split=split)
    p = Path(path)
    split = None
    if not p.exists():
        head, split = _split_suffix(text)
        if split is None or not Path(head).is_dir():
            hint = "check the dataset path in your config"
            if _HUB_ID.match(text.strip()) and not Path(text).suffix:
                hint += f"; a hub dataset is written {HUB_PREFIX}{text.strip()}"
            raise DataNotFound(f"{p}: file not found", hint=hint)
        p = Path(head)
    if p.is_dir():
        if not any((p / m).is_file() for m in _DISK_MARKERS):
            raise DataError(f"{p}: a folder, but not one written by `save_to_disk` (no dataset_dict.json or "
                            "state.json in it)", hint="point the config at a data file or a save_to_disk folder")
        return DataSource(text, "disk", path=p, split=split)
    if split is not None:
        raise DataError(f"{text}: a :SPLIT suffix applies to a save_to_disk folder or a hub dataset, not a file")
    suffix = p.suffix.lower()
    if suffix in DATASETS_SUFFIXES:
        return DataSource(text, "tsv" if suffix == ".tsv" else DATASETS_SUFFIXES[suffix], path=p)
    return DataSource(text, "jsonl", path=p)


def source_sha256(source: DataSource, rows: list[dict] | None = None) -> str:
    """The data's content hash: a file's bytes; a folder's files (names and bytes); for a hub
    dataset, the rows that were read (there is no local file to hash)."""
    import hashlib

    if source.kind == "hub":
        return stable_hash({"hub": source.hub_id, "split": source.split, "rows": rows or []}, 64)
    if source.kind == "disk":
        h = hashlib.sha256()
        for f in sorted(q for q in source.path.rglob("*") if q.is_file()):
            h.update(f.relative_to(source.path).as_posix().encode("utf-8") + b"\0")
            h.update(file_sha256(f).encode("ascii"))
        return h.hexdigest()
    return file_sha256(source.path)


def iter_json_objects(path: Path, *, max_line: int = MAX_DATA_LINE_BYTES,
                      kind: str = "data file", torn_tail_ok: bool = False) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSONL file; DataError naming file:line for
    a line that is not UTF-8, not valid JSON or not a JSON object. A data file inside a project must
    not be a symlink that leaves it (lifecycle.paths.safe_path)."""
    path = safe_path(path, what=kind)
    for lineno, obj in iter_jsonl(path, max_line=max_line, kind=kind, torn_tail_ok=torn_tail_ok):
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{lineno}: expected a JSON object, got {json_type(obj)}")
        yield lineno, obj


def _offline() -> str | None:
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return var
    return None


def _hub_reachable() -> tuple[bool, str]:
    """A quick TCP connect to the hub's endpoint (HF_ENDPOINT), so that no network means one line
    in a few seconds rather than datasets' retries."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=HUB_CHECK_TIMEOUT_S).close()
        return True, host
    except OSError:
        return False, host


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _pick_split(obj, source: DataSource):
    """A Dataset from what datasets returned (a DatasetDict needs a split)."""
    import datasets

    if not isinstance(obj, (datasets.DatasetDict, dict)):
        return obj
    splits = list(obj)
    if source.split is not None:
        if source.split not in obj:
            raise DataError(f"{source}: no split '{source.split}'; splits: {', '.join(splits)}")
        return obj[source.split]
    if len(splits) == 1:
        return obj[splits[0]]
    base = source.given.rsplit(":", 1)[0] if source.split else source.given
    raise DataError(f"{source}: holds {len(splits)} splits ({', '.join(splits)}); name one",
                    hint=f"write {base}:{splits[0]} (or another split) in the config")


def _csv_features(source: DataSource):
    """Every column of a CSV/TSV as text (read from its header): a CSV has no types, and a label
    column of digits must not become numbers."""
    import csv

    import datasets

    with source.path.open("rb") as fh:
        first = fh.readline(MAX_DATA_LINE_BYTES + 1)
    header = decode(first.rstrip(b"\r\n"), source.path, line=1)
    names = next(csv.reader([header], delimiter="\t" if source.kind == "tsv" else ","), [])
    if not names or not any(n.strip() for n in names):
        raise DataError(f"{source.path}:1: no header row (the first line names the columns)")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataError(f"{source.path}:1: column {', '.join(repr(d) for d in dup)} appears twice in the header")
    return datasets.Features({n: datasets.Value("string") for n in names})


def _open_with_datasets(source: DataSource, cache_dir: str):
    import datasets

    if source.kind == "disk":
        return _pick_split(datasets.load_from_disk(str(source.path)), source)
    if source.kind == "hub":
        offline = _offline()
        if offline is None:
            ok, host = _hub_reachable()
            if not ok:
                raise DataError(f"{source}: the dataset hub ({host}) is not reachable from here",
                                hint="where it is reachable: datasets.load_dataset(ID).save_to_disk(DIR), then "
                                "point the config at DIR (or export the split to JSONL)")
        try:
            return _pick_split(datasets.load_dataset(source.hub_id, split=source.split), source)
        except DataError:
            raise
        except Exception:
            if offline:
                raise DataError(f"{source}: not in the local datasets cache, and {offline} is set (offline)",
                                hint="unset it where the hub is reachable, or use a save_to_disk folder") from None
            raise
    kwargs: dict = {}
    if source.kind in ("csv", "tsv"):
        kwargs = {"features": _csv_features(source), "na_filter": False}
        if source.kind == "tsv":
            kwargs["sep"] = "\t"
    builder = "csv" if source.kind == "tsv" else source.kind
    return datasets.load_dataset(builder, data_files=str(source.path), split="train", cache_dir=cache_dir,
                                 keep_in_memory=True, **kwargs)


def read_rows(source: DataSource, *, limit: int | None = None) -> list[dict]:
    """The rows of a non-JSONL source as dicts, read by `datasets` (imported here, not at start-up);
    any failure of the reader is one DataError naming the source and the format."""
    import logging
    import tempfile

    import datasets

    if source.path is not None:
        safe_path(source.path, what="data file")
    level = datasets.logging.get_verbosity()
    datasets.logging.set_verbosity(logging.CRITICAL)  # its own "Failed to read ..." lines: ours is the message
    datasets.disable_progress_bars()
    try:
        # File builders write an Arrow cache: a temporary one, so that reading a file leaves nothing behind
        with tempfile.TemporaryDirectory(prefix="lifecycle-data-") as cache:
            ds = _open_with_datasets(source, cache)
            n = len(ds) if limit is None else min(limit, len(ds))
            return [dict(row) for row in ds.select(range(n))]
    except DataError:
        raise
    except Exception as err:  # the reader's own failure (corrupt file, wrong format): located, one line
        raise DataError(f"{source}: cannot read it as {source.format} ({type(err).__name__}: {_one_line(err)})",
                        hint="is this the right file? JSONL, CSV, parquet, JSON, arrow, a save_to_disk folder "
                        f"or {HUB_PREFIX}OWNER/NAME") from None
    finally:
        datasets.logging.set_verbosity(level)
        datasets.enable_progress_bars()


def _where(path, lineno) -> str:
    return f"{path}:{lineno}" if isinstance(lineno, int) else f"{path}: {lineno}"


def check_id(value, path: Path, lineno, id_field: str) -> str:
    """An id is text or an integer (true/false, null, numbers with a fraction, lists are refused:
    str() of them would silently collide or change meaning). `lineno` is a line number or, for a
    non-JSONL source, a label such as 'row 3'."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"{_where(path, lineno)}: {id_field}: must be text or an integer, got {json_type(value)}",
                        hint=f'write it as "{id_field}": "ex-1" or "{id_field}": 1')
    text = str(value)
    if not text.strip():
        raise DataError(f"{_where(path, lineno)}: {id_field}: is empty")
    return text


def check_text(obj: dict, field: str, path: Path, lineno) -> None:
    value = obj[field]
    if not isinstance(value, str):
        raise DataError(f"{_where(path, lineno)}: {field}: must be text, got {json_type(value)}",
                        hint=f'write it as a JSON string: "{field}": "..."')


def check_references(obj: dict, field: str, path: Path, lineno) -> None:
    """A reference field holds one text or a non-empty list of texts."""
    value = obj[field]
    if isinstance(value, str):
        return
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return
    what = "an empty list" if value == [] else (
        "a list with " + json_type(next(v for v in value if not isinstance(v, str)))
        if isinstance(value, list) else json_type(value))
    raise DataError(f"{_where(path, lineno)}: {field}: must be text or a list of texts, got {what}",
                    hint=f'write it as "{field}": "..." or "{field}": ["...", "..."]')


def map_fields(obj: dict, fields: Mapping[str, str] | None, path, lineno) -> dict:
    """`obj` with each mapped column renamed to the name the project uses ({name: column}); a
    mapped column missing from the data is a located error."""
    if not fields:
        return obj
    missing = [(name, col) for name, col in fields.items() if col not in obj]
    if missing:
        name, col = missing[0]
        raise DataError(f"{_where(path, lineno)}: column '{col}' (read as '{name}' by `fields`) is missing; "
                        f"columns: {', '.join(sorted(obj)) or 'none'}",
                        hint="fix `fields` in configs/prompt.yaml: {name used by the template: column in the data}")
    mapped_from = set(fields.values())
    out = {k: v for k, v in obj.items() if k not in mapped_from}
    out.update({name: obj[col] for name, col in fields.items()})
    return out


def _records(source: DataSource, limit: int | None) -> Iterator[tuple[int | str, dict]]:
    if source.kind == "jsonl":
        yield from iter_json_objects(source.path)
        return
    for i, row in enumerate(read_rows(source, limit=limit), start=1):
        yield f"row {i}", row


def load_examples(path: str | Path, *, required: Iterable[str] = (), id_field: str = "id",
                  limit: int | None = None, allow_empty: bool = False, text_fields: Iterable[str] = (),
                  reference_fields: Iterable[str] = (), line_field: str | None = None,
                  fields: Mapping[str, str] | None = None) -> list[dict]:
    """Examples from any source `resolve_source` accepts, the one loader every command uses. Every
    example gets a string `id_field` (its line/row number when the data has none). Raises DataError
    naming file:line (JSONL) or `source: row N` for a malformed line, a non-object, a missing field
    (listing the available ones), a field of the wrong type (`text_fields` take a string,
    `reference_fields` a string or a list of strings, the id a string or an integer), a duplicate
    id, or no examples. `fields` maps project names to data columns (applied first); `line_field`
    stores each example's line (JSONL) or row number under that key."""
    source = resolve_source(path)
    p = source.path if source.path is not None else source.given
    required = list(required)
    text_fields = [f for f in dict.fromkeys(text_fields) if f != id_field]
    reference_fields = list(dict.fromkeys(reference_fields))
    examples: list[dict] = []
    seen: dict[str, int | str] = {}
    for lineno, obj in _records(source, limit):
        obj = map_fields(obj, fields, p, lineno)
        for field in required:
            if field not in obj:
                raise DataError(f"{_where(p, lineno)}: field '{field}' is missing; available fields: "
                                f"{', '.join(sorted(obj)) or 'none'}")
        for field in reference_fields:
            if field in obj:
                check_references(obj, field, p, lineno)
        for field in text_fields:
            if field in obj and field not in reference_fields:
                check_text(obj, field, p, lineno)
        number = lineno if isinstance(lineno, int) else int(lineno.split()[-1])
        ex_id = check_id(obj[id_field], p, lineno, id_field) if id_field in obj else str(number)
        if ex_id in seen:
            first = seen[ex_id]
            first = f"line {first}" if isinstance(first, int) else first
            raise DataError(f"{_where(p, lineno)}: duplicate {id_field} '{ex_id}' (first on {first})")
        seen[ex_id] = lineno
        obj[id_field] = ex_id
        if line_field:
            obj[line_field] = number
        examples.append(obj)
        if limit is not None and len(examples) >= limit:
            break
    if not examples and not allow_empty:
        what = "the file is empty" if source.kind == "jsonl" else "0 rows"
        raise DataError(f"{p}: no examples ({what})")
    return examples


# The name every reader used when only JSONL loaded; it is the same loader (all formats).
load_jsonl = load_examples


def prompt_field_types(prompt_cfg) -> dict:
    """`load_examples` keyword arguments for the fields a prompt config reads: its template fields
    take text, its target a text or a list of texts (references); its `fields` mapping applies."""
    cfg = resolve_prompt_config(prompt_cfg)
    return {"text_fields": template_fields(cfg.template), "reference_fields": [cfg.target_field],
            "fields": dict(cfg.fields or {}) or None}


def field_names(examples: list[dict]) -> list[str]:
    names: dict[str, None] = {}
    for ex in examples:
        names.update(dict.fromkeys(ex))
    return list(names)
