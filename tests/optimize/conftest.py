"""The serving fixtures (tiny models with re-drawn weights, the in-process CLI, a loopback server),
shared with tests/serve/conftest.py: optimize tests quantize and export what those tests serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serve.conftest import _one_thread, cli, lively, start_server  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def opt_t5(tiny_t5, tmp_path_factory) -> Path:
    return lively(tiny_t5, tmp_path_factory.mktemp("opt-models") / "t5")


@pytest.fixture(scope="session")
def opt_gpt2(tiny_gpt2, tmp_path_factory) -> Path:
    return lively(tiny_gpt2, tmp_path_factory.mktemp("opt-models") / "gpt2")
