"""Generation: decoding presets -> GenerationConfig, the batched engine, runs of predictions.

Models are loaded by the core `lifecycle.loading` (prompting and serving load them too).

Names are resolved lazily so that importing this package stays light (no torch/transformers)."""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Engine": "lifecycle.generation.engine",
    "Generation": "lifecycle.generation.engine",
    "EngineStats": "lifecycle.generation.engine",
    "to_generation_config": "lifecycle.generation.decoding",
    "generate_to_run": "lifecycle.generation.runner",
    "prediction_record": "lifecycle.generation.runner",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lifecycle.generation' has no attribute {name!r}")
