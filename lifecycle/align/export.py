"""`lifecycle align export --to trl|axolotl|llama-factory`: the project's preference data and DPO
settings as another tool's config, for teams that outgrow one machine.

Each export is a folder (staged and marked as ours: an earlier export is replaced only with
--overwrite, anything else never) holding the data in the format that tool documents and a YAML
config headed by the command that runs it:

    trl            dpo.yaml (TRL CLI: ScriptArguments + DPOConfig + ModelConfig fields), data/{train,test}.jsonl
    axolotl        dpo.yaml (`rl: dpo|ipo`, a `user_defined.default` DPO dataset), data/{train,test}.jsonl
    llama-factory  dpo.yaml (`stage: dpo`), data/dataset_info.json (`ranking: true`), data/*.json (alpaca form)

All three train decoder-only models with TRL underneath; an encoder-decoder project model (FLAN-T5)
is refused there, so the export says so and points at `lifecycle align dpo`."""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.errors import LifecycleError
from lifecycle.reporting import to_stderr

TARGETS = ("trl", "axolotl", "llama-factory")
KIND = "align_export"
DATASET = "lifecycle_preferences"  # the LLaMA-Factory dataset name in dataset_info.json

COMMANDS = {
    "trl": "trl dpo --config dpo.yaml",
    "axolotl": "axolotl train dpo.yaml",
    "llama-factory": "llamafactory-cli train dpo.yaml",
}


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps({k: r[k] for k in ("prompt", "chosen", "rejected")}, ensure_ascii=False) + "\n"
                   for r in rows)


def _yaml(head: list[str], body: dict) -> str:
    from lifecycle.config.yaml_io import dump_yaml

    return "".join(f"# {line}\n" if line else "#\n" for line in head) + dump_yaml(body)


def _training(dpo) -> dict:
    t = dpo.training
    return {"learning_rate": t.learning_rate, "batch_size": t.batch_size,
            "gradient_accumulation_steps": t.gradient_accumulation_steps, "epochs": t.epochs,
            "max_steps": t.max_steps, "logging_steps": t.logging_steps, "save_steps": t.save_steps, "seed": t.seed}


def _precision(dpo) -> dict:
    """bf16/fp16 from training.mixed_precision; `auto` leaves each tool's own default (it runs on
    the team's GPUs, not here). `no` must be said: TRL's DPOConfig defaults to bf16, which a CPU refuses."""
    return {"no": {"bf16": False, "fp16": False}, "bf16": {"bf16": True, "fp16": False},
            "fp16": {"bf16": False, "fp16": True}}.get(dpo.training.mixed_precision, {})


def trl_config(model: str, dpo, lora: bool) -> dict:
    t = _training(dpo)
    cfg = {"model_name_or_path": model, "dataset_name": "data", "dataset_train_split": "train",
           "dataset_test_split": "test", "output_dir": "output", "beta": dpo.beta,
           "loss_type": ["sigmoid" if dpo.loss == "sigmoid" else "ipo"],
           "learning_rate": t["learning_rate"], "per_device_train_batch_size": t["batch_size"],
           "gradient_accumulation_steps": t["gradient_accumulation_steps"], "num_train_epochs": t["epochs"],
           "logging_steps": t["logging_steps"], "save_steps": t["save_steps"], "seed": t["seed"],
           "max_length": dpo.max_source_tokens + dpo.max_target_tokens, "report_to": "none", **_precision(dpo)}
    if t["max_steps"]:
        cfg["max_steps"] = t["max_steps"]
    if lora:
        cfg.update(use_peft=True, lora_r=dpo.peft.r, lora_alpha=dpo.peft.alpha, lora_dropout=dpo.peft.dropout)
        if dpo.peft.target_modules:
            cfg["lora_target_modules"] = list(dpo.peft.target_modules)
    return cfg


def axolotl_config(model: str, dpo, lora: bool) -> dict:
    t = _training(dpo)
    cfg = {"base_model": model, "rl": "dpo" if dpo.loss == "sigmoid" else "ipo", "rl_beta": dpo.beta,
           "datasets": [{"path": "data/train.jsonl", "ds_type": "json", "split": "train",
                         "type": "user_defined.default"}],
           "test_datasets": [{"path": "data/test.jsonl", "ds_type": "json", "split": "train",
                              "type": "user_defined.default"}],
           "output_dir": "output", "sequence_len": dpo.max_source_tokens + dpo.max_target_tokens,
           "micro_batch_size": t["batch_size"], "gradient_accumulation_steps": t["gradient_accumulation_steps"],
           "num_epochs": t["epochs"], "learning_rate": t["learning_rate"], "logging_steps": t["logging_steps"],
           "save_steps": t["save_steps"], "seed": t["seed"], **_precision(dpo)}
    if t["max_steps"]:
        cfg["max_steps"] = t["max_steps"]
    if lora:
        cfg.update(adapter="lora", lora_r=dpo.peft.r, lora_alpha=dpo.peft.alpha, lora_dropout=dpo.peft.dropout)
        if dpo.peft.target_modules:
            cfg["lora_target_modules"] = list(dpo.peft.target_modules)
        else:
            cfg["lora_target_linear"] = True
    return cfg


def llama_factory_config(model: str, dpo, lora: bool) -> dict:
    t = _training(dpo)
    cfg = {"model_name_or_path": model, "stage": "dpo", "do_train": True,
           "finetuning_type": "lora" if lora else "full", "pref_beta": dpo.beta,
           "pref_loss": "sigmoid" if dpo.loss == "sigmoid" else "ipo",
           "dataset": f"{DATASET}_train", "eval_dataset": f"{DATASET}_heldout", "dataset_dir": "data",
           "template": "default", "cutoff_len": dpo.max_source_tokens + dpo.max_target_tokens,
           "output_dir": "output", "per_device_train_batch_size": t["batch_size"],
           "gradient_accumulation_steps": t["gradient_accumulation_steps"], "learning_rate": t["learning_rate"],
           "num_train_epochs": t["epochs"], "logging_steps": t["logging_steps"], "save_steps": t["save_steps"],
           "seed": t["seed"], **_precision(dpo)}
    if t["max_steps"]:
        cfg["max_steps"] = t["max_steps"]
    if lora:
        cfg.update(lora_rank=dpo.peft.r, lora_alpha=dpo.peft.alpha, lora_dropout=dpo.peft.dropout,
                   lora_target=",".join(dpo.peft.target_modules) if dpo.peft.target_modules else "all")
    return cfg


def _alpaca(rows: list[dict]) -> str:
    """LLaMA-Factory's preference form (alpaca): instruction / input / chosen / rejected."""
    return json.dumps([{"instruction": r["prompt"], "input": "", "chosen": r["chosen"], "rejected": r["rejected"]}
                       for r in rows], ensure_ascii=False, indent=1) + "\n"


def export_alignment(project, to: str, *, out: Path | None = None, overwrite: bool = False,
                     config: Path | None = None, echo=to_stderr) -> Path:
    from lifecycle.align.pairs import load_align_config
    from lifecycle.align.preferences import load_preferences
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.errors import did_you_mean
    from lifecycle.outputs import staged_output
    from lifecycle.hashing import file_sha256
    if to not in TARGETS:
        raise LifecycleError(did_you_mean(to, TARGETS, kind="export target"), hint=f"targets: {', '.join(TARGETS)}")
    cfg = load_align_config(project, config)
    dpo = cfg.dpo
    train_path, held_path = project.path(dpo.train), project.path(cfg.reward.heldout)
    train = load_preferences(train_path)  # bad input: one located line, before anything is written
    held = load_preferences(held_path, min_rows=0) if held_path.is_file() else []
    model_cfg = project.model_config()
    model = str(project.path(model_cfg.model).resolve()) if project.path(model_cfg.model).is_dir() else model_cfg.model
    lora = dpo.method == "lora"
    target = project.path(out) if out else project.path(f"exports/align-{to}")
    head = [f"Run it: {COMMANDS[to]}   (from this folder)",
            f"Exported by `lifecycle align export --to {to}` from configs/align.yaml (dpo) and "
            f"{dpo.train} ({len(train)} pairs, sha256 {file_sha256(train_path)[:12]}); held out: {len(held)} pairs.",
            "Regenerate it instead of editing: the project's configs are the source."]
    from lifecycle.loading import is_encoder_decoder, load_model_config

    try:
        enc_dec = is_encoder_decoder(load_model_config(model_cfg.model, model_cfg.revision, model_cfg.trust_remote_code))
    except LifecycleError:
        enc_dec = None  # not available offline: the export still states what the tool needs
    if enc_dec:
        head.insert(1, f"Note: {to} trains decoder-only models; {model_cfg.model} is encoder-decoder, which it "
                       "refuses. Set a decoder-only model_name_or_path here, or use `lifecycle align dpo`.")
    protected = (project.root, project.runs_dir, project.path("data"), project.path("configs"))
    with staged_output(target, KIND, overwrite=overwrite, protected=protected, target_tool=to,
                       train_sha256=file_sha256(train_path)) as staging:
        data = staging / "data"
        data.mkdir()
        if to == "llama-factory":
            atomic_write_text(data / f"{DATASET}_train.json", _alpaca(train))
            atomic_write_text(data / f"{DATASET}_heldout.json", _alpaca(held))
            columns = {"prompt": "instruction", "query": "input", "chosen": "chosen", "rejected": "rejected"}
            info = {f"{DATASET}_{split}": {"file_name": f"{DATASET}_{split}.json", "ranking": True,
                                           "columns": columns} for split in ("train", "heldout")}
            atomic_write_text(data / "dataset_info.json", json.dumps(info, indent=2) + "\n")
            body = llama_factory_config(model, dpo, lora)
        else:
            atomic_write_text(data / "train.jsonl", _jsonl(train))
            atomic_write_text(data / "test.jsonl", _jsonl(held))
            body = trl_config(model, dpo, lora) if to == "trl" else axolotl_config(model, dpo, lora)
        atomic_write_text(staging / "dpo.yaml", _yaml(head, body))
    echo(f"{to}: {len(train)} training pairs and a DPO config -> {target}; run it there with `{COMMANDS[to]}`")
    if enc_dec:
        echo(f"note: {model_cfg.model} is encoder-decoder; {to} trains decoder-only models (see the config's header)")
    return target
