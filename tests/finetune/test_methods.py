"""Every method trains a tiny real model; target modules per architecture; clear refusals."""

from __future__ import annotations

import pytest
import yaml

from lifecycle.errors import DependencyError, FinetuneError
from lifecycle.finetune.pipeline import FinetuneRequest, finetune
from lifecycle.project import Project


def _train(root, **req):
    lines: list[str] = []
    run = finetune(Project(root), FinetuneRequest(evaluate=False, echo=lines.append, argv=["test"], **req))
    return run, "\n".join(lines)


def _tensors(path):
    from safetensors.torch import load_file

    return load_file(str(path))


@pytest.mark.parametrize("method, expected", [
    # tiny t5: d_model 32, 2+2 layers; LoRA r=4 on q,v: 2 matrices x (32x4 + 4x32) per attention block,
    # 2 encoder self + 2 decoder self + 2 decoder cross attention blocks
    ("lora", 6 * 2 * (32 * 4 + 4 * 32)),
    ("prompt_tuning", 2 * 5 * 32),  # peft prompts encoder and decoder of a seq2seq model: 2 x 5 tokens x d_model
    ("ia3", None),
    ("full", None),
])
def test_each_method_trains_on_t5(ft_project, method, expected):
    root = ft_project(method=method, peft={"r": 4, "alpha": 8, "num_virtual_tokens": 5},
                      training={"max_steps": 1, "save_strategy": "no"})
    run, out = _train(root)
    meta = yaml.safe_load((run.path / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["method"] == method
    training = meta["training"]
    assert f"trainable params {training['trainable_params']:,} of {training['total_params']:,}" in out
    if expected is not None:
        assert training["trainable_params"] == expected
    if method == "full":
        assert training["trainable_params"] == training["total_params"]
        assert (run.path / "model" / "model.safetensors").is_file()
        return
    assert 0 < training["trainable_share"] < 0.5
    weights = _tensors(run.path / "adapter" / "adapter_model.safetensors")
    assert sum(t.numel() for t in weights.values()) == training["trainable_params"]
    if method == "lora":  # B starts at zero: one optimizer step must have moved it
        assert any(k.endswith("lora_B.weight") and t.abs().sum() > 0 for k, t in weights.items())


def test_lora_on_gpt2_targets_c_attn_and_evaluates_on_the_validation_set(ft_project, tiny_gpt2):
    import json

    root = ft_project(model=tiny_gpt2, training={"max_steps": 1, "save_strategy": "no", "eval_strategy": "steps",
                                                 "eval_steps": 1},
                      data={"validation": "data/sample.jsonl"})
    run, out = _train(root)
    assert "method lora on c_attn" in out and "causal (prompt masked)" in out
    log = json.loads((run.path / "training_log.json").read_text())
    assert any("eval_loss" in e for e in log)
    keys = _tensors(run.path / "adapter" / "adapter_model.safetensors")
    assert keys and all(".attn.c_attn.lora_" in k for k in keys)


def test_target_modules_that_do_not_exist_name_the_ones_that_do(ft_project):
    root = ft_project(peft={"target_modules": ["q_proj", "v"]})
    with pytest.raises(FinetuneError) as err:
        _train(root)
    msg = str(err.value)
    assert "'q_proj'" in msg and "do not exist" in msg
    for name in ("q", "k", "v", "o", "wi_0", "wo", "lm_head"):
        assert name in msg.split("linear layers are:")[1].split(", ") or name in msg


def test_encoder_only_family_is_refused(ft_project, tiny_bert):
    root = ft_project(model=tiny_bert)
    with pytest.raises(FinetuneError, match="encoder-only and cannot generate text"):
        _train(root)


def test_qlora_without_bitsandbytes_or_cuda_is_a_clear_dependency_error(ft_project):
    import importlib.util

    import torch

    if importlib.util.find_spec("bitsandbytes") is not None and torch.cuda.is_available():
        pytest.skip("bitsandbytes and CUDA are both present: qlora can run here")
    with pytest.raises(DependencyError, match="qlora' needs"):
        _train(ft_project(), method="qlora")


def test_bf16_on_cpu_is_refused(ft_project):
    import torch

    if torch.cuda.is_available():
        pytest.skip("has CUDA")
    with pytest.raises(FinetuneError, match="mixed_precision: bf16 needs a CUDA GPU"):
        _train(ft_project(training={"mixed_precision": "bf16"}))


def test_eval_strategy_without_validation_data_is_refused(ft_project):
    with pytest.raises(FinetuneError, match="eval_strategy: steps needs data.validation"):
        _train(ft_project(training={"eval_strategy": "steps"}))
