"""Helpers for the scaffolding tests: `lifecycle new` in-process (fast) and as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

@pytest.fixture
def new(monkeypatch, capsys):
    """new(*args, cwd=path) -> (exit code, stdout, stderr) of `lifecycle new ARGS` run in-process."""
    from lifecycle.cli.main import run

    def call(*args, cwd: Path):
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
        with pytest.raises(SystemExit) as exc:
            run(["new", *map(str, args)])
        out, err = capsys.readouterr()
        return exc.value.code, out, err

    return call


@pytest.fixture
def new_subprocess():
    """The real console entry in a child process, stdin not a terminal."""

    def call(*args, cwd: Path, env: dict | None = None, timeout: float = 120):
        return subprocess.run([sys.executable, "-m", "lifecycle", "new", *map(str, args)], cwd=cwd,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    return call
