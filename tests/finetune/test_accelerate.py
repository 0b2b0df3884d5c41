"""Distributed fine-tuning with accelerate: the template's configs parse, and 2 CPU processes
(gloo) train the same model as one process with the combined batch."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from tests.finetune.conftest import finetune_runs

REPO = Path(__file__).resolve().parents[2]
ACCELERATE_DIR = REPO / "lifecycle" / "templates" / "project" / "{{cookiecutter.project_slug}}" / "configs" / "accelerate"
EXPECTED = {"single_gpu.yaml": "NO", "multi_gpu.yaml": "MULTI_GPU", "multi_node.yaml": "MULTI_GPU",
            "fsdp.yaml": "FSDP", "deepspeed_zero.yaml": "DEEPSPEED", "cpu_2proc.yaml": "MULTI_GPU"}


def test_template_accelerate_configs_load_with_accelerate():
    from accelerate.commands.config.config_args import load_config_from_file

    found = sorted(p.name for p in ACCELERATE_DIR.glob("*.yaml"))
    assert found == sorted(EXPECTED)
    for name, kind in EXPECTED.items():
        path = ACCELERATE_DIR / name
        assert path.read_text(encoding="utf-8").startswith("# Used by: lifecycle finetune --launch accelerate")
        cfg = load_config_from_file(str(path))
        assert cfg.distributed_type.value == kind, name
    assert load_config_from_file(str(ACCELERATE_DIR / "multi_node.yaml")).num_machines == 2


def _weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(run_dir / "adapter" / "adapter_model.safetensors"))


@pytest.mark.slow
def test_two_cpu_processes_match_one_process_with_the_combined_batch(ft_project, run_cli):
    cfg = dict(method="lora", peft={"r": 4, "alpha": 8, "dropout": 0.0},
               training={"max_steps": 2, "save_strategy": "no", "logging_steps": 1, "learning_rate": 0.01})
    env = {"PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    from lifecycle.finetune.pipeline import FinetuneRequest, finetune
    from lifecycle.project import Project

    single = ft_project(name="single", **{**cfg, "training": {**cfg["training"], "batch_size": 4}})
    finetune(Project(single), FinetuneRequest(evaluate=False, echo=lambda _m: None, argv=["test"]))

    dist = ft_project(name="dist", **{**cfg, "training": {**cfg["training"], "batch_size": 2}})
    (dist / "configs" / "accelerate").mkdir()
    shutil.copy(ACCELERATE_DIR / "cpu_2proc.yaml", dist / "configs" / "accelerate" / "cpu_2proc.yaml")
    res = run_cli("finetune", "--no-eval", "--launch", "accelerate", "--config-file",
                  "configs/accelerate/cpu_2proc.yaml", cwd=dist, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "world size 2" in res.stdout
    run_dir = finetune_runs(dist)[-1]
    meta = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["ranks"] == [0, 1]
    ranks = [yaml.safe_load((run_dir / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world_size"] == 2 and r["global_step"] == 2 for r in ranks)  # both ranks trained

    # the logged loss is the loss, not the loss times the process count (transformers 5 scales a
    # plain-mean loss by the world size unless average_tokens_across_devices is off)
    def first_loss(folder):
        log = json.loads((folder / "training_log.json").read_text())
        return next(e["loss"] for e in log if "loss" in e)

    one, two = first_loss(finetune_runs(single)[-1]), first_loss(run_dir)
    assert abs(two - one) / one < 0.2, (one, two)

    a, b = _weights(finetune_runs(single)[-1]), _weights(run_dir)
    assert a.keys() == b.keys()
    moved = sum(float(t.abs().sum()) for k, t in a.items() if "lora_B" in k)
    assert moved > 0
    # Same examples per step; but each process averages the loss over its own tokens before DDP
    # averages the gradients, and Adam's first steps are ~lr*sign(g), which flips for near-zero
    # entries. So compare the learned update as a whole: lora_B starts at zero, its value is the update.
    keys = [k for k in a if "lora_B" in k]
    diff = sum(float((a[k] - b[k]).pow(2).sum()) for k in keys) ** 0.5
    norm = sum(float(a[k].pow(2).sum()) for k in keys) ** 0.5
    print(f"relative difference of the LoRA update: {diff / norm:.4f}")
    # Measured: ~0.10; training on other examples (batch 2 in one process) gives ~0.75.
    assert diff / norm < 0.25
