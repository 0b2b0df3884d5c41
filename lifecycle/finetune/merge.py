"""`lifecycle finetune merge RUN`: fold a LoRA (or IA3) adapter into the base weights and write a
folder that plain `transformers` loads (no peft needed at serving time)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from lifecycle.errors import FinetuneError, RunError
from lifecycle.runs.store import RunStore

MERGEABLE = ("lora", "qlora", "ia3")


def merge_run(project, ref: str, *, out: Path | None = None, overwrite: bool = False) -> Path:
    from lifecycle.finetune.tuned import load_tuned

    run = RunStore(project.runs_dir).get(ref)
    if run.status != "complete":
        raise RunError(f"run {run.id} is {run.status}, not complete; nothing to merge yet",
                       hint="finish it with `lifecycle finetune --resume`")
    method = str(run.meta.get("method", ""))
    if method == "full":
        raise FinetuneError(f"run {run.id} trained the full model: {run.path / 'model'} already loads without merging")
    if method not in MERGEABLE:
        raise FinetuneError(f"run {run.id} used {method}, which has no weights to merge (a soft prompt stays an adapter)",
                            hint="serve it with peft (PeftModel.from_pretrained), or fine-tune with method: lora")
    target = Path(out) if out is not None else run.path / "merged"
    target = target if target.is_absolute() else (Path.cwd() / target)
    if target.exists() and not overwrite:
        raise FinetuneError(f"{target} already exists", hint="pass --overwrite to replace it, or --out ANOTHER_DIR")
    tuned = load_tuned(run)
    merged = tuned.model.merge_and_unload()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        merged.save_pretrained(str(staging))  # safetensors
        tuned.tokenizer.save_pretrained(str(staging))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    run.update_meta(merged=str(target))
    return target
