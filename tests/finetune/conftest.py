"""Fixtures for the fine-tuning tests: a project on a tiny model with a given configs/finetune.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.config.yaml_io import dump_yaml


def write_finetune_config(root: Path, **sections) -> None:
    # the test project's one data file is both the training and the eval set unless a test says otherwise
    data = {"method": "lora", "training": {"max_steps": 4, "batch_size": 2, "save_steps": 2, "logging_steps": 1},
            "data": {"train": "data/sample.jsonl"}}
    for key, value in sections.items():
        if isinstance(value, dict):
            data.setdefault(key, {}).update(value)
        else:
            data[key] = value
    (root / "configs" / "finetune.yaml").write_text("# Used by: lifecycle finetune\n" + dump_yaml(data), encoding="utf-8")


@pytest.fixture
def ft_project(make_project, tiny_t5):
    """ft_project(model=tiny_t5, task=..., **finetune sections) -> project root."""

    def make(model: Path | None = None, task: str = "summarization", name: str = "demo", adaptation: str = "peft",
             **sections) -> Path:
        root = make_project(task=task, model=model or tiny_t5, name=name, adaptation=adaptation)
        write_finetune_config(root, **sections)
        return root

    return make


def finetune_runs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "runs").iterdir() if "-finetune-" in p.name)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
