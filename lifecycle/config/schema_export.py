"""JSON Schemas of the files a user edits, exported into `lifecycle/schemas/`.

Editors pick them up through a first-line comment in each YAML file
(`# yaml-language-server: $schema=.lifecycle/schemas/<name>.schema.json`); generated projects carry
copies. Regenerate after changing a model: `python -m lifecycle.config.schema_export`
(a test fails while an exported file is stale).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"

# file stem -> (module, class): lifecycle.schema.json, model.schema.json, ...
MODELS = {
    "lifecycle": ("lifecycle.manifest", "Manifest"),
    "model": ("lifecycle.config.model", "ModelConfig"),
    "prompt": ("lifecycle.config.prompt", "PromptConfig"),
    "generation": ("lifecycle.config.generation", "GenerationSettings"),
    "eval": ("lifecycle.config.eval", "EvalConfig"),
    "finetune": ("lifecycle.config.finetune", "FinetuneConfig"),
    "serve": ("lifecycle.config.serve", "ServeConfig"),
    "rag": ("lifecycle.config.rag", "RagConfig"),
    "align": ("lifecycle.config.align", "AlignConfig"),
    "sweep": ("lifecycle.config.sweep", "SweepGrid"),
    "run": ("lifecycle.runs.records", "RunRecord"),
    "metrics": ("lifecycle.runs.records", "MetricsDoc"),
}
TITLES = {
    "lifecycle": "lifecycle.yaml (genai-lifecycle project manifest)",
    "model": "configs/model.yaml (genai-lifecycle)",
    "prompt": "configs/prompt.yaml (genai-lifecycle)",
    "generation": "configs/generation.yaml (genai-lifecycle)",
    "eval": "configs/eval.yaml (genai-lifecycle)",
    "finetune": "configs/finetune.yaml (genai-lifecycle)",
    "serve": "configs/serve.yaml (genai-lifecycle)",
    "rag": "configs/rag.yaml (genai-lifecycle)",
    "align": "configs/align.yaml (genai-lifecycle)",
    "sweep": "configs/sweep.yaml (genai-lifecycle)",
    "run": "runs/<id>/run.yaml (genai-lifecycle run record)",
    "metrics": "runs/<id>/metrics.json (genai-lifecycle)",
}


def schema_file_name(name: str) -> str:
    return f"{name}.schema.json"


def model_class(name: str):
    import importlib

    module, cls = MODELS[name]
    return getattr(importlib.import_module(module), cls)


def build_schema(name: str) -> dict:
    """A fresh JSON Schema for one file kind, straight from its pydantic model."""
    schema = model_class(name).model_json_schema(mode="validation")
    return {"$schema": SCHEMA_URI, "title": TITLES[name], **{k: v for k, v in schema.items() if k != "title"}}


def render_schema(name: str) -> str:
    return json.dumps(build_schema(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale_schemas(folder: Path = SCHEMA_DIR) -> list[str]:
    """Names whose exported file is missing or differs from a fresh export."""
    stale = []
    for name in MODELS:
        f = folder / schema_file_name(name)
        if not f.is_file() or f.read_text(encoding="utf-8") != render_schema(name):
            stale.append(name)
    return stale


def export_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    written = []
    for name in MODELS:
        path = folder / schema_file_name(name)
        atomic_write_text(path, render_schema(name))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        stale = stale_schemas()
        for name in stale:
            print(f"stale: {SCHEMA_DIR / schema_file_name(name)}", file=sys.stderr)
        return 1 if stale else 0
    for path in export_schemas():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
