"""Memory estimator: weights as accelerate counts them, the simulated step against a real step,
depth extrapolation against a full-depth simulation, LoRA counts against peft, bad requests."""

from __future__ import annotations

import pytest

from lifecycle.catalog import load_catalog
from lifecycle.catalog.memory import BYTES_PER_PARAM, estimate_memory
from lifecycle.errors import CatalogError

ACCELERATE_DIVISOR = {"fp32": 1, "bf16": 2, "int8": 4, "int4": 8}  # accelerate/commands/estimate.py


@pytest.mark.parametrize("entry", list(load_catalog()), ids=lambda e: e.id)
def test_weights_agree_with_accelerate(entry):
    """accelerate's own code path (calculate_maximum_sizes on the same meta model, then its dtype
    division) gives the same weight bytes for every catalog model and dtype."""
    from accelerate.utils import calculate_maximum_sizes

    from lifecycle.catalog.memory import weight_bytes
    from lifecycle.catalog.params import build_meta_model, count_model_parameters, resolve_spec

    model = build_meta_model(resolve_spec(entry.id))
    total_fp32, _ = calculate_maximum_sizes(model)
    buffers = sum(b.numel() * b.element_size() for b in model.buffers()) // 4
    for dtype, div in ACCELERATE_DIVISOR.items():
        assert weight_bytes(count_model_parameters(model), buffers, dtype) == pytest.approx(total_fp32 / div, abs=1)


def test_estimate_weights_component_matches_accelerate():
    from accelerate.utils import calculate_maximum_sizes

    from lifecycle.catalog.params import build_meta_model, resolve_spec

    total_fp32, _ = calculate_maximum_sizes(build_meta_model(resolve_spec("google/flan-t5-small")))
    est = estimate_memory("google/flan-t5-small", "inference", "bf16", 1, 64)
    assert est.components["weights"] == total_fp32 // 2
    assert est.parameters == 76_961_152


def _real_step_bytes(model_dir, method: str, batch: int, seq: int, target_len: int | None = None,
                     lora_dropout: float = 0.0) -> int:
    """The same live-bytes tracker, on real tensors: the peak a real CPU step creates."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from lifecycle.catalog.simulate import _inputs, _loss, _tracker_class

    torch.manual_seed(0)
    cfg_dir = str(model_dir)
    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(cfg_dir)
        arch = "encoder-decoder"
    except ValueError:
        model = AutoModelForCausalLM.from_pretrained(cfg_dir)
        arch = "decoder"
    train = method != "inference"
    if method == "lora":
        from lifecycle.catalog.memory import MemoryRequest, _apply_peft

        model = _apply_peft(model, MemoryRequest("lora", "fp32", batch, seq, 4, lora_dropout=lora_dropout))
    model.train(train)
    tracker = _tracker_class()()
    tracker.existing = {id(t.untyped_storage()) for t in (*model.parameters(), *model.buffers())}
    inputs = _inputs(model, arch, batch, seq, train, target_len)
    if not train:
        with torch.no_grad(), tracker:
            model(**inputs)
        return tracker.peak
    with tracker:
        tracker.phase = "forward"
        loss = _loss(model(**inputs))
        tracker.phase = "backward"
        loss.backward()
    return tracker.peak


@pytest.mark.parametrize("fixture", ["tiny_t5", "tiny_gpt2"])
@pytest.mark.parametrize("method", ["inference", "full", "lora"])
def test_simulation_matches_a_real_step(request, fixture, method):
    """Fake tensors run the same kernels as the real model: the bytes a real forward (and
    backward) creates are the bytes the simulation predicts."""
    from lifecycle.catalog.memory import MemoryRequest, _builder
    from lifecycle.catalog.params import resolve_spec
    from lifecycle.catalog.simulate import simulate_step

    folder = request.getfixturevalue(fixture)
    spec = resolve_spec(str(folder))
    req = MemoryRequest(method, "fp32", 2, 24, 4)
    sim = simulate_step(_builder(spec, spec.config, req), architecture=spec.architecture,
                        train=method != "inference", batch_size=2, seq_len=24, optimizer=False)
    real = _real_step_bytes(folder, method, 2, 24)
    assert sim.peak == pytest.approx(real, rel=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("dims", [
    {"model_type": "gpt2", "vocab_size": 1000, "bos_token_id": 0, "eos_token_id": 0, "n_embd": 64, "n_layer": 6, "n_head": 4, "n_positions": 256},
    {"model_type": "t5", "vocab_size": 1000, "d_model": 64, "d_kv": 16, "d_ff": 128, "num_layers": 5,
     "num_decoder_layers": 5, "num_heads": 4, "feed_forward_proj": "gated-gelu"},
    {"model_type": "llama", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 5,
     "num_attention_heads": 4, "num_key_value_heads": 2},
])
@pytest.mark.parametrize("method", ["inference", "full", "lora"])
def test_depth_extrapolation_matches_full_simulation(dims, method):
    """Simulating depth 1 and 2 and extrapolating gives the full-depth simulation's peak."""
    from lifecycle.catalog.memory import MemoryRequest, _builder, _simulate
    from lifecycle.catalog.params import as_spec
    from lifecycle.catalog.simulate import simulate_step

    spec = as_spec(dims)
    req = MemoryRequest(method, "fp32", 2, 32, 4)
    full = simulate_step(_builder(spec, spec.config, req), architecture=spec.architecture,
                         train=method != "inference", batch_size=2, seq_len=32)
    est = estimate_memory(dims, method, "fp32", 2, 32, lora_r=4)
    assert est.total_bytes - est.components["weights"] - est.components.get("adapter_weights", 0) == \
        pytest.approx(full.peak, rel=0.03)
    assert _simulate(spec, req)[1] is not None  # it really did extrapolate


@pytest.mark.parametrize("method", ["inference", "lora"])
def test_cpu_estimate_adds_allocator_retention(method):
    """On CPU the forward's bytes are scaled by the measured glibc retention; nothing else moves."""
    from lifecycle.catalog.memory import CPU_ALLOCATOR_RETENTION

    gpu = estimate_memory("gpt2", method, "fp32", 2, 64)
    cpu = estimate_memory("gpt2", method, "fp32", 2, 64, device="cpu")
    assert "allocator_retention" not in gpu.components and gpu.device == "gpu"
    forward = gpu.components["activations"] + gpu.components.get("kv_cache", 0)
    assert cpu.components.pop("allocator_retention") == int(CPU_ALLOCATOR_RETENTION * forward) > 0
    assert cpu.components == gpu.components
    assert any("glibc" in n for n in cpu.notes) and any("CUDA context" in n for n in gpu.notes)
    with pytest.raises(CatalogError, match="unknown device 'tpu'"):
        estimate_memory("gpt2", method, "fp32", 2, 64, device="tpu")


@pytest.mark.parametrize("fixture", ["tiny_t5", "tiny_gpt2"])
def test_lora_dropout_is_simulated_like_a_real_step(request, fixture):
    """peft applies dropout to each adapted layer's input: the copies and masks it keeps for
    backward are in the estimate when the config trains with dropout, as in a real step."""
    from lifecycle.catalog.memory import MemoryRequest, _builder
    from lifecycle.catalog.params import resolve_spec
    from lifecycle.catalog.simulate import simulate_step

    folder = request.getfixturevalue(fixture)
    spec = resolve_spec(str(folder))
    peaks = {}
    for dropout in (0.0, 0.1):
        req = MemoryRequest("lora", "fp32", 2, 24, 4, lora_dropout=dropout)
        peaks[dropout] = simulate_step(_builder(spec, spec.config, req), architecture=spec.architecture,
                                       train=True, batch_size=2, seq_len=24, optimizer=False).peak
    assert peaks[0.1] > peaks[0.0]
    assert peaks[0.1] == pytest.approx(_real_step_bytes(folder, "lora", 2, 24, lora_dropout=0.1), rel=0.02)
    with pytest.raises(CatalogError, match="dropout"):
        estimate_memory(str(folder), "lora", "fp32", 2, 24, lora_dropout=1.5)


@pytest.mark.parametrize("method", ["full", "lora"])
def test_target_length_sets_the_decoder_of_a_real_step(tiny_t5, tiny_gpt2, method):
    """Encoder-decoder training: `target_len` is the decoder's length, and the simulated step
    matches a real one with a 24-token input and a 6-token target. Decoder-only: the target is
    appended to the one sequence."""
    from lifecycle.catalog.memory import MemoryRequest, _builder
    from lifecycle.catalog.params import resolve_spec
    from lifecycle.catalog.simulate import simulate_step

    spec = resolve_spec(str(tiny_t5))
    req = MemoryRequest(method, "fp32", 2, 24, 4, target_len=6)
    assert req.step_lengths("encoder-decoder") == (24, 6) and req.step_lengths("decoder") == (30, None)
    sim = simulate_step(_builder(spec, spec.config, req), architecture=spec.architecture, train=True,
                        batch_size=2, seq_len=24, target_len=6, optimizer=False)
    assert sim.peak == pytest.approx(_real_step_bytes(tiny_t5, method, 2, 24, target_len=6), rel=0.02)

    short = estimate_memory(str(tiny_t5), method, "fp32", 2, 24, lora_r=4, target_len=6)
    same = estimate_memory(str(tiny_t5), method, "fp32", 2, 24, lora_r=4)
    assert short.total_bytes < same.total_bytes and "decoder 6 tokens" in " ".join(short.notes)
    gpt = estimate_memory(str(tiny_gpt2), method, "fp32", 2, 24, lora_r=4, target_len=6)
    assert gpt.total_bytes == estimate_memory(str(tiny_gpt2), method, "fp32", 2, 30, lora_r=4).total_bytes
    inference = estimate_memory(str(tiny_gpt2), "inference", "fp32", 2, 24, target_len=6)
    assert "target length not used (inference)" in inference.notes
    assert inference.total_bytes == estimate_memory(str(tiny_gpt2), "inference", "fp32", 2, 24).total_bytes


def test_lora_trainable_count_matches_peft(tiny_gpt2):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    est = estimate_memory(str(tiny_gpt2), "lora", "fp32", 1, 16, lora_r=4)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(tiny_gpt2)), LoraConfig(r=4, target_modules=["c_attn"]))
    trainable, _ = model.get_nb_trainable_parameters()
    assert est.trainable_parameters == trainable > 0


def test_components_follow_the_method():
    inf = estimate_memory("gpt2", "inference", "bf16", 2, 128)
    assert set(inf.components) >= {"weights", "kv_cache"}
    assert inf.components["kv_cache"] == 2 * 12 * 768 * 2 * 2 * 128  # K+V, layers, hidden, bf16, batch, tokens
    full = estimate_memory("gpt2", "full", "bf16", 2, 128)
    # two AdamW states per bf16 parameter (plus a 4-byte step counter per tensor)
    assert full.components["optimizer_states"] == pytest.approx(2 * 124_439_808 * 2, abs=4 * 200)
    lora = estimate_memory("gpt2", "lora", "bf16", 2, 128)
    assert lora.trainable_parameters < full.trainable_parameters / 100
    assert lora.total_bytes < full.total_bytes
    q = estimate_memory("meta-llama/Llama-3.1-8B-Instruct", "qlora", "int4", 1, 256)
    assert q.components["weights"] == pytest.approx(8_030_261_248 * BYTES_PER_PARAM["int4"], rel=1e-6)


@pytest.mark.parametrize("method, dtype, match", [
    ("full", "int4", "full fine-tuning cannot train int4"),
    ("qlora", "bf16", "not quantized"),
    ("sft", "bf16", "unknown method"),
    ("inference", "fp8", "unknown dtype"),
])
def test_bad_requests(method, dtype, match):
    with pytest.raises(CatalogError, match=match):
        estimate_memory("gpt2", method, dtype, 1, 16)


def test_unknown_model_says_did_you_mean():
    with pytest.raises(CatalogError, match="did you mean 'google/flan-t5-large'"):
        estimate_memory("google/flan-t5-lrage", "inference", "bf16", 1, 16)


@pytest.mark.parametrize("method", ["ia3", "prompt_tuning"])
def test_ia3_and_prompt_tuning_count_what_peft_trains(method, tiny_t5):
    """The estimator covers every fine-tuning method: its trainable count is peft's own."""
    from peft import IA3Config, PromptTuningConfig, TaskType, get_peft_model
    from transformers import AutoModelForSeq2SeqLM

    from lifecycle.catalog.memory import estimate_memory

    est = estimate_memory(str(tiny_t5), method, "fp32", 2, 32, num_virtual_tokens=8)
    config = (IA3Config(task_type=TaskType.SEQ_2_SEQ_LM) if method == "ia3"
              else PromptTuningConfig(task_type=TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=8))
    real = get_peft_model(AutoModelForSeq2SeqLM.from_pretrained(tiny_t5), config)
    trainable = sum(p.numel() for p in real.parameters() if p.requires_grad)
    assert est.trainable_parameters == trainable > 0
    assert est.components["adapter_weights"] == 4 * trainable
    assert est.components["optimizer_states"] >= 2 * 4 * trainable
