"""`lifecycle optimize quantize`: int8 dynamic quantization of the project's model or a run's, measured.

    run = quantize(project, QuantizeOptions(run=None, bits=8))

Dynamic quantization (torch.ao.quantization.quantize_dynamic) stores every nn.Linear weight in
int8 and quantizes activations on the fly, on CPU. It is deterministic given the fp32 weights, so
the run keeps the recipe and the source's content hash (the quantized state dict is written too, for
its size); `lifecycle serve --run QUANTIZE_RUN` rebuilds the same model from the source, after
checking that hash.

One run folder (kind "quantize") holds, side by side for fp32 and int8: weight bytes, generation
tokens/s on the eval set's prompts (same prompts, same greedy settings, same threads), and the
quality: both models' predictions scored as two eval runs and compared with `eval compare`
(paired bootstrap CI of the difference, and a paired permutation test).

4-bit needs bitsandbytes on a CUDA GPU; on a CPU it is refused with the reason."""

from __future__ import annotations

import copy
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import LifecycleError, RunError
from lifecycle.reporting import to_stderr

KIND = "quantize"
STATE_FILE = "model_int8.pt"


class OptimizeError(LifecycleError):
    """A quantization or export request that cannot be done here."""


@dataclass
class QuantizeOptions:
    run: str | None = None          # a finetune / merge run; None: configs/model.yaml
    bits: int = 8
    limit: int | None = None        # first N examples of the eval set
    threads: int | None = None      # torch threads for the speed measurement (None: leave as is)
    argv: list[str] | None = None


def refuse_unsupported(bits: int) -> None:
    import torch

    if bits == 8:
        return
    if bits != 4:
        raise OptimizeError(f"--bits {bits} is not offered; use 8 (int8 dynamic, CPU) or 4 (bitsandbytes, CUDA)")
    if not torch.cuda.is_available():
        raise OptimizeError("4-bit quantization (bitsandbytes NF4) needs a CUDA GPU and this machine has none; "
                            "int8 dynamic quantization is the CPU path",
                            hint="run `lifecycle optimize quantize --bits 8`, or quantize to 4-bit on a GPU machine "
                            "(or fine-tune with `method: qlora` there)")
    raise OptimizeError("4-bit quantization is applied when the model is loaded on the GPU, not stored as a run here",
                        hint="fine-tune with `method: qlora` (4-bit base + LoRA), or serve with vLLM and its own "
                        "quantization (`lifecycle optimize export`)")


def quantize_int8(model):
    """A quantized copy: every nn.Linear -> dynamic int8 (weights int8, activations quantized per batch)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        # torch 2.13 still ships (and runs) the eager dynamic quantizer but warns that it moves to torchao;
        # the warning says nothing the run record does not (recipe + torch version).
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(copy.deepcopy(model).to("cpu").float(), {torch.nn.Linear}, dtype=torch.qint8)


def state_bytes(model) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getvalue()


def _source(project, run_ref: str | None):
    """(LoadedModel on CPU fp32, description dict, weights sha256 or None)."""
    from lifecycle.loading import load_model
    from lifecycle.runs.store import RunStore
    from lifecycle.artifacts import weights_hash
    from lifecycle.finetune.run_model import load_trained

    if run_ref:
        src = RunStore(project.runs_dir).get(run_ref)
        if src.status != "complete":
            raise RunError(f"run {src.id} is {src.status}; quantize a complete run")
        if src.kind == KIND:
            raise OptimizeError(f"run {src.id} is already quantized")
        loaded, base, folder, extra = load_trained(project, src)
        if str(loaded.device) != "cpu" or str(loaded.dtype) != "torch.float32":
            loaded.model.to("cpu").float()
        return loaded, {"run": src.id, "run_kind": src.kind, "base": base, **extra}, (weights_hash(folder) if folder else None)
    cfg = project.model_config_for()
    loaded = load_model(cfg.model, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code,
                        architecture=cfg.architecture, device="cpu", dtype="fp32", max_context=cfg.max_context)
    return loaded, {"run": None, "run_kind": None, "base": cfg.model, "revision": cfg.revision}, weights_hash(cfg.model)


def _with_model(loaded, model):
    from dataclasses import replace

    return replace(loaded, model=model)


def _speed(loaded, settings, prompts, stop) -> tuple[list, dict]:
    """Generate all prompts twice (the first pass warms up); report the second."""
    from lifecycle.generation.engine import Engine

    engine = Engine(loaded, settings, stop=stop)
    engine.generate(prompts[: min(2, len(prompts))])
    t = time.perf_counter()
    gens = engine.generate(prompts)
    wall = time.perf_counter() - t
    tokens = sum(g.tokens_out for g in gens)
    return gens, {"wall_s": round(wall, 4), "tokens_out": tokens, "examples": len(gens),
                  "tokens_per_s": round(tokens / wall, 3) if wall else None}


def _eval_run(project, prompts, gens, folder: Path, name: str, extra: dict, limit):
    """Score predictions through `lifecycle eval run --predictions` machinery: one eval run."""
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.evaluation.runner import EvalOptions, run_eval

    path = folder / f"predictions_{name}.jsonl"
    atomic_write_text(path, "".join(json.dumps({"id": p.id, "prediction": g.text, "tokens_out": g.tokens_out},
                                               ensure_ascii=False) + "\n" for p, g in zip(prompts, gens)))
    outcome = run_eval(project, EvalOptions(predictions=path, limit=limit, report=False, extra_meta=extra))
    return outcome.runs[0].run


def quantize(project, opts: QuantizeOptions, *, echo=to_stderr):
    import torch

    from lifecycle.evaluation.compare import compare_runs
    from lifecycle.prompting.project_inputs import load_prompt_inputs
    from lifecycle.runs.store import RunStore

    refuse_unsupported(opts.bits)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    if not project.path(project.manifest.evaluation.config).is_file():
        raise OptimizeError("quantize measures the quality cost on the eval set, and configs/eval.yaml is missing",
                            hint="create it with `lifecycle eval init`")
    limit = opts.limit if opts.limit is not None else project.eval_config().dataset.limit
    loaded, source, source_sha = _source(project, opts.run)
    eval_path = project.path(project.eval_config().dataset.path)
    inputs = load_prompt_inputs(project, data=eval_path, limit=limit)
    prompts = inputs.with_model(loaded).build(0)  # the model quantized (a tuned one with --run) is asked
    settings = project.generation_settings()
    recipe = {"method": "torch.ao.quantization.quantize_dynamic", "dtype": "qint8", "modules": ["torch.nn.Linear"],
              "bits": 8, "torch": str(torch.__version__)}
    config = {"source": source, "recipe": recipe, "limit": limit, "threads": torch.get_num_threads(),
              "generation": settings.resolved().model_dump(mode="json")}
    store = RunStore(project.runs_dir)
    with store.new_run(KIND, config=config, model={**source, "weights_sha256": source_sha},
                       dataset={"path": str(eval_path), "examples": len(prompts)}, argv=opts.argv,
                       extra={"quantize": {"source": source, "source_weights_sha256": source_sha}}) as run:
        echo(f"quantizing {source['run'] or source['base']} to int8 (dynamic, nn.Linear); "
             f"measuring on {len(prompts)} eval prompts with {torch.get_num_threads()} thread(s)")
        fp32_bytes = len(state_bytes(loaded.model))
        qmodel = quantize_int8(loaded.model)
        qbytes = state_bytes(qmodel)
        from lifecycle.config.yaml_io import atomic_write_bytes

        atomic_write_bytes(run.path / STATE_FILE, qbytes)
        fp32_gens, fp32_speed = _speed(loaded, settings, prompts, inputs.cfg.stop)
        int8_gens, int8_speed = _speed(_with_model(loaded, qmodel), settings, prompts, inputs.cfg.stop)
        same = sum(a.text == b.text for a, b in zip(fp32_gens, int8_gens))
        tag = {"quantize_run": run.id}
        fp32_eval = _eval_run(project, prompts, fp32_gens, run.path, "fp32", {**tag, "precision": "fp32"}, limit)
        int8_eval = _eval_run(project, prompts, int8_gens, run.path, "int8", {**tag, "precision": "int8"}, limit)
        comparison = compare_runs(project, [fp32_eval.id, int8_eval.id], argv=opts.argv)
        quality = {r.metric: {"fp32": r.a, "int8": r.b, "delta": r.diff, "ci": list(r.ci),
                              "p_value": r.p_value, "verdict": r.verdict, "higher_is_better": r.higher_is_better}
                   for r in comparison.results[int8_eval.id]}
        result = {
            "size": {"fp32_bytes": fp32_bytes, "int8_bytes": len(qbytes), "ratio": round(len(qbytes) / fp32_bytes, 4)},
            "speed": {"fp32": fp32_speed, "int8": int8_speed,
                      "tokens_per_s_ratio": round(int8_speed["tokens_per_s"] / fp32_speed["tokens_per_s"], 4)
                      if fp32_speed["tokens_per_s"] else None},
            "outputs_identical": {"n": len(prompts), "same": same},
            "quality": quality,
            "eval_runs": {"fp32": fp32_eval.id, "int8": int8_eval.id}, "compare_run": comparison.run.id
            if comparison.run else None, "n": comparison.n[int8_eval.id],
            "weights_sha256": weights_hash_file(run.path / STATE_FILE),
        }
        from lifecycle.config.yaml_io import atomic_write_text

        atomic_write_text(run.path / "quantize.json", json.dumps(result, indent=2) + "\n")
        run.write_metrics(_metrics_doc(result))
        atomic_write_text(run.path / "report.md", _report(run.id, source, result))
        run.finish("complete", quantize={"source": source, "source_weights_sha256": source_sha, "recipe": recipe,
                                         **{k: result[k] for k in ("size", "speed", "eval_runs", "compare_run",
                                                                   "weights_sha256", "outputs_identical")},
                                         "quality": quality})
    return run, result


def weights_hash_file(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _metrics_doc(result: dict) -> dict:
    n = result["n"]
    flat = {"size_ratio": {"value": result["size"]["ratio"], "ci": None, "n": 1},
            "tokens_per_s_ratio": {"value": result["speed"]["tokens_per_s_ratio"], "ci": None, "n": n}}
    for m, q in result["quality"].items():
        flat[f"delta/{m}"] = {"value": q["delta"], "ci": q["ci"], "n": n, "higher_is_better": q["higher_is_better"]}
    return {"n": n, "metrics": flat}


def _report(run_id: str, source: dict, r: dict) -> str:
    s, sp = r["size"], r["speed"]
    lines = [f"# int8 dynamic quantization: {source['run'] or source['base']}", "", f"Run {run_id}.", "",
             "| | fp32 | int8 | int8 / fp32 |", "|---|---|---|---|",
             f"| weights (MB) | {s['fp32_bytes'] / 1e6:.2f} | {s['int8_bytes'] / 1e6:.2f} | {s['ratio']:.3f} |",
             f"| generation tokens/s | {sp['fp32']['tokens_per_s']} | {sp['int8']['tokens_per_s']} | "
             f"{sp['tokens_per_s_ratio']} |", "",
             f"Greedy outputs identical on {r['outputs_identical']['same']} of {r['outputs_identical']['n']} prompts.", "",
             f"Quality on the eval set (n = {r['n']}; eval runs {r['eval_runs']['fp32']} vs {r['eval_runs']['int8']}, "
             f"`lifecycle eval compare`: paired bootstrap 95% CI of int8 - fp32):", "",
             "| metric | fp32 | int8 | delta | 95% CI | p | verdict |", "|---|---|---|---|---|---|---|"]
    for m, q in r["quality"].items():
        lines.append(f"| {m} | {q['fp32']:.4f} | {q['int8']:.4f} | {q['delta']:+.4f} | "
                     f"[{q['ci'][0]:+.4f}, {q['ci'][1]:+.4f}] | {q['p_value']:.3g} | {q['verdict']} |")
    return "\n".join(lines) + "\n"


def load_quantized(project, run):
    """(LoadedModel, base, None, extra) for `lifecycle serve --run QUANTIZE_RUN`: the source rebuilt and
    quantized again (deterministic), after checking the source is the one that was measured."""
    meta = run.meta.get("quantize") or {}
    source = meta.get("source") or {}
    loaded, _, sha = _source(project, source.get("run"))
    if meta.get("source_weights_sha256") and sha != meta["source_weights_sha256"]:
        raise RunError(f"the source model of quantize run {run.id} changed since it was measured (content hash "
                       "differs); serving it would not serve what was measured",
                       hint="quantize the current model again with `lifecycle optimize quantize`")
    qmodel = quantize_int8(loaded.model)
    extra = {"precision": "int8", "source_run": source.get("run"), "weights_sha256": meta.get("weights_sha256")}
    return _with_model(loaded, qmodel), source.get("base"), None, extra
