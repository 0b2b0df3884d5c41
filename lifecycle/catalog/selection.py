"""Rank catalog models for a project's scope, one pass/fail reason per criterion.

Criteria: task fit, architecture for the task, licence against the commercial-use answer, context
window against the token length of the project's own data, and memory for the planned adaptation
on the declared hardware (from the estimator)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.catalog import CatalogEntry, licence_ok, load_catalog
from lifecycle.cache import JsonCache
from lifecycle.errors import CatalogError, DataError, LifecycleError, located
from lifecycle.project import TOOL_DIR

GIB = 1024**3
DEFAULT_CPU_MEMORY_GIB = 16.0
METHOD_FOR_ADAPTATION = {"prompting": "inference", "peft": "lora", "full": "full"}
# Which architectures can do each task: generation needs a decoder.
ARCH_FOR_TASK = {
    "summarization": ("encoder-decoder", "decoder"),
    "translation": ("encoder-decoder", "decoder"),
    "question_answering": ("encoder-decoder", "decoder"),
    "chat": ("decoder",),
    "classification": ("encoder", "encoder-decoder", "decoder"),
}
CHARS_PER_TOKEN = 4  # rough English average, used when no tokenizer is available offline
PROMPT_OVERHEAD_TOKENS = 64  # instructions and few-shot framing around the data


def parse_memory(text: str) -> int:
    """'24GiB', '24GB', '16g', '512MiB' or a plain number of GiB -> bytes."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*", str(text), re.I)
    if not m:
        raise CatalogError(f"cannot read memory size '{text}'", hint="write it like 24GiB, 80GB or 512MiB")
    value, unit = float(m.group(1)), (m.group(2) or "gib").lower()
    base = 1000 if unit.endswith("b") and "i" not in unit and len(unit) == 2 else 1024
    power = {"k": 1, "m": 2, "g": 3, "t": 4}.get(unit[:1], 3)
    return int(value * base**power)


@dataclass
class Budget:
    """Memory one model copy may use: one GPU's memory, or the machine's RAM for CPU."""

    bytes: int
    device: str  # gpu | cpu
    source: str  # where the number came from

    @property
    def dtype(self) -> str:
        return "bf16" if self.device == "gpu" else "fp32"

    def describe(self) -> str:
        return f"{self.bytes / GIB:.1f} GiB {self.device.upper()} ({self.source})"


def budget_for(hardware, *, gpu_memory: str | None = None, memory: str | None = None) -> Budget:
    """Budget from the manifest's scope.hardware, overridden by --gpu-memory / --memory."""
    if gpu_memory:
        return Budget(parse_memory(gpu_memory), "gpu", "--gpu-memory")
    if memory:
        return Budget(parse_memory(memory), getattr(getattr(hardware, "device", None), "value", "cpu"), "--memory")
    device = getattr(getattr(hardware, "device", None), "value", "cpu")
    if device == "gpu" and getattr(hardware, "gpu_memory_gib", None):
        return Budget(int(hardware.gpu_memory_gib * GIB), "gpu", "scope.hardware.gpu_memory_gib")
    return Budget(int(DEFAULT_CPU_MEMORY_GIB * GIB), "cpu", "default for CPU; set --memory")


def fits_memory(model_ref, method: str, hardware, *, batch_size: int = 1, seq_len: int = 512,
                dtype: str | None = None):
    """(fits, one-line reason, MemoryEstimate | None). `hardware`: a manifest Hardware, a Budget, or bytes."""
    from lifecycle.catalog.memory import estimate_memory

    budget = hardware if isinstance(hardware, Budget) else (
        Budget(int(hardware), "gpu", "given") if isinstance(hardware, (int, float)) else budget_for(hardware))
    dtype = dtype or ("int4" if method == "qlora" else budget.dtype)
    est = estimate_memory(model_ref, method, dtype, batch_size, seq_len, device=budget.device)
    ok, reason = _memory_verdict(est.total_bytes, method, dtype, batch_size, str(seq_len), budget)
    return ok, reason, est


def _memory_verdict(need: int, method: str, dtype: str, batch_size: int, tokens: str, budget: Budget):
    verdict = "fits" if need <= budget.bytes else "does not fit"
    return need <= budget.bytes, (f"{method} in {dtype} (batch {batch_size}, {tokens} tokens) needs "
                                  f"{need / GIB:.1f} GiB; {verdict} in {budget.describe()}")


def data_lengths(sample: Path, target_field: str | None = None) -> tuple[int, int, str]:
    """(longest example, longest `target_field` value) in tokens, and how they were counted. The
    example counts every text field plus the prompt's framing; the target alone sets a decoder's
    length in seq2seq training."""
    if not sample.is_file():
        raise DataError(f"{sample}: file not found", hint="the scope's data sample is data/sample.jsonl")
    longest = target = 0
    for n, line in enumerate(sample.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(located(sample, n, None, f"not valid JSON ({err.msg})")) from err
        if not isinstance(row, dict):
            raise DataError(located(sample, n, None, "each line must be a JSON object"))
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


@dataclass
class Criterion:
    name: str
    passed: bool
    reason: str


@dataclass
class Candidate:
    entry: CatalogEntry
    criteria: list[Criterion] = field(default_factory=list)
    memory_bytes: int | None = None

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.criteria)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.criteria)

    def to_dict(self) -> dict:
        return {"id": self.entry.id, "ok": self.ok, "passed": self.passed, "parameters": self.entry.parameters,
                "memory_bytes": self.memory_bytes,
                "criteria": [{"name": c.name, "passed": c.passed, "reason": c.reason} for c in self.criteria]}


@dataclass
class SelectionRequest:
    task: str
    commercial_use: bool
    method: str
    budget: Budget
    tokens: int  # the longest example with its prompt and target
    batch_size: int = 1
    target_tokens: int = 0  # the longest target alone (0: unknown)
    cache: JsonCache | None = None  # estimates already simulated for this project (.lifecycle/cache/)


def evaluate_candidate(entry: CatalogEntry, req: SelectionRequest) -> Candidate:
    cand = Candidate(entry)
    add = cand.criteria.append
    add(Criterion("task", req.task in [t.value for t in entry.tasks],
                  f"suits {', '.join(t.value for t in entry.tasks)}"))
    archs = ARCH_FOR_TASK[req.task]
    add(Criterion("architecture", entry.architecture in archs,
                  f"{entry.architecture}; {req.task} needs {' or '.join(archs)}"))
    ok, why = licence_ok(entry, req.commercial_use)
    add(Criterion("licence", ok, why))
    add(Criterion("context", req.tokens <= entry.context_window,
                  f"context {entry.context_window} tokens vs the data's ~{req.tokens}"))
    if cand.criteria[0].passed and cand.criteria[1].passed:
        add(_memory_criterion(entry, req, cand))
    else:  # the simulation costs a second or two per model: spend it only on models that can do the task
        add(Criterion("memory", False, "not estimated: the model does not fit the task"))
    return cand


def _memory_criterion(entry: CatalogEntry, req: SelectionRequest, cand: Candidate) -> Criterion:
    from lifecycle.catalog.memory import BYTES_PER_PARAM, tokens_label

    dtype = "int4" if req.method == "qlora" else req.budget.dtype
    weights = entry.parameters * BYTES_PER_PARAM[dtype]
    if weights > req.budget.bytes:  # no need to simulate a step: the weights alone are too big
        cand.memory_bytes = int(weights)
        return Criterion("memory", False, f"weights alone need {weights / GIB:.1f} GiB in {dtype}; "
                         f"budget {req.budget.describe()}")
    seq, target = max(128, req.tokens), None
    if req.method != "inference" and req.target_tokens:
        # training: the input is the example without its target, the target the decoder's length
        # (a decoder-only model's sequence is the two together, as the estimator counts it)
        seq, target = max(128, req.tokens - req.target_tokens), req.target_tokens
    cand.memory_bytes = _estimated_bytes(entry, req, dtype, seq, target)
    ok, reason = _memory_verdict(cand.memory_bytes, req.method, dtype, req.batch_size, tokens_label(seq, target),
                                 req.budget)
    return Criterion("memory", ok, reason)


def _estimated_bytes(entry: CatalogEntry, req: SelectionRequest, dtype: str, seq_len: int,
                     target_len: int | None) -> int:
    """The estimator's total, from the project's cache when this exact question was asked before
    (each answer simulates a step: about a second per model)."""
    from lifecycle.catalog.memory import ESTIMATOR_VERSION, estimate_memory
    from lifecycle.runs.store import stable_hash

    key = stable_hash({"config": entry.config, "method": req.method, "dtype": dtype, "batch": req.batch_size,
                       "seq_len": seq_len, "target_len": target_len, "device": req.budget.device,
                       "estimator": ESTIMATOR_VERSION})
    name = f"estimate:{entry.id}"
    cached = req.cache.get(name, key) if req.cache else None
    if isinstance(cached, int):
        return cached
    need = estimate_memory(entry.id, req.method, dtype, req.batch_size, seq_len, device=req.budget.device,
                           target_len=target_len).total_bytes
    if req.cache:
        req.cache.put(name, key, need)
    return need


def rank(req: SelectionRequest, only: list[str] | None = None, progress=None) -> list[Candidate]:
    """Every (or the named) catalog model evaluated; best first: all criteria passed, then the
    most criteria passed, then instruction-tuned, then the largest (more capacity for the budget).
    `progress(done, total, model_id)` is called before each candidate."""
    from lifecycle.catalog import get_entry

    entries = [get_entry(i) for i in only] if only else list(load_catalog())
    cands = []
    for i, entry in enumerate(entries):
        if progress:
            progress(i, len(entries), entry.id)
        cands.append(evaluate_candidate(entry, req))
    return sorted(cands, key=lambda c: (not c.ok, -c.passed, not c.entry.instruction_tuned, -c.entry.parameters))


def request_for_project(project, *, gpu_memory: str | None = None, memory: str | None = None):
    """(SelectionRequest, note on how the data's length was measured) from the project's scope."""
    scope = project.manifest.scope
    method = METHOD_FOR_ADAPTATION[scope.adaptation.value]
    try:
        target_field = project.prompt_config().target_field
    except LifecycleError:  # an invalid prompt config: `lifecycle validate` says why; count whole examples
        target_field = None
    tokens, target_tokens, note = data_lengths(project.path(project.manifest.data.sample), target_field)
    batch = 1
    if method != "inference":
        batch = 8
        if project.path(project.manifest.adaptation.finetune).is_file():
            batch = project.finetune_config().training.batch_size
    req = SelectionRequest(scope.task.value, scope.commercial_use, method,
                           budget_for(scope.hardware, gpu_memory=gpu_memory, memory=memory), tokens, batch,
                           target_tokens, JsonCache(project.root / TOOL_DIR / "cache" / "estimates.json"))
    return req, note


def apply_selection(project, model_id: str, *, gpu_memory: str | None = None, memory: str | None = None):
    """Record a catalog model in lifecycle.yaml (selection.model/.reason) and configs/model.yaml
    (model), keeping the user's comments and key order. Returns (entry, reason)."""
    from lifecycle.catalog import get_entry
    from lifecycle.config.yaml_io import update_yaml

    entry = get_entry(model_id)
    req, _ = request_for_project(project, gpu_memory=gpu_memory, memory=memory)
    cand = evaluate_candidate(entry, req)
    failed = [c.name for c in cand.criteria if not c.passed]
    reason = ("passes task, architecture, licence, context and memory" if not failed
              else f"chosen although it fails: {', '.join(failed)}")
    reason += f" (lifecycle select; {req.method} on {req.budget.describe()})"
    update_yaml(project.manifest_path, {("selection", "model"): entry.id, ("selection", "reason"): reason})
    model_yaml = project.configs_dir / "model.yaml"
    if model_yaml.is_file():
        update_yaml(model_yaml, {("model",): entry.id})
    else:
        raise CatalogError(f"{model_yaml}: file not found; recorded the choice in lifecycle.yaml only",
                           hint="restore configs/model.yaml (see `lifecycle new`) and re-run --apply")
    return entry, reason
