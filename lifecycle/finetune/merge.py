"""`lifecycle finetune merge RUN`: fold a LoRA (or IA3) adapter into the base weights and write a
folder that plain `transformers` loads (no peft needed at serving time)."""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import FinetuneError, RunError
from lifecycle.runs.store import RunStore

from lifecycle.methods import MERGEABLE  # noqa: E402  (the method registry decides; a live view)


MERGED_KIND = "merged_model"  # the marker kind of a merged folder (lifecycle.outputs)


def merge_run(project, ref: str, *, out: Path | None = None, overwrite: bool = False) -> Path:
    """Merge a finished run's adapter into the base weights. Without `out`, into a new `merge` run
    (`runs/<time>-merge-<hash>/model/`): the finetune run itself is complete and never changed.
    With `out`, into that folder, which must be new, empty, or an earlier merged model (`overwrite`);
    the project root, runs/, data/, configs/ and folders the tool did not write are refused."""
    from lifecycle.finetune.tuned import load_tuned
    from lifecycle.outputs import OutputError, check_target, staged_output

    store = RunStore(project.runs_dir)
    run = store.get(ref)
    if run.status != "complete":
        raise RunError(f"run {run.id} is {run.status}, not complete; nothing to merge yet",
                       hint="finish it with `lifecycle finetune --resume`")
    method = str(run.meta.get("method", ""))
    if method == "full":
        raise FinetuneError(f"run {run.id} trained the full model: {run.path / 'model'} already loads without merging")
    if method not in MERGEABLE:
        raise FinetuneError(f"run {run.id} used {method}, which has no weights to merge (a soft prompt stays an adapter)",
                            hint="serve it with peft (PeftModel.from_pretrained), or fine-tune with method: lora")
    protected = tuple(project.root / name for name in ("", "runs", "data", "configs", ".lifecycle", "src", "tests"))
    info = {"source_run": run.id, "method": method, "base_model": (run.meta.get("config") or {}).get("model", {})}
    if out is None:
        with store.new_run("merge", config={"source_run": run.id, "method": method}, model=info["base_model"],
                           extra={"source_run": run.id}) as merge:
            _save_merged(load_tuned(run), merge.path / "model", project, run)
            from lifecycle.outputs import write_marker
            write_marker(merge.path / "model", MERGED_KIND, **info)
            merge.finish("complete", merged=str(merge.path / "model"))
        return merge.path / "model"
    target = Path(out) if Path(out).is_absolute() else Path.cwd() / out
    if target.resolve().is_relative_to(project.runs_dir.resolve()):
        raise OutputError(f"{target} is inside runs/, which holds run folders only",
                          hint="omit --out to write the merged model as a new merge run")
    check_target(target, MERGED_KIND, overwrite=overwrite, protected=protected)  # before loading anything
    tuned = load_tuned(run)
    with staged_output(target, MERGED_KIND, overwrite=overwrite, protected=protected, **info) as staging:
        _save_merged(tuned, staging, project, run)
    return target


def _save_merged(tuned, folder: Path, project, run) -> None:
    """The merged weights, the tokenizer, the project's generation settings as generation_config.json
    (so a bare `model.generate(**inputs)` decodes as `lifecycle generate` does, not as the base
    model's defaults) and a model card saying where the weights came from."""
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.generation.decoding import to_generation_config

    merged = tuned.model.merge_and_unload()
    merged.generation_config = to_generation_config(project.generation_config(), merged, tuned.tokenizer)
    folder.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(folder))  # safetensors + generation_config.json
    tuned.tokenizer.save_pretrained(str(folder))
    atomic_write_text(folder / "README.md", model_card(run, tuned))


def model_card(run, tuned) -> str:
    """README.md of a merged folder: base model, method, data hash, evaluation, prompt template."""
    meta = run.meta
    data = meta.get("dataset") or {}
    evaluation = meta.get("evaluation") or {}
    prompt = (meta.get("config") or {}).get("prompt") or {}
    training = meta.get("training") or {}
    lines = [
        "---", f"base_model: {tuned.base_ref}", "library_name: transformers", "tags: [genai-lifecycle, merged]", "---",
        "", f"# Merged {tuned.method} fine-tune of {tuned.base_ref}", "",
        f"Written by `lifecycle finetune merge {run.id}`: the adapter of that run folded into the base weights.", "",
        "| | |", "|---|---|",
        f"| base model | `{tuned.base_ref}` |",
        f"| method | {tuned.method} |",
        f"| finetune run | `{run.id}` |",
        f"| training data | `{data.get('path')}` (sha256 `{data.get('sha256')}`) |",
        f"| steps / final train loss | {training.get('global_step')} / {training.get('train_loss')} |",
    ]
    if evaluation:
        lines.append(f"| evaluation | eval run `{evaluation.get('eval_run')}` vs baseline `{evaluation.get('baseline_run')}`: "
                     f"beats baseline {evaluation.get('finetune_beats_baseline')}, "
                     f"significant {evaluation.get('significant')} |")
    else:
        lines.append("| evaluation | none recorded (trained with --no-eval) |")
    lines += ["", "## Prompt template", "", "The model was trained on prompts built from this template "
              "(configs/prompt.yaml); give it the same shape at inference:", "", "```",
              str(prompt.get("template", "")), "```", "",
              "generation_config.json holds the project's generation settings (configs/generation.yaml).", ""]
    return "\n".join(lines)
