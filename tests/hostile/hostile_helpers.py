"""Helpers of the hostile-input tests (a module of its own: importing `conftest` by name picks
whichever folder's conftest was imported first)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def one_error(err: str) -> str:
    """Exactly one `error:` line on stderr and no traceback; returns that line."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def set_line(path, index: int, new: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[index] = new
    path.write_bytes(b"\n".join(lines))


def edit_line(path, index: int, fn) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[index] = fn(lines[index])
    path.write_bytes(b"\n".join(lines))
