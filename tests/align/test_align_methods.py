"""DPO / IPO in the method registry: what `lifecycle align dpo` trains, how the memory estimator
models it (the policy on chosen + rejected as one batch; the reference held without a second
copy), and that `lifecycle finetune` does not offer them."""

from __future__ import annotations

import json

import pytest

from lifecycle.testing import build_tiny_model


def test_preference_methods_registered():
    from lifecycle.config.finetune import FinetuneConfig
    from lifecycle.methods import (MERGEABLE, estimator_methods, get_estimator_method, method_names,
                                   preference_method_for, preference_method_names)

    assert preference_method_names() == ["dpo", "dpo_lora", "ipo", "ipo_lora"]
    assert not set(preference_method_names()) & set(method_names())  # not `lifecycle finetune --method` choices
    assert set(preference_method_names()) <= set(estimator_methods())
    dpo, lora = get_estimator_method("dpo"), get_estimator_method("dpo_lora")
    assert (dpo.trains, dpo.reference, dpo.mergeable) == ("full", "precomputed", False)
    assert (lora.trains, lora.reference, lora.mergeable) == ("adapter", "adapter_disabled", True)
    assert preference_method_for("ipo", "lora").name == "ipo_lora" and preference_method_for("sigmoid", "full") is dpo
    assert "dpo" not in MERGEABLE  # `finetune merge` is for fine-tune runs
    with pytest.raises(ValueError, match="preference-tuning method"):  # nothing fine-tunes under its name
        FinetuneConfig(method="dpo")


def test_dpo_estimate_is_the_policy_step_on_both_responses(tmp_path):
    from lifecycle.catalog.memory import estimate_memory

    model = build_tiny_model(tmp_path / "t5", "t5", size={"d_model": 32, "d_ff": 64, "num_layers": 1, "num_heads": 2})
    dpo = estimate_memory(str(model), "dpo", "fp32", 3, 32, device="cpu")
    same_step = estimate_memory(str(model), "full", "fp32", 6, 32, device="cpu")
    assert dpo.components == same_step.components  # 3 pairs = one step on 6 sequences, no second model
    assert any("3 pairs as one batch of 6" in n for n in dpo.notes)


def test_models_estimate_cli_takes_dpo(tmp_path, cli):
    model = build_tiny_model(tmp_path / "t5", "t5", size={"d_model": 32, "d_ff": 64, "num_layers": 1, "num_heads": 2})
    code, out, err = cli("models", "estimate", model, "--method", "ipo_lora", "--dtype", "fp32", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["method"] == "ipo_lora" and data["trainable_parameters"] < data["parameters"]
    code, _, err = cli("models", "estimate", model, "--method", "dpoo")
    assert code != 0 and "dpo" in err
