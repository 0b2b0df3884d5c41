"""IA3: learned scaling vectors on attention and feed-forward activations."""

from __future__ import annotations

from lifecycle.methods.registry import AdapterSettings, Method, peft_task_type, register_method


def ia3_config(s: AdapterSettings):
    from peft import IA3Config

    return IA3Config(task_type=peft_task_type(s), target_modules=s.target_modules,
                     feedforward_modules=s.feedforward_modules or [])


register_method(Method(
    "ia3", "scaling vectors on attention and feed-forward layers; merges into the base weights",
    trains="adapter", peft_config=ia3_config, targets="ia3", mergeable=True,
))
