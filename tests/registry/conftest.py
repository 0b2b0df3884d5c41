"""Registry tests: the in-process CLI runner (the real entry point and error boundary)."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli(capsys, monkeypatch):
    """cli(*args, cwd=None) -> (exit code, stdout, stderr)."""
    from lifecycle.cli.main import run

    def call(*args, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            run([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return code, out.out, out.err

    return call
