"""Shared fixtures: tiny real models built once per session, a project writer, a CLI runner.

No test touches the network: the hub is switched off and HF_HOME points at a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
DIALOGSUM = REPO.parent / "shared" / "data" / "dialogsum" / "dev.jsonl"


@pytest.fixture(scope="session", autouse=True)
def _offline_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("hf_home")
    old = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_HOME", "HF_DATASETS_OFFLINE", "TRANSFORMERS_NO_ADVISORY_WARNINGS")}
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(home),
                      TRANSFORMERS_NO_ADVISORY_WARNINGS="1")
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _corpus() -> list[str]:
    from lifecycle.testing import DEFAULT_CORPUS

    texts = list(DEFAULT_CORPUS)
    for f in FIXTURES.glob("*.jsonl"):
        for line in f.read_text(encoding="utf-8").splitlines():
            texts.extend(str(v) for v in json.loads(line).values())
    return texts


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory) -> Path:
    from lifecycle.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-t5", "t5", texts=_corpus())


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    from lifecycle.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-gpt2", "gpt2", texts=_corpus())


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    from lifecycle.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-bert", "bert", texts=_corpus())


@pytest.fixture
def dialogsum_path() -> Path:
    if not DIALOGSUM.is_file():
        pytest.skip("../shared/data/dialogsum/dev.jsonl is not present")
    return DIALOGSUM


@pytest.fixture
def make_project(tmp_path):
    """make_project(task="summarization", model=path_or_id, **kw) -> project root with the task's fixture data."""
    from lifecycle.testing.project import write_project

    def make(task: str = "summarization", model: str | Path = "google/flan-t5-base", name: str = "demo", **kw) -> Path:
        return write_project(tmp_path / name, task, str(model), FIXTURES / f"{task}.jsonl", **kw)

    return make


@pytest.fixture
def cli(capsys):
    """cli(*args) -> (exit code, stdout, stderr) through the real entry point and error boundary,
    in this process (fast). Folders with their own `cli` fixture (cwd-taking) override it."""
    from lifecycle.cli.main import run

    def call(*args):
        capsys.readouterr()
        try:
            run([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


@pytest.fixture
def run_cli():
    """run_cli(*args, cwd=..., env=..., input=...) -> CompletedProcess of `python -m lifecycle ARGS`."""

    def run(*args, cwd=None, env=None, input=None, timeout=600):
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "lifecycle", *map(str, args)], cwd=cwd, env=full_env,
                              input=input, capture_output=True, text=True, timeout=timeout)

    return run
