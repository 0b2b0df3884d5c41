"""Preference tuning (`lifecycle align dpo`): DPO and IPO, with the whole policy or a LoRA policy.

What the estimator models: the policy's training step on chosen and rejected together (one batch
of 2 x pairs, as both our seq2seq DPO and TRL's DPOTrainer run them), plus the reference model.
The reference never holds a second copy of the weights here: a full policy's reference
log-probabilities are computed once before training (the policy at step 0, no gradients), and a
LoRA policy's reference is its own base with the adapter switched off (one no-grad forward per
step, freed before the policy's backward). Mergeable: the LoRA ones (the adapter folds into the
base like any LoRA); the full ones already are a whole model."""

from __future__ import annotations

from lifecycle.methods.lora import lora_config
from lifecycle.methods.registry import Method, register_method

for loss, name, what in (("sigmoid", "dpo", "DPO"), ("ipo", "ipo", "IPO (length-normalised, squared loss)")):
    register_method(Method(
        name, f"{what} on the whole policy; reference log-probs precomputed once", trains="full",
        pairs=True, reference="precomputed", loss=loss,
        notes=("policy step on chosen + rejected (2 x batch); no reference copy resident",),
    ))
    register_method(Method(
        f"{name}_lora", f"{what} on a LoRA policy; the reference is the adapter-disabled base", trains="adapter",
        peft_config=lora_config, targets="lora", mergeable=True, pairs=True, reference="adapter_disabled", loss=loss,
        notes=("policy step on chosen + rejected (2 x batch); reference = the same base, adapter off",),
    ))
