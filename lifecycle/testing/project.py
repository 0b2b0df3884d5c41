"""A minimal project written straight from the pydantic models, for tests that need a project
without going through the template (the scaffold's own tests cover `lifecycle new`). Its task
facts (fields, template, metric suite, default metric and target) come from `lifecycle.tasks`."""

from __future__ import annotations

import shutil
from pathlib import Path

from lifecycle.config.yaml_io import dump_yaml
from lifecycle.tasks import get_task


def write_project(root: str | Path, task: str = "summarization", model: str = "google/flan-t5-base",
                  data_file: str | Path | None = None, *, gpu_memory_gib: float | None = 24.0,
                  commercial_use: bool = True, adaptation: str = "prompting") -> Path:
    """Write lifecycle.yaml, configs/*.yaml and data/sample.jsonl under `root`; returns root."""
    root = Path(root)
    (root / "configs").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "runs").mkdir(exist_ok=True)
    (root / ".lifecycle").mkdir(exist_ok=True)
    spec = get_task(task)  # every per-task fact from the registry (lifecycle.tasks)
    inputs, target, template = list(spec.input_fields), spec.reference_field, spec.template
    metric, value = spec.default_metric, spec.default_target
    sample = root / "data" / "sample.jsonl"
    if data_file is not None:
        shutil.copyfile(data_file, sample)
    manifest = {
        "schema_version": 1,
        "project": {"name": root.name.replace(" ", "-") or "demo", "package": "demo_project"},
        "scope": {
            "use_case": f"A test project for {task}.",
            "task": task,
            "multi_task": False,
            "data_sensitivity": "internal",
            "commercial_use": commercial_use,
            "hardware": ({"device": "gpu", "gpu_memory_gib": gpu_memory_gib, "num_gpus": 1}
                         if gpu_memory_gib else {"device": "cpu", "gpu_memory_gib": None, "num_gpus": 0}),
            "success": {"metric": metric, "target": value, "higher_is_better": True},
            "adaptation": adaptation,
        },
        "data": {"sample": "data/sample.jsonl", "source": None},
        "selection": {"model": model, "revision": None, "reason": "test"},
    }
    (root / "lifecycle.yaml").write_text("# test project\n" + dump_yaml(manifest), encoding="utf-8")
    configs = {
        "model.yaml": {"model": model, "architecture": "auto", "dtype": "auto", "device": "auto",
                       "trust_remote_code": False},
        "prompt.yaml": {"template": template, "target_field": target, "id_field": "id",
                        "shots": {"k": 0, "selection": "first"}, "budget": {"policy": "auto"}},
        "generation.yaml": {"preset": "greedy", "max_new_tokens": 16, "seed": 42},
        "eval.yaml": {
            "task": task,
            "dataset": {"path": "data/sample.jsonl", "id_field": "id", "input_fields": inputs,
                        "reference_field": target},
            "shots": [0],
            "metrics": [{"name": m} for m in spec.metric_names],  # directions: the metric registry's
            "targets": [{"metric": metric, "value": value, "higher_is_better": True}],
        },
        # trains on the eval set itself: tests that need a held-out split write their own
        "finetune.yaml": {"method": "lora", "training": {"max_steps": 4, "batch_size": 2, "save_steps": 2},
                          "data": {"train": "data/sample.jsonl"}},
    }
    for name, data in configs.items():
        (root / "configs" / name).write_text(f"# Used by: lifecycle (test project)\n{dump_yaml(data)}", encoding="utf-8")
    return root
