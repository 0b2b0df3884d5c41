"""Rank catalog models for a project's scope, one pass/fail reason per criterion.

Criteria: task fit, architecture for the task and the adaptation (every adaptation this toolkit runs,
prompting and fine-tuning alike, generates the answer, so an encoder-only model never passes),
licence against the commercial-use answer, context window against the token length of the
project's own data, and memory for the planned adaptation on the declared hardware (the
estimator's peak plus the runtime headroom below). Gated hub models are flagged.

Runtime headroom (GPU): a process needs memory the estimator does not model: the CUDA context
and the cuBLAS/cuDNN workspaces (0.5-1 GiB per process on current drivers; 1 GiB is reserved)
and blocks the caching allocator holds but cannot reuse (fragmentation: 5% of the estimate is
reserved). A model "fits" only when estimate + headroom <= the GPU's memory: Llama-3.1-8B
inference in bf16 (~15-16 GiB of weights plus activations) is judged against 24 GiB with ~2 GiB
set aside. On CPU, 1 GiB is reserved for the Python process and its libraries."""

from __future__ import annotations

from dataclasses import dataclass, field

from lifecycle.cache import JsonCache
from lifecycle.catalog import CatalogEntry, licence_ok, load_catalog
from lifecycle.catalog.memory import (  # noqa: F401  (data_lengths and the constants: this module's API too)
    CHARS_PER_TOKEN, INFERENCE, METHOD_FOR_ADAPTATION, PROMPT_OVERHEAD_TOKENS, MemoryRequest, data_lengths,
    project_memory_request,
)
from lifecycle.errors import CatalogError
from lifecycle.project import TOOL_DIR
from lifecycle.tasks import TASKS
from lifecycle.units import GIB, parse_memory as _parse_memory

DEFAULT_CPU_MEMORY_GIB = 16.0  # only when this machine's RAM cannot be read
RUNTIME_RESERVE_BYTES = {"gpu": 1 * GIB, "cpu": 1 * GIB}  # CUDA context + workspaces; CPU: interpreter + libs
FRAGMENTATION_SHARE = {"gpu": 0.05, "cpu": 0.0}  # caching-allocator blocks that cannot be reused
GENERATIVE_ARCHS = ("encoder-decoder", "decoder")  # what prompting and every fine-tuning method need
# Which architectures can do each task (from the task registry): generation needs a decoder.
ARCH_FOR_TASK = {name: spec.architectures for name, spec in TASKS.items()}


def parse_memory(text: str) -> int:
    """'24GiB', '80GB', '16g', '512MiB' or a plain number of GiB -> bytes; binary units (lifecycle.units)."""
    from lifecycle.errors import ConfigError

    try:
        return _parse_memory(text)
    except ConfigError as err:
        raise CatalogError(err.message, hint=err.hint) from None


def machine_memory_bytes() -> int | None:
    """This machine's physical RAM, or None where the OS does not say."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


@dataclass
class Budget:
    """Memory one model copy may use: one GPU's memory, or the machine's RAM for CPU."""

    bytes: int
    device: str  # gpu | cpu
    source: str  # where the number came from

    @property
    def dtype(self) -> str:
        return "bf16" if self.device == "gpu" else "fp32"

    @property
    def gib(self) -> float:
        return self.bytes / GIB

    def describe(self) -> str:
        return f"{self.bytes / GIB:.1f} GiB {self.device.upper()} ({self.source})"

    @classmethod
    def for_hardware(cls, hardware, *, gpu_memory: str | None = None, memory: str | None = None) -> "Budget":
        """The one budget rule, for `select` and `check select` alike: --gpu-memory (a GPU), else
        --memory (the declared device), else scope.hardware: a GPU's gpu_memory_gib, or for a CPU
        project this machine's RAM (the machine the tool runs on is the one a CPU project runs on;
        16 GiB where the OS does not say)."""
        device = getattr(getattr(hardware, "device", None), "value", "cpu")
        if gpu_memory:
            return cls(parse_memory(gpu_memory), "gpu", "--gpu-memory")
        if memory:
            return cls(parse_memory(memory), device, "--memory")
        if device == "gpu" and getattr(hardware, "gpu_memory_gib", None):
            return cls(int(hardware.gpu_memory_gib * GIB), "gpu", "scope.hardware.gpu_memory_gib")
        ram = machine_memory_bytes()
        if ram:
            return cls(ram, "cpu", "this machine's RAM; set --memory")
        return cls(int(DEFAULT_CPU_MEMORY_GIB * GIB), "cpu", "default for CPU; set --memory")


def budget_for(hardware, *, gpu_memory: str | None = None, memory: str | None = None) -> Budget:
    """Budget from the manifest's scope.hardware, overridden by --gpu-memory / --memory."""
    return Budget.for_hardware(hardware, gpu_memory=gpu_memory, memory=memory)


def fits_memory(model_ref, method: str, hardware, *, batch_size: int = 1, seq_len: int = 512,
                dtype: str | None = None):
    """(fits, one-line reason, MemoryEstimate | None). `hardware`: a manifest Hardware, a Budget, or bytes."""
    from lifecycle.catalog.memory import estimate_memory
    from lifecycle.methods import get_method

    budget = hardware if isinstance(hardware, Budget) else (
        Budget(int(hardware), "gpu", "given") if isinstance(hardware, (int, float)) else budget_for(hardware))
    dtype = dtype or (None if method == INFERENCE else get_method(method).default_dtype) or budget.dtype
    request = MemoryRequest(method, dtype, batch_size, seq_len, device=budget.device)
    est = estimate_memory(model_ref, request)
    ok, reason = memory_verdict(est.total_bytes, request, budget)
    return ok, reason, est


def runtime_headroom(need: int, device: str) -> int:
    """Bytes set aside beyond the estimate for the runtime (module docstring: the documented rule)."""
    return int(RUNTIME_RESERVE_BYTES.get(device, GIB) + FRAGMENTATION_SHARE.get(device, 0.0) * need)


def memory_verdict(need: int, request: MemoryRequest, budget: Budget) -> tuple[bool, str]:
    """(fits, the one line every command prints for it): fits when the estimate plus the runtime
    headroom is within the budget."""
    from lifecycle.catalog.memory import tokens_label

    room = runtime_headroom(need, budget.device)
    ok = need + room <= budget.bytes
    verdict = "fits" if ok else "does not fit"
    return ok, (f"{request.method} in {request.dtype} (batch {request.batch_size}, "
                f"{tokens_label(request.seq_len, request.target_len)} tokens) needs {need / GIB:.1f} GiB "
                f"+ {room / GIB:.1f} GiB runtime headroom; {verdict} in {budget.describe()}")


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
    notes: list[str] = field(default_factory=list)  # shown with the candidate, not pass/fail (e.g. gated)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.criteria)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.criteria)

    def to_dict(self) -> dict:
        return {"id": self.entry.id, "ok": self.ok, "passed": self.passed, "parameters": self.entry.parameters,
                "memory_bytes": self.memory_bytes, "gated": self.entry.gated, "notes": list(self.notes),
                "criteria": [{"name": c.name, "passed": c.passed, "reason": c.reason} for c in self.criteria]}


@dataclass
class SelectionRequest:
    task: str
    commercial_use: bool
    memory: MemoryRequest  # the project's memory question, asked of every candidate
    budget: Budget
    tokens: int  # the longest example with its prompt and target (the context criterion)
    cache: JsonCache | None = None  # estimates already simulated for this project (.lifecycle/cache/)
    adaptation: str = "prompting"  # scope.adaptation: prompting, fine_tuning, ...

    @property
    def method(self) -> str:
        return self.memory.method


def evaluate_candidate(entry: CatalogEntry, req: SelectionRequest) -> Candidate:
    cand = Candidate(entry)
    add = cand.criteria.append
    add(Criterion("task", req.task in [t.value for t in entry.tasks],
                  f"suits {', '.join(t.value for t in entry.tasks)}"))
    add(architecture_criterion(entry.architecture, req))
    ok, why = licence_ok(entry, req.commercial_use)
    add(Criterion("licence", ok, why))
    if entry.gated:
        cand.notes.append("gated on the hub: accept its licence on the model page and log in (`hf auth login`) "
                          "before it downloads")
    add(Criterion("context", req.tokens <= entry.context_window,
                  f"context {entry.context_window} tokens vs the data's ~{req.tokens}"))
    if cand.criteria[0].passed and cand.criteria[1].passed:
        add(_memory_criterion(entry, req, cand))
    else:  # the simulation costs a second or two per model: spend it only on models that can do the task
        add(Criterion("memory", False, "not estimated: the model does not fit the task"))
    return cand


def usable_architectures(task: str) -> tuple[str, ...]:
    """Architectures the task allows that the toolkit's adaptations can use: prompting and every
    fine-tuning method generate the answer, so an encoder-only model is never usable here."""
    return tuple(a for a in ARCH_FOR_TASK[task] if a in GENERATIVE_ARCHS)


def architecture_criterion(architecture: str | None, req: SelectionRequest) -> Criterion:
    archs = usable_architectures(req.task)
    adaptation = str(getattr(req.adaptation, "value", req.adaptation)).replace("_", "-")
    why = f"{architecture or 'unknown'}; {adaptation} for {req.task} needs {' or '.join(archs)}"
    if architecture == "encoder":
        why += " (an encoder-only model cannot generate the answer)"
    return Criterion("architecture", architecture in archs, why)


def _memory_criterion(entry: CatalogEntry, req: SelectionRequest, cand: Candidate) -> Criterion:
    from lifecycle.catalog.memory import BYTES_PER_PARAM

    dtype = req.memory.dtype
    weights = entry.parameters * BYTES_PER_PARAM[dtype]
    if weights > req.budget.bytes:  # no need to simulate a step: the weights alone are too big
        cand.memory_bytes = int(weights)
        return Criterion("memory", False, f"weights alone need {weights / GIB:.1f} GiB in {dtype}; "
                         f"budget {req.budget.describe()}")
    cand.memory_bytes = _estimated_bytes(entry, req)
    ok, reason = memory_verdict(cand.memory_bytes, req.memory, req.budget)
    return Criterion("memory", ok, reason)


def _estimated_bytes(entry: CatalogEntry, req: SelectionRequest) -> int:
    """The estimator's total, from the project's cache when this exact question was asked before
    (each answer simulates a step: about a second per model)."""
    from dataclasses import asdict

    from lifecycle.catalog.memory import ESTIMATOR_VERSION, estimate_memory
    from lifecycle.hashing import stable_hash
    key = stable_hash({"config": entry.config, "request": asdict(req.memory), "estimator": ESTIMATOR_VERSION})
    name = f"estimate:{entry.id}"
    cached = req.cache.get(name, key) if req.cache else None
    if isinstance(cached, int):
        return cached
    need = estimate_memory(entry.id, req.memory).total_bytes
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
    # a gated model needs a hub account step: among equals, the open ones first
    return sorted(cands, key=lambda c: (not c.ok, -c.passed, c.entry.gated, not c.entry.instruction_tuned,
                                        -c.entry.parameters))


def request_for_project(project, *, gpu_memory: str | None = None, memory: str | None = None):
    """(SelectionRequest, note on how the data's length was measured) from the project's scope;
    the memory question is `MemoryRequest.for_project`'s, on the budget's device."""
    scope = project.manifest.scope
    budget = Budget.for_hardware(scope.hardware, gpu_memory=gpu_memory, memory=memory)
    mem, note = project_memory_request(project, {"device": budget.device})
    tokens = data_lengths(project.path(project.manifest.data.sample))[0]
    req = SelectionRequest(scope.task.value, scope.commercial_use, mem, budget, tokens,
                           JsonCache(project.root / TOOL_DIR / "cache" / "estimates.json"),
                           getattr(scope.adaptation, "value", str(scope.adaptation)))
    return req, note


def folder_criteria(local, req: SelectionRequest) -> list[Criterion]:
    """The select criteria for a local model folder: architecture, memory and context from its own
    config.json; licence from the catalog model it declares to copy (lifecycle.catalog.local)."""
    from lifecycle.loading import context_window, load_model_config

    out = [architecture_criterion(local.architecture, req)]
    if local.base is not None:
        ok, why = licence_ok(local.base, req.commercial_use)
        out.append(Criterion("licence", ok, f"{why} (from {local.base.id}, {local.declared_in})"))
    else:
        out.append(Criterion("licence", not req.commercial_use,
                             "no catalog model declared (README.md `base_model:`): review the licence and attest "
                             "select.licence_review" if req.commercial_use else "commercial use not required"))
    config = load_model_config(str(local.folder))
    window = context_window(config)
    out.append(Criterion("context", req.tokens <= window, f"context {window} tokens vs the data's ~{req.tokens}"))
    ok, reason, _ = fits_memory(str(local.folder), req.method, req.budget, batch_size=req.memory.batch_size,
                                seq_len=req.memory.seq_len, dtype=req.memory.dtype)
    out.append(Criterion("memory", ok, reason))
    return out


def apply_selection(project, model_id: str, *, gpu_memory: str | None = None, memory: str | None = None):
    """Record a catalog model or a local model folder in lifecycle.yaml (selection.model/.reason)
    and configs/model.yaml (model), keeping the user's comments and key order. A folder is written
    as the project-relative path (the offline setup stays). Returns (name recorded, reason)."""
    from lifecycle.catalog import get_entry
    from lifecycle.catalog.local import local_model
    from lifecycle.config.yaml_io import update_yaml

    local = local_model(project.root, model_id)
    req, _ = request_for_project(project, gpu_memory=gpu_memory, memory=memory)
    if local is not None:
        name, criteria, what = local.shown, folder_criteria(local, req), local.describe()
    else:
        entry = get_entry(model_id)
        name, criteria, what = entry.id, evaluate_candidate(entry, req).criteria, None
    failed = [c.name for c in criteria if not c.passed]
    names = [c.name for c in criteria]
    reason = ("passes " + ", ".join(names[:-1]) + " and " + names[-1] if not failed
              else f"chosen although it fails: {', '.join(failed)}")
    if what:
        reason = f"{what}; {reason}"
    reason += f" (lifecycle select; {req.method} on {req.budget.describe()})"
    update_yaml(project.manifest_path, {("selection", "model"): name, ("selection", "reason"): reason})
    model_yaml = project.configs_dir / "model.yaml"
    if model_yaml.is_file():
        update_yaml(model_yaml, {("model",): name})
    else:
        raise CatalogError(f"{model_yaml}: file not found; recorded the choice in lifecycle.yaml only",
                           hint="restore configs/model.yaml (see `lifecycle new`) and re-run --apply")
    return name, reason
