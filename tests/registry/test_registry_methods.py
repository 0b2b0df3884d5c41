"""The contract every registered fine-tuning method keeps (peft style: parametrized over the
registry), and the places that read the registry: the config validator, the CLI choices, merge's
MERGEABLE and the estimator, whose peft config comes from the same builder training uses."""

from __future__ import annotations

import pytest

from lifecycle.methods import METHODS, MERGEABLE, get_method, method_names


@pytest.fixture(scope="module")
def t5_model(tiny_t5):
    from transformers import AutoModelForSeq2SeqLM

    def load():
        return AutoModelForSeq2SeqLM.from_pretrained(str(tiny_t5))

    return load


@pytest.mark.parametrize("name", list(METHODS))
def test_method_contract(name, t5_model, tiny_t5):
    from lifecycle.catalog.memory import MemoryRequest, estimate_memory
    from lifecycle.cli.choices import METHOD
    from lifecycle.config.finetune import FinetuneConfig, PeftSettings
    from lifecycle.finetune.methods import apply_method, plan_method, trainable_parameters

    method = get_method(name)
    assert FinetuneConfig(method=name).method == name and METHOD(name) == name
    assert (name in MERGEABLE) == method.mergeable
    settings = PeftSettings(num_virtual_tokens=4)
    request = MemoryRequest(name, method.default_dtype or "fp32", 2, 24, lora_r=settings.r,
                            num_virtual_tokens=settings.num_virtual_tokens, device="cpu")
    est = estimate_memory(str(tiny_t5), request)
    assert est.method == name and est.total_bytes > est.components["weights"] > 0
    if method.needs_cuda:  # not trainable on this CPU machine; the estimator still answers
        assert method.quantized_base and est.dtype == "int4"
        return
    model = t5_model()
    plan = plan_method(name, model.config.model_type, settings, model)
    tuned = apply_method(model, plan, settings, True, str(tiny_t5))
    trainable, total = trainable_parameters(tuned)
    # the estimator's meta model got the same peft config: it trains exactly as many parameters
    assert est.trainable_parameters == trainable
    assert (trainable == total) == (method.trains == "full")


def test_config_and_cli_name_the_registry(cli):
    from lifecycle.config.finetune import FinetuneConfig

    with pytest.raises(ValueError, match="did you mean 'lora'"):
        FinetuneConfig(method="lroa")
    assert FinetuneConfig.model_json_schema()["properties"]["method"]["enum"] == method_names()
    code, out, _ = cli("finetune", "--help")
    assert code == 0 and all(m in " ".join(out.split()) for m in method_names())
    code, _, err = cli("finetune", "--method", "lroa")
    assert code == 2 and "did you mean 'lora'" in err and "'--method'" in err
    code, _, err = cli("models", "estimate", "gpt2", "--method", "ful")
    assert code == 2 and "did you mean 'full'" in err


def test_a_method_registered_later_is_seen_everywhere(tiny_t5):
    """What the alignment stage does for its preference-tuning method: one registration."""
    from lifecycle.catalog.memory import MemoryRequest, estimate_memory
    from lifecycle.cli.choices import METHOD
    from lifecycle.config.finetune import FinetuneConfig
    from lifecycle.methods import Method, register_method
    from lifecycle.methods.lora import lora_config

    register_method(Method("demo_pref", "LoRA trained on preference pairs", trains="adapter",
                           peft_config=lora_config, targets="lora", mergeable=True))
    try:
        assert "demo_pref" in MERGEABLE and METHOD("demo_pref") == "demo_pref"
        assert FinetuneConfig(method="demo_pref").method == "demo_pref"
        lora = estimate_memory(str(tiny_t5), MemoryRequest("lora", "fp32", 1, 16, device="cpu"))
        pref = estimate_memory(str(tiny_t5), MemoryRequest("demo_pref", "fp32", 1, 16, device="cpu"))
        assert pref.total_bytes == lora.total_bytes  # modelled as what it is: LoRA on a frozen base
        with pytest.raises(ValueError, match="registered twice"):
            register_method(METHODS["lora"])
    finally:
        del METHODS["demo_pref"]
    assert "demo_pref" not in MERGEABLE
