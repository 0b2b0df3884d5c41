"""Memory estimates for inference, full fine-tuning, LoRA and QLoRA.

Parameters are counted exactly on the meta device. Weights are parameters plus buffers times the
bytes of the chosen dtype, exactly what `accelerate estimate-memory` reports. Everything a step
creates (KV cache, activations, gradients, AdamW states) comes from simulating that step on fake
tensors (`simulate.py`), so it follows the model's real code. Steps are simulated at depth 2 and 3
and extrapolated linearly in the number of layers (every layer saves the same activations, caches the
same keys and values, owns the same gradients and optimizer states); each candidate peak moment is
extrapolated on its own and the largest is taken.

On CPU the process needs more than the bytes PyTorch holds: glibc's malloc raises its mmap
threshold (up to 32 MiB) as large blocks are freed, then serves activation-sized blocks from its
heap and keeps freed ones resident. That retention is not a property of the model's code, so it is
not simulated; it is measured (`benchmarks/bench_memory.py`) and added as a share of the bytes the
forward pass creates (`CPU_ALLOCATOR_RETENTION`). GPU estimates count what PyTorch allocates.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Literal

from lifecycle.errors import CatalogError, LifecycleError, did_you_mean
from lifecycle.methods import INFERENCE, AdapterSettings, estimator_methods, task_type_for
from lifecycle.methods import get_estimator_method as get_method  # fine-tuning and preference methods

DType = Literal["fp32", "bf16", "int8", "int4"]
# The estimator's methods: inference plus every registered fine-tuning method (lifecycle.methods),
# as registered at import; `MemoryRequest.check` reads the registry itself, so later ones count too.
METHODS: tuple[str, ...] = tuple(estimator_methods())
DTYPES: tuple[str, ...] = ("fp32", "bf16", "int8", "int4")
DEVICES: tuple[str, ...] = ("gpu", "cpu")
BYTES_PER_PARAM = {"fp32": 4.0, "bf16": 2.0, "int8": 1.0, "int4": 0.5}
GIB = 1024**3
# Peak RSS above the simulated live bytes, as a share of the forward's bytes (activations, plus
# the KV cache for inference), measured with glibc 2.36 on 13 shapes (flan-t5-small/base, gpt2,
# distilbert; inference, full, LoRA; batch 2-16 x 128-512 tokens): 0.18-0.49 for training,
# 0.36-0.72 for inference (smaller, noisier amounts; repeated runs of one shape vary by ~5%). With
# 0.3 the 13 cases came out at 0.89-1.10 of the measured peak; the benchmark prints each case.
CPU_ALLOCATOR_RETENTION = 0.3
# Part of every cached estimate's key: change it when the estimator's answers change.
ESTIMATOR_VERSION = f"2-cpu{CPU_ALLOCATOR_RETENTION}"


@dataclass(frozen=True)
class MemoryRequest:
    """One memory question. Build it with `MemoryRequest.for_project(project, overrides)` for a
    project (every command asks the same question that way), or field by field."""

    method: str = "inference"
    dtype: str = "bf16"
    batch_size: int = 1
    seq_len: int = 512
    lora_r: int = 8
    target_modules: tuple[str, ...] | None = None
    num_virtual_tokens: int = 20
    device: str = "gpu"
    target_len: int | None = None  # training: target tokens (see `step_lengths`)
    lora_dropout: float = 0.0  # > 0: peft keeps a dropped-out copy of each adapted layer's input

    def __post_init__(self) -> None:
        if self.target_modules is not None and not isinstance(self.target_modules, tuple):
            object.__setattr__(self, "target_modules", tuple(self.target_modules) or None)

    @property
    def trains(self) -> str | None:
        """"full", "adapter" (the method registry's model of the method) or None for inference."""
        return None if self.method == INFERENCE else get_method(self.method).trains

    def check(self) -> "MemoryRequest":
        if self.method not in estimator_methods():
            raise CatalogError(did_you_mean(str(self.method), estimator_methods(), kind="method"),
                               hint=f"methods: {', '.join(estimator_methods())}")
        if self.dtype not in DTYPES:
            raise CatalogError(f"unknown dtype '{self.dtype}'; use one of {', '.join(DTYPES)}")
        if not 0 <= self.lora_dropout < 1:
            raise CatalogError(f"LoRA dropout must be in [0, 1), not {self.lora_dropout}")
        if self.device not in DEVICES:
            raise CatalogError(f"unknown device '{self.device}'; use one of {', '.join(DEVICES)}")
        if self.batch_size < 1 or self.seq_len < 1 or self.lora_r < 1 or (self.target_len or 1) < 1:
            raise CatalogError("batch size, sequence and target lengths and LoRA rank must be at least 1")
        method = None if self.method == INFERENCE else get_method(self.method)
        if method is not None and method.trains == "full" and self.dtype in ("int8", "int4"):
            raise CatalogError(f"{self.method} fine-tuning cannot train {self.dtype} weights",
                               hint="use --dtype bf16 or fp32, or --method qlora for a quantized base")
        if method is not None and method.quantized_base and self.dtype not in ("int4", "int8"):
            raise CatalogError(f"{self.method} trains adapters on a quantized base; --dtype {self.dtype} is not "
                               "quantized", hint="use --dtype int4 (or int8), or --method lora for a bf16/fp32 base")
        return self

    @classmethod
    def for_project(cls, project, overrides: dict | None = None) -> "MemoryRequest":
        """The project's memory question (see `project_memory_request`)."""
        return project_memory_request(project, overrides)[0]

    @classmethod
    def from_flags(cls, given: dict) -> "MemoryRequest":
        """A question asked field by field (`models estimate MODEL --method ...`): fields given as
        None take the defaults, and the dtype defaults to the method's own (int4 for qlora), else bf16."""
        fields = {k: v for k, v in given.items() if v is not None}
        fields.setdefault("method", INFERENCE)
        if "dtype" not in fields:
            own = None if fields["method"] == INFERENCE else get_method(fields["method"]).default_dtype
            fields["dtype"] = own or "bf16"
        return cls(**fields)

    def step_lengths(self, architecture: str) -> tuple[int, int | None]:
        """(input length, decoder length) of the simulated step. In training, `target_len` is the
        decoder's length for an encoder-decoder (default: `seq_len`) and is appended to the one
        sequence of a decoder-only model (prompt + target); inference and encoders ignore it."""
        if self.method == "inference" or not self.target_len:
            return self.seq_len, None
        if architecture == "encoder-decoder":
            return self.seq_len, self.target_len
        if architecture == "decoder":
            return self.seq_len + self.target_len, None
        return self.seq_len, None

    @property
    def compute_dtype(self) -> str:
        """Quantized weights compute (and cache, and activate) in bf16."""
        return "fp32" if self.dtype == "fp32" else "bf16"


@dataclass
class MemoryEstimate:
    model: str
    method: str
    dtype: str
    batch_size: int
    seq_len: int
    parameters: int
    trainable_parameters: int
    device: str = "gpu"
    target_len: int | None = None
    components: dict[str, int] = field(default_factory=dict)  # bytes, in display order
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(self.components.values())

    @property
    def total_gib(self) -> float:
        return self.total_bytes / GIB

    def to_dict(self) -> dict:
        d = asdict(self)
        d["total_bytes"] = self.total_bytes
        d["total_gib"] = round(self.total_gib, 3)
        return d


def tokens_label(seq_len: int, target_len: int | None) -> str:
    """How a request's lengths are printed: "512" or, with a target, "512+128"."""
    return f"{seq_len}+{target_len}" if target_len else f"{seq_len}"


# --------------------------------------------------------------------------- model building

def _layer_keys(config) -> list[str]:
    """Config keys holding layer counts (an encoder-decoder's two stacks scale together)."""
    values = config.to_dict()
    for keys in (("num_layers", "num_decoder_layers"), ("encoder_layers", "decoder_layers")):
        if all(isinstance(values.get(k), int) for k in keys):
            return list(keys)
    for key in ("num_hidden_layers", "n_layer", "n_layers", "num_layers"):
        if isinstance(values.get(key), int):
            return [key]
    return []


def _depth(config, keys: list[str]) -> int | None:
    values = {getattr(config, k) for k in keys}
    return values.pop() if len(values) == 1 else None  # unequal encoder/decoder depth: no scaling


def _at_depth(config, keys: list[str], depth: int):
    cfg = copy.deepcopy(config)
    for k in keys:
        setattr(cfg, k, depth)
    types = getattr(cfg, "layer_types", None)
    if isinstance(types, list):
        cfg.layer_types = types[:depth]
    return cfg


def _builder(spec, config, request: MemoryRequest):
    """A function returning the model to simulate, on the meta device in the compute dtype, with
    LoRA applied (the simulation turns it into fake CPU tensors)."""
    import torch

    from lifecycle.catalog.params import ModelSpec, build_meta_model

    dtype = torch.float32 if request.compute_dtype == "fp32" else torch.bfloat16
    shaped = ModelSpec(spec.label, config, spec.model_class, spec.raw, spec.entry)

    def build():
        model = build_meta_model(shaped, dtype=dtype)
        if request.trains == "adapter":
            with torch.device("meta"):
                model = _apply_peft(model, request)
        return model

    return build


def _peft_config(model, request: MemoryRequest):
    """The peft config the method trains with, built by the method registry (the one place peft
    configs are made); targets default to the same per-architecture tables training uses."""
    from lifecycle.methods import default_targets

    model_type = model.config.model_type
    targets, ff = default_targets(request.method, model_type)
    if request.target_modules:
        targets, ff = list(request.target_modules), None
    method = get_method(request.method)
    if method.targets == "lora" and not targets:
        targets = "all-linear"
    encoder_decoder = getattr(model.config, "is_encoder_decoder", False)
    settings = AdapterSettings(task_type=task_type_for(encoder_decoder=encoder_decoder), r=request.lora_r,
                               dropout=request.lora_dropout, target_modules=targets, feedforward_modules=ff,
                               num_virtual_tokens=request.num_virtual_tokens)
    return method.build_peft_config(settings)


def _apply_peft(model, request: MemoryRequest):
    from peft import get_peft_model

    try:
        return get_peft_model(model, _peft_config(model, request))
    except ValueError as err:
        raise CatalogError(f"cannot apply {request.method}: {str(err).splitlines()[0]}",
                           hint="name the layers to adapt with --target-modules") from err


def _weights_and_counts(spec, request: MemoryRequest) -> tuple[int, int, int]:
    """(parameter count, buffer elements, trainable parameter count) on the meta device."""
    import torch

    from lifecycle.catalog.params import build_meta_model, count_model_parameters

    model = build_meta_model(spec)
    params = count_model_parameters(model)
    # bytes of the fp32 meta model, integer buffers at their own size: what accelerate sums
    buffers = sum(b.numel() * b.element_size() for b in model.buffers()) // 4
    if request.method == INFERENCE:
        return params, buffers, 0
    if request.trains == "full":
        return params, buffers, params
    from lifecycle.catalog.simulate import quiet

    with torch.device("meta"), quiet():
        peft_model = _apply_peft(model, request)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    return params, buffers, trainable


def weight_bytes(parameters: int, buffer_words: int, dtype: str) -> int:
    """What `accelerate estimate-memory` reports: the fp32 model's bytes (parameters plus buffers,
    `buffer_words` = buffer bytes / 4) scaled to the dtype."""
    return int((parameters + buffer_words) * BYTES_PER_PARAM[dtype])


# --------------------------------------------------------------------------- estimate

def _simulate(spec, request: MemoryRequest):
    from lifecycle.catalog.simulate import simulate_step

    train = request.method != "inference"
    seq_len, target_len = request.step_lengths(spec.architecture)
    kw = dict(architecture=spec.architecture, train=train, batch_size=step_batch(request), seq_len=seq_len,
              target_len=target_len)
    keys = _layer_keys(spec.config)
    depth = _depth(spec.config, keys) if keys else None
    if not depth or depth <= 3:
        return simulate_step(_builder(spec, spec.config, request), **kw), None
    # depth 2 and 3, not 1 and 2: a one-layer stack is also its own first and last layer (T5
    # computes its position bias there), so the per-layer increment settles only from depth 2
    two = simulate_step(_builder(spec, _at_depth(spec.config, keys, 2), request), **kw)
    three = simulate_step(_builder(spec, _at_depth(spec.config, keys, 3), request), **kw)
    return (two, three), depth


def step_batch(request: MemoryRequest) -> int:
    """Sequences in the simulated step: a preference method runs chosen and rejected as one batch."""
    pairs = request.method != INFERENCE and get_method(request.method).pairs
    return request.batch_size * (2 if pairs else 1)


def _extrapolate(two: int, three: int, depth: int) -> int:
    return max(0, two + (three - two) * (depth - 2))


def estimate_memory(ref_or_config, request: MemoryRequest | str = INFERENCE, *fields,
                    trust_remote_code: bool = False, **named) -> MemoryEstimate:
    """Memory for running (`inference`) or training (any registered method) a model.

    `ref_or_config`: a catalog id, a local folder, a cached hub id, a transformers config or
    catalog-style dims. `request`: the question, a `MemoryRequest` (for a project:
    `MemoryRequest.for_project(project)`); for a quick call, a method name followed by the other
    MemoryRequest fields (`estimate_memory("gpt2", "lora", "bf16", 8, 512, lora_r=16)`).
    Components (bytes): weights, then what the step adds at its peak, then (device "cpu") what the
    C allocator keeps resident beyond that. A method the registry marks with an `estimate_fallback`
    (prompt tuning) is asked as that stand-in when its own step cannot be simulated; a note says so."""
    if not isinstance(request, MemoryRequest):
        request = MemoryRequest(request, *fields, **named)
    elif fields or named:
        raise TypeError("give either a MemoryRequest or the method and its fields, not both")
    request.check()
    fallback = None if request.method == INFERENCE else get_method(request.method).estimate_fallback
    if fallback is None:
        return _estimate(ref_or_config, request, trust_remote_code)
    try:
        return _estimate(ref_or_config, request, trust_remote_code)
    except (LifecycleError, ValueError, RuntimeError, TypeError):
        from dataclasses import replace

        as_method, changes = fallback
        est = _estimate(ref_or_config, replace(request, method=as_method, **changes), trust_remote_code)
        est.method = request.method
        est.notes.insert(0, f"{request.method} estimated as {as_method} "
                         + ", ".join(f"{k}={v}" for k, v in changes.items() if v is not None)
                         + " on the same frozen base (an upper bound on its trainable part)")
        return est


def _estimate(ref_or_config, request: MemoryRequest, trust_remote_code: bool) -> MemoryEstimate:
    from lifecycle.catalog.params import as_spec
    from lifecycle.catalog.simulate import Moment

    batch_size, seq_len, target_len = request.batch_size, request.seq_len, request.target_len
    spec = as_spec(ref_or_config, trust_remote_code=trust_remote_code)
    params, buffers, trainable = _weights_and_counts(spec, request)
    base_params = params
    sim, depth = _simulate(spec, request)
    if depth is None:
        moment, sim_states = sim.highest, sim.optimizer_states
    else:
        one, two = sim
        moments = [Moment(_extrapolate(a.peak, b.peak, depth),
                          {k: _extrapolate(a.at_peak.get(k, 0), b.at_peak.get(k, 0), depth)
                           for k in set(a.at_peak) | set(b.at_peak)})
                   for a, b in zip(one.moments, two.moments)]
        moment = max(moments, key=lambda m: m.peak)
        sim_states = _extrapolate(one.optimizer_states, two.optimizer_states, depth)
    peak, at = moment.peak, moment.at_peak
    est = MemoryEstimate(spec.label, request.method, request.dtype, batch_size, seq_len, base_params, trainable,
                         request.device, target_len)
    if target_len:
        sim_len, dec_len = request.step_lengths(spec.architecture)
        est.notes.append(f"encoder {sim_len} tokens, decoder {dec_len} tokens" if dec_len else
                         f"one sequence of {sim_len} tokens (input and target)" if sim_len != seq_len else
                         f"target length not used ({'inference' if request.method == 'inference' else spec.architecture})")
    method = None if request.method == INFERENCE else get_method(request.method)
    if method is not None and method.pairs:
        est.notes.append(f"{request.method}: the policy steps on {batch_size} pairs as one batch of {2 * batch_size} "
                         "(chosen + rejected); reference " + (
                             "log-probs precomputed once before training (no second copy of the weights)"
                             if method.reference == "precomputed" else
                             "= the same base with the adapter off (a no-grad forward, freed before backward)"))
    comps = {"weights": weight_bytes(params, buffers, request.dtype)}
    if request.method == "inference":
        kv = kv_cache_bytes(spec, request)
        comps["kv_cache"] = min(kv, peak)
        comps["activations"] = max(0, peak - comps["kv_cache"])
        est.notes.append(f"KV cache for {seq_len} tokens per sequence (prompt plus generated), "
                         f"in {request.compute_dtype}")
    else:
        if request.trains == "adapter":
            # adapters are trained in the compute dtype (peft keeps them fp32 over an fp32 base)
            comps["adapter_weights"] = int(trainable * BYTES_PER_PARAM[request.compute_dtype])
        states = sim_states
        comps["optimizer_states"] = states
        comps["optimizer_step_temporaries"] = max(0, at.get("optimizer", 0) - states)
        comps["gradients_and_backward"] = at.get("backward", 0)
        comps["activations"] = at.get("forward", 0)
        est.notes.append("at the peak of a training step: backward frees each layer's activations as it "
                         "writes that layer's gradients, so the two only partly add up")
        est.notes.append("AdamW states take the trainable parameters' dtype (torch's zeros_like); for mixed "
                         "precision with fp32 master weights and states, estimate with --dtype fp32")
    if request.device == "cpu":
        forward = comps["activations"] + comps.get("kv_cache", 0)
        comps["allocator_retention"] = int(CPU_ALLOCATOR_RETENTION * forward)
        est.notes.append(f"CPU: glibc malloc keeps freed activation-sized blocks resident; counted as "
                         f"{CPU_ALLOCATOR_RETENTION:g} x the forward's bytes (measured 0.18-0.72, benchmarks/bench_memory.py)")
    else:
        est.notes.append("GPU: what PyTorch allocates; the CUDA context (~0.3-0.5 GiB per process) and the "
                         "caching allocator's fragmentation come on top")
    if request.dtype in ("int8", "int4"):
        est.notes.append(f"{request.dtype} weights as accelerate counts them (every tensor quantized); "
                         "compute, cache and activations in bf16")
    est.components = {k: int(v) for k, v in comps.items() if v or k in ("weights", "activations")}
    return est


def kv_cache_bytes(spec, request: MemoryRequest) -> int:
    """Keys and values of every attention layer for `seq_len` tokens (decoder self-attention, or
    an encoder-decoder's cross-attention over the input); 0 for encoder-only models."""
    cfg = spec.config.get_text_config() if hasattr(spec.config, "get_text_config") else spec.config
    if spec.architecture == "encoder":
        return 0
    heads = getattr(cfg, "num_attention_heads", None) or getattr(cfg, "num_heads", None) or getattr(cfg, "n_head")
    kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
    hidden = getattr(cfg, "hidden_size", None) or getattr(cfg, "d_model")
    head_dim = getattr(cfg, "head_dim", None) or getattr(cfg, "d_kv", None) or hidden // heads
    layers = getattr(cfg, "num_decoder_layers", None) or getattr(cfg, "decoder_layers", None) or cfg.num_hidden_layers
    per_token = 2 * layers * kv_heads * head_dim * BYTES_PER_PARAM[request.compute_dtype]
    return int(per_token * request.batch_size * request.seq_len)


# --------------------------------------------------------------------------- the project's question

CHARS_PER_TOKEN = 4  # rough English average, used when no tokenizer is available offline
PROMPT_OVERHEAD_TOKENS = 64  # instructions and few-shot framing around the data
MIN_SEQ_LEN = 128  # a floor for tiny samples: real data is longer than a hand-written example
# What each scope.adaptation trains, before configs/finetune.yaml names the exact method.
METHOD_FOR_ADAPTATION = {"prompting": INFERENCE, "peft": "lora", "full": "full"}


def data_lengths(sample, target_field: str | None = None) -> tuple[int, int, str]:
    """(longest example, longest `target_field` value) in tokens, and how they were counted. The
    example counts every text field plus the prompt's framing; the target alone sets a decoder's
    length in seq2seq training."""
    from pathlib import Path

    from lifecycle.errors import DataError

    sample = Path(sample)
    if not sample.is_file():
        raise DataError(f"{sample}: file not found", hint="the scope's data sample is data/sample.jsonl")
    longest = target = 0
    from lifecycle.data import iter_json_objects  # streamed; bad bytes, huge lines: file:line

    for _n, row in iter_json_objects(sample):
        chars = sum(len(v) for v in row.values() if isinstance(v, str))
        longest = max(longest, chars)
        value = row.get(target_field) if target_field else None
        target = max(target, len(value) if isinstance(value, str) else 0)
    tokens = -(-longest // CHARS_PER_TOKEN) + PROMPT_OVERHEAD_TOKENS
    target_tokens = -(-target // CHARS_PER_TOKEN)
    note = (f"longest example ~{tokens} tokens (characters/{CHARS_PER_TOKEN} + {PROMPT_OVERHEAD_TOKENS} "
            "for the prompt; no tokenizer offline)")
    if target_tokens:
        note += f"; longest {target_field} ~{target_tokens} tokens"
    return tokens, target_tokens, note


def _valid(load):
    """A project config, or None when it is missing or invalid (`lifecycle validate` says why)."""
    try:
        return load()
    except (LifecycleError, FileNotFoundError):
        return None


def project_memory_request(project, overrides: dict | None = None) -> tuple[MemoryRequest, str]:
    """(the project's memory question, how its lengths were measured). Derived once, here, for
    `lifecycle select`, `lifecycle check select`, `models estimate --project` and the fine-tune
    pre-flight:

    - method: scope.adaptation (prompting: inference; full: full; peft: configs/finetune.yaml's
      adapter method, lora when it names none);
    - dtype: the method's own (qlora: int4), else configs/model.yaml's dtype, else the device's
      (bf16 on a GPU, fp32 on CPU, what loading picks for `auto`);
    - batch: 1 for inference, training.batch_size for training;
    - lengths: the data sample's longest example (characters/4 plus the prompt's framing), for
      training split into input and target (the longest target), each capped by
      data.max_source_tokens / max_target_tokens when set; at least 128 input tokens;
    - LoRA rank, dropout, target modules, virtual tokens: configs/finetune.yaml's peft section
      (its defaults when the file is missing or invalid);
    - device: scope.hardware.device.
    `overrides`: any MemoryRequest field, applied last (e.g. `{"device": "cpu"}`, or a pre-flight's
    measured `{"seq_len": ..., "target_len": ...}`)."""
    from dataclasses import fields, replace

    from lifecycle.config.finetune import FinetuneConfig

    manifest = project.manifest
    scope = manifest.scope
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    method = overrides.get("method") or METHOD_FOR_ADAPTATION[scope.adaptation.value]
    ft = None
    if method != INFERENCE:
        ft = (_valid(project.finetune_config) if project.path(manifest.adaptation.finetune).is_file() else None)
        ft = ft or FinetuneConfig()
        if "method" not in overrides and method == "lora" and get_method(ft.method).trains == "adapter":
            method = ft.method
    device = overrides.get("device") or scope.hardware.device.value  # the dtype follows the device asked
    model_cfg = _valid(project.model_config)
    dtype = None if method == INFERENCE else get_method(method).default_dtype
    if dtype is None:
        dtype = {"fp32": "fp32", "bf16": "bf16", "fp16": "bf16"}.get(getattr(model_cfg, "dtype", "auto"))
    if dtype is None:
        dtype = "bf16" if device == "gpu" else "fp32"
    prompt = _valid(project.prompt_config)
    tokens, target_tokens, note = data_lengths(project.path(manifest.data.sample),
                                               prompt.target_field if prompt else None)
    fields_ = {"method": method, "dtype": dtype, "device": device, "batch_size": 1,
               "seq_len": max(MIN_SEQ_LEN, tokens)}
    if ft is not None:
        seq, target = max(MIN_SEQ_LEN, tokens - target_tokens), target_tokens or None
        if ft.data.max_source_tokens:
            seq = min(seq, ft.data.max_source_tokens)
        if ft.data.max_target_tokens and target:
            target = min(target, ft.data.max_target_tokens)
        fields_.update(batch_size=ft.training.batch_size, seq_len=seq, target_len=target, lora_r=ft.peft.r,
                       lora_dropout=ft.peft.dropout, num_virtual_tokens=ft.peft.num_virtual_tokens,
                       target_modules=tuple(ft.peft.target_modules) if ft.peft.target_modules else None)
    known = {f.name for f in fields(MemoryRequest)}
    unknown = [k for k in overrides if k not in known]
    if unknown:
        raise CatalogError(f"unknown memory request field(s): {', '.join(unknown)}")
    request = replace(MemoryRequest(**fields_), **overrides)
    return request.check(), note
