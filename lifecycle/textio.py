"""Reading user files as hostile bytes: strict UTF-8 with the byte located, size caps per file type
checked before anything is decoded, JSON lines streamed one bounded line at a time, nesting capped.

Every problem is one `file:line: what` error of the caller's class (DataError, ConfigError, RunError);
nothing here lets a UnicodeDecodeError, RecursionError or MemoryError reach the user.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from lifecycle.errors import DataError, LifecycleError

BOM = b"\xef\xbb\xbf"
MiB = 1024 * 1024

# Caps per file type: large enough for real use, small enough that a hostile file is refused before
# it is decoded, parsed or tokenised. A data line of 4 MiB is ~1M tokens, beyond any context window.
MAX_YAML_BYTES = 2 * MiB             # configs, lifecycle.yaml, run.yaml, answers, attestations
MAX_JSON_BYTES = 64 * MiB            # metrics.json, caches, checkpoint state
MAX_DATA_LINE_BYTES = 4 * MiB        # one example of a dataset
MAX_PREDICTION_LINE_BYTES = 16 * MiB  # one prediction record (prompt with shots + output)
MAX_DATA_FILE_BYTES = 8 * 1024 * MiB  # streamed, so only a sanity bound
MAX_DEPTH = 32                       # nesting of YAML collections / JSON values

_SURROGATE = re.compile("[\ud800-\udfff]")


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def _where(path: Any, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def undecodable(path: Any, data: bytes, err: UnicodeDecodeError, *, line: int | None = None) -> str:
    """`file:line: not UTF-8 (byte 0x.. at column N)` for a decode error in `data` (one line, or a
    whole file when `line` is None: the line is then counted from the bytes)."""
    start = err.start
    if line is None:
        line = data.count(b"\n", 0, start) + 1
        line_start = data.rfind(b"\n", 0, start) + 1
    else:
        line_start = 0
    column = len(data[line_start:start].decode("utf-8", "replace")) + 1
    byte = data[start]
    msg = f"{_where(path, line)}: not UTF-8 (byte 0x{byte:02x} at column {column})"
    if byte >= 0xC0 and err.reason in ("unexpected end of data", "invalid continuation byte"):
        msg += "; a multi-byte character is cut off (the file was truncated or split mid-character?)"
    return msg


_HINT = "save the file as UTF-8 (for Latin-1 text: iconv -f latin1 -t utf-8 FILE > NEW)"


def decode(data: bytes, path: Any, *, line: int | None = None, error: type[LifecycleError] = DataError,
           strip_bom: bool = True) -> str:
    """Strict UTF-8; a leading BOM is accepted and dropped."""
    if strip_bom and data.startswith(BOM):
        data = data[len(BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(undecodable(path, data, err, line=line), hint=_HINT) from None


def _check_size(path: Path, limit: int, kind: str, error: type[LifecycleError]) -> None:
    try:
        size = path.stat().st_size
    except OSError as err:
        raise error(f"{path}: cannot read ({err.strerror or err})") from None
    if size > limit:
        raise error(f"{path}: the file is {human_bytes(size)}, larger than the {human_bytes(limit)} limit for a {kind}",
                    hint="is this the right file?")


def read_text(path: str | Path, *, limit: int = MAX_YAML_BYTES, kind: str = "config file",
              error: type[LifecycleError] = DataError) -> str:
    """A whole small file as text: size cap first, then strict UTF-8 (BOM accepted)."""
    p = Path(path)
    _check_size(p, limit, kind, error)
    try:
        with p.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as err:
        raise error(f"{p}: cannot read ({err.strerror or err})") from None
    if len(data) > limit:  # grew since stat, or a special file
        raise error(f"{p}: larger than the {human_bytes(limit)} limit for a {kind}")
    return decode(data, p, error=error)


def _raw_lines(path: Path, max_line: int, max_file: int, kind: str,
               error: type[LifecycleError]) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes without the newline, whether the newline was there)."""
    _check_size(path, max_file, kind, error)
    try:
        fh = path.open("rb")
    except OSError as err:
        raise error(f"{path}: cannot read ({err.strerror or err})") from None
    with fh:
        lineno = 0
        while True:
            raw = fh.readline(max_line + 1)
            if not raw:
                return
            lineno += 1
            if len(raw) > max_line and not raw.endswith(b"\n"):
                raise error(f"{path}:{lineno}: the line is longer than {human_bytes(max_line)} (the limit for one "
                            f"line of a {kind}); nothing was read past it",
                            hint="is this the right file? one JSON object per line")
            complete = raw.endswith(b"\n")
            raw = raw[:-1] if complete else raw
            yield lineno, raw[:-1] if raw.endswith(b"\r") else raw, complete


def iter_lines(path: str | Path, *, max_line: int = MAX_DATA_LINE_BYTES, max_file: int = MAX_DATA_FILE_BYTES,
               kind: str = "data file", error: type[LifecycleError] = DataError) -> Iterator[tuple[int, str]]:
    """(line number, text without the newline) streamed with bounded memory: a line longer than
    `max_line` bytes is refused after reading at most `max_line + 1` bytes of it."""
    p = Path(path)
    for lineno, raw, _ in _raw_lines(p, max_line, max_file, kind, error):
        yield lineno, decode(raw, p, line=lineno, error=error, strip_bom=lineno == 1)


def _no_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _pairs(pairs: list) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key '{k}'")
        out[k] = v
    return out


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists/dicts nest deeper than `limit` (iterative: no recursion on hostile input)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            if d > limit:
                return True
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
    return False


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def parse_json(text: str, path: Any, *, line: int | None = None,
               error: type[LifecycleError] = DataError) -> Any:
    """json.loads with located errors; refuses NaN/Infinity, duplicate keys, lone surrogates
    (they cannot be written back as UTF-8) and nesting deeper than MAX_DEPTH."""
    where = _where(path, line)
    try:
        value = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_pairs)
    except json.JSONDecodeError as err:
        col = err.colno if line else f"{err.colno} of line {err.lineno}"
        raise error(f"{where}: not valid JSON ({err.msg} at column {col})") from None
    except ValueError as err:
        raise error(f"{where}: not valid JSON ({err})") from None
    except RecursionError:
        raise error(f"{where}: JSON nested deeper than {MAX_DEPTH} levels") from None
    if depth_exceeds(value):
        raise error(f"{where}: JSON nested deeper than {MAX_DEPTH} levels")
    if "\\u" in text and _has_surrogate(value):
        raise error(f"{where}: a \\uD800-\\uDFFF escape without its pair (not a character; it cannot be "
                    "written as UTF-8)")
    return value


def read_json(path: str | Path, *, limit: int = MAX_JSON_BYTES, kind: str = "JSON file",
              error: type[LifecycleError] = DataError) -> Any:
    """A whole JSON file (metrics, caches, state) with every check of `parse_json`."""
    return parse_json(read_text(path, limit=limit, kind=kind, error=error), path, error=error)


def iter_jsonl(path: str | Path, *, max_line: int = MAX_DATA_LINE_BYTES, max_file: int = MAX_DATA_FILE_BYTES,
               kind: str = "data file", error: type[LifecycleError] = DataError,
               torn_tail_ok: bool = False) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) for each non-blank line, streamed. With `torn_tail_ok`, a last
    line without its newline that does not decode or parse (its writer died mid-write) ends the
    iteration instead of raising; anywhere else it is an error."""
    p = Path(path)
    for lineno, raw, complete in _raw_lines(p, max_line, max_file, kind, error):
        try:
            text = decode(raw, p, line=lineno, error=error, strip_bom=lineno == 1)
            if text.strip():
                value = parse_json(text, p, line=lineno, error=error)
            else:
                continue
        except LifecycleError:
            if torn_tail_ok and not complete:
                return
            raise
        yield lineno, value
