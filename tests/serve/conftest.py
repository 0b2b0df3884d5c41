"""A real server on a loopback port (uvicorn in a thread) over tiny models built on the fly.

The weights are re-drawn wider (std 0.3) so that greedy outputs depend on the input: a test that
compares served and direct outputs then really checks that rows are not mixed up in a batch."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest


def lively(src: Path, dst: Path, *, std: float = 0.3, seed: int = 0) -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    if dst.exists():
        return dst
    shutil.copytree(src, dst)
    config = AutoConfig.from_pretrained(dst)
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model = auto.from_pretrained(dst)
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, std)
    model.save_pretrained(dst)
    return dst


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def chat_gpt2(serve_gpt2, tmp_path_factory) -> Path:
    """The serve GPT-2 with a chat template (messages go through it, not the prompt config)."""
    from transformers import AutoTokenizer

    model = tmp_path_factory.mktemp("serve-models") / "gpt2-chat"
    shutil.copytree(serve_gpt2, model)
    tok = AutoTokenizer.from_pretrained(model)
    tok.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    tok.save_pretrained(model)
    return model


@pytest.fixture(scope="session")
def serve_t5(tiny_t5, tmp_path_factory) -> Path:
    return lively(tiny_t5, tmp_path_factory.mktemp("serve-models") / "t5")


@pytest.fixture(scope="session")
def serve_gpt2(tiny_gpt2, tmp_path_factory) -> Path:
    return lively(tiny_gpt2, tmp_path_factory.mktemp("serve-models") / "gpt2")


@pytest.fixture
def cli(monkeypatch, capsys):
    """cli(*args, cwd=...) -> (returncode, stdout, stderr) of `lifecycle ARGS` in this process."""
    from lifecycle.cli.main import run

    def invoke(*args, cwd):
        argv = [str(a) for a in args]
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["lifecycle", *argv])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            run(argv)
        out = capsys.readouterr()
        return SimpleNamespace(returncode=exit_info.value.code, stdout=out.out, stderr=out.err)

    return invoke


@pytest.fixture
def start_server():
    """start_server(project_root, **serve_config) -> (url, ServedModel); stopped after the test."""
    from contextlib import ExitStack

    from lifecycle.config.serve import ServeConfig
    from lifecycle.project import Project
    from lifecycle.serve.app import create_app
    from lifecycle.serve.model import load_served
    from lifecycle.serve.server import ServerThread

    stack = ExitStack()

    def start(root: Path, *, run: str | None = None, model: str | None = None, **cfg):
        served = load_served(Project(root), run=run, model=model)
        config = ServeConfig(port=0, **cfg)
        url = stack.enter_context(ServerThread(create_app(served, config), config))
        return url, served

    with stack:
        yield start
