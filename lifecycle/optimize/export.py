"""`lifecycle optimize export`: the served model as a folder vLLM loads, with the command and a
Dockerfile (vLLM's own image) that serve it.

Decoder-only models only: vLLM runs decoder-only transformers (its V1 engine dropped the few
encoder-decoder models it had), so a T5 project gets a clear refusal naming the supported path,
`lifecycle serve` (this package's batched OpenAI-compatible server).

A LoRA/IA3 finetune run is merged into the base weights first (vLLM can also load adapters, but a
merged folder has no peft dependency and no per-request adapter overhead); a full finetune, a
merge run or the base model is written as it is, with its tokenizer."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from lifecycle.errors import RunError
from lifecycle.optimize.quantize import OptimizeError
from lifecycle.reporting import to_stderr

KIND = "export"
VLLM_IMAGE = "vllm/vllm-openai:v0.10.2"


def _is_encoder_decoder(project, run) -> tuple[bool, str]:
    from lifecycle.finetune.tuned import base_model_ref
    from lifecycle.loading import is_encoder_decoder, load_model_config

    if run is None:
        ref = project.model_config_for().model
    elif run.kind == "merge":
        ref = str(run.path / "model")
    else:
        ref = base_model_ref(run)[0]
    return is_encoder_decoder(load_model_config(ref)), ref


def export_vllm(project, *, run_ref: str | None = None, name: str | None = None, image: str = VLLM_IMAGE,
                argv: list[str] | None = None, echo=to_stderr):
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.runs.store import RunStore
    from lifecycle.artifacts import weights_hash
    from lifecycle.finetune.run_model import load_trained

    store = RunStore(project.runs_dir)
    run = store.get(run_ref) if run_ref else None
    if run is not None:
        if run.status != "complete":
            raise RunError(f"run {run.id} is {run.status}; export a complete run")
        if run.kind not in ("finetune", "merge"):
            raise OptimizeError(f"run {run.id} is a '{run.kind}' run; export the base model, a finetune or a merge run",
                                hint="an int8 quantize run is CPU-only (torch dynamic quantization); vLLM quantizes "
                                "on its own: add `--quantization fp8` (or use an AWQ/GPTQ checkpoint) to vllm serve")
    enc_dec, ref = _is_encoder_decoder(project, run)
    if enc_dec:
        raise OptimizeError(
            f"'{ref}' is an encoder-decoder model (T5-style); vLLM serves decoder-only models, so there is no vLLM "
            "export for it",
            hint="serve it with `lifecycle serve` (OpenAI-compatible, batched; `lifecycle serve bench` measures it), "
            "or choose a decoder-only model in `lifecycle select` if you need vLLM")
    source = {"run": run.id if run else None, "run_kind": run.kind if run else None, "base": ref}
    served_name = name or (run.id if run else Path(ref).name)
    with store.new_run(KIND, config={"source": source, "target": "vllm", "image": image, "name": served_name},
                       model=source, argv=argv, extra={"export": {"source": source, "target": "vllm"}}) as out:
        folder = out.path / "model"
        if run is None:
            from lifecycle.loading import load_model

            loaded = load_model(ref, device="cpu", dtype="fp32")
            model, tok, window = loaded.model, loaded.tokenizer, loaded.context_window
        else:
            loaded, _, _, _ = load_trained(project, run)
            model, tok, window = loaded.model, loaded.tokenizer, loaded.context_window
            if hasattr(model, "merge_and_unload"):  # a peft adapter: fold it into the base weights
                model = model.merge_and_unload()
        model.save_pretrained(str(folder))
        tok.save_pretrained(str(folder))
        mount = f"/models/{served_name}"
        args = [mount, "--served-model-name", served_name, "--max-model-len", str(window), "--dtype", "auto"]
        local = ["vllm", "serve", str(folder), *args[1:]]
        atomic_write_text(out.path / "serve_vllm.sh", "#!/bin/sh\n# Serve the exported model with vLLM "
                          "(pip install vllm, on a machine with a GPU).\nexec " + shlex.join(local) + ' "$@"\n')
        (out.path / "serve_vllm.sh").chmod(0o755)
        dockerfile = "\n".join([
            "# vLLM's own image serving the exported model (OpenAI-compatible API on port 8000).",
            f"#   docker build -t {served_name.lower()}-vllm . && docker run --gpus all -p 8000:8000 "
            f"{served_name.lower()}-vllm",
            f"FROM {image}",
            f"COPY model {mount}",
            "ENV HF_HUB_OFFLINE=1",
            "EXPOSE 8000",
            'HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD curl -fsS http://localhost:8000/health || exit 1',
            'ENTRYPOINT ["vllm", "serve"]',
            "CMD " + json.dumps([*args, "--host", "0.0.0.0", "--port", "8000"]),
            ""])
        atomic_write_text(out.path / "Dockerfile", dockerfile)
        readme = "\n".join([
            f"# {served_name} for vLLM", "", f"Exported from {source['run'] or ref} by `lifecycle optimize export`.", "",
            "Serve it:", "", "```", f"./serve_vllm.sh          # {shlex.join(local)}", "```", "",
            "or in vLLM's image:", "", "```", f"docker build -t {served_name.lower()}-vllm .",
            f"docker run --gpus all -p 8000:8000 {served_name.lower()}-vllm", "```", "",
            "Measure it with the same metric names as `lifecycle serve bench`:", "", "```",
            f"lifecycle serve bench --url http://127.0.0.1:8000      # or: vllm bench serve --model {served_name} "
            "--base-url http://127.0.0.1:8000", "```", ""])
        atomic_write_text(out.path / "README.md", readme)
        sha = weights_hash(folder)
        out.finish("complete", export={"source": source, "target": "vllm", "folder": str(folder), "image": image,
                                       "command": shlex.join(local), "weights_sha256": sha,
                                       "served_model_name": served_name})
    echo(f"exported to {folder}\n  {shlex.join(local)}\n  Dockerfile: {out.path / 'Dockerfile'}")
    return out
