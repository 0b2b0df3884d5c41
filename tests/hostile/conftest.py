"""Hostile-input tests: real bytes on disk, the real CLI entry point and error boundary.

`cli(*args)` (tests/conftest.py) runs `lifecycle.cli.main.run` in-process (fast); the helpers
(`one_error`, `set_line`, `edit_line`, FIXTURES) are in hostile_helpers.py."""

from __future__ import annotations

import pytest
from hostile_helpers import FIXTURES


@pytest.fixture
def project(tmp_path):
    """A summarization project (model id not loaded: data errors come first)."""
    from lifecycle.testing.project import write_project

    return write_project(tmp_path / "proj", "summarization", "google/flan-t5-base", FIXTURES / "summarization.jsonl")
