"""Tiny models whose greedy outputs differ from input to input.

The shared tiny models keep their init scale and often repeat one token whatever the input; an
engine test on them could pass while mixing up rows. Re-drawing the weights wider (std 0.3) gives
input-dependent outputs, so "batched == one at a time" really checks row bookkeeping."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# Inputs of clearly different lengths (written for the project).
PROMPTS = [
    "Summarize: the lamp arrived broken.",
    "#Person1#: Can I move my dentist appointment to Friday?\n#Person2#: Friday at ten is free.",
    "Hi",
    "#Person1#: The printer on the third floor is jammed again. #Person2#: I will call the technician; "
    "use the one on the second floor for now. #Person1#: Okay, thanks, I will tell the others as well.",
    "Translate English to German: Good morning, how are you?",
    "The delivery was late and the box was damaged.",
    "Question: When does the store open?",
]


def _lively(src: Path, dst: Path, *, std: float = 0.3, seed: int = 0, eos_boost: float = 0.0) -> Path:
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
        if eos_boost:
            # Make end-of-sequence likely, so that rows of one batch finish at different steps.
            head = model.get_output_embeddings().weight
            head[config.eos_token_id] = head.mean(0) + eos_boost * head[config.eos_token_id]
    model.save_pretrained(dst)
    return dst


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Tiny models are latency-bound: on a shared machine two OpenMP threads spin-wait for each
    other and run 10x slower than one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cli(monkeypatch, capsys):
    """cli(*args, cwd=...) -> (exit code, stdout, stderr) of `lifecycle ARGS` run in this process:
    the same entry point and error boundary as the console script, without re-importing torch
    (a fresh interpreter costs ~10 s per call on a loaded 2-core machine)."""
    import sys
    from types import SimpleNamespace

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
def prompts() -> list[str]:
    return list(PROMPTS)


@pytest.fixture(scope="session")
def lively_t5(tiny_t5, tmp_path_factory) -> Path:
    return _lively(tiny_t5, tmp_path_factory.mktemp("lively") / "t5")


@pytest.fixture(scope="session")
def lively_gpt2(tiny_gpt2, tmp_path_factory) -> Path:
    return _lively(tiny_gpt2, tmp_path_factory.mktemp("lively") / "gpt2")


@pytest.fixture(scope="session")
def eosy_gpt2(tiny_gpt2, tmp_path_factory) -> Path:
    return _lively(tiny_gpt2, tmp_path_factory.mktemp("lively") / "gpt2-eos", eos_boost=3.0)


def _near_tie(src: Path, dst: Path, eps: float = 1e-6) -> Path:
    """A copy of a model whose every odd vocabulary row is the even row before it plus a ~1e-6 relative
    part: whenever such a pair wins, last-bit rounding decides which token comes out."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    if dst.exists():
        return dst
    shutil.copytree(src, dst)
    config = AutoConfig.from_pretrained(dst)
    model = (AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM).from_pretrained(dst)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        head = model.get_output_embeddings().weight
        pair = head[0::2][: head[1::2].shape[0]]
        head[1::2] = pair + eps * torch.randn(pair.shape, generator=g) * pair.norm(dim=1, keepdim=True) / head.shape[1] ** 0.5
    model.save_pretrained(dst)
    return dst


# Wide enough that all its products split between 2 threads (fast_paths.product: >= 128 outputs a thread).
WIDE_T5 = {"d_model": 256, "d_kv": 64, "d_ff": 512, "num_heads": 4}


@pytest.fixture(scope="session")
def near_tie_model(lively_t5, lively_gpt2, tmp_path_factory):
    """near_tie_model("t5" | "gpt2" | "t5-wide") -> the loaded near-tied copy of the lively model
    (built once); "t5-wide": a lively t5 of the WIDE_T5 shape."""
    from lifecycle.loading import load_model
    from lifecycle.testing import build_tiny_model

    built: dict = {}
    root = tmp_path_factory.mktemp("near-tie")

    def get(family: str):
        if family not in built:
            if family == "t5-wide":
                src = _lively(build_tiny_model(root / "t5-wide-src", "t5", size=WIDE_T5), root / "t5-wide-lively")
            else:
                src = {"t5": lively_t5, "gpt2": lively_gpt2}[family]
            built[family] = load_model(str(_near_tie(src, root / family)))
        return built[family]

    return get


@pytest.fixture(scope="session")
def loaded_t5(lively_t5):
    from lifecycle.loading import load_model

    return load_model(str(lively_t5))


@pytest.fixture(scope="session")
def loaded_gpt2(lively_gpt2):
    from lifecycle.loading import load_model

    return load_model(str(lively_gpt2))


@pytest.fixture(params=["t5", "gpt2"])
def loaded(request, loaded_t5, loaded_gpt2):
    return {"t5": loaded_t5, "gpt2": loaded_gpt2}[request.param]
