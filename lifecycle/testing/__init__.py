"""Tiny real models and tokenizers built on the fly: for tests, offline smoke runs and benchmarks.

No hub access: a tokenizer is trained with `tokenizers` on text you give it, and a model is built
from a config with random (seeded) weights, then saved with `save_pretrained` so that every code
path that takes a hub id also takes this folder.
"""

from lifecycle.testing.tiny import (
    DEFAULT_CORPUS,
    build_tiny_model,
    train_tokenizer,
)

__all__ = ["DEFAULT_CORPUS", "build_tiny_model", "train_tokenizer"]
