"""`lifecycle align dpo`: preference tuning with DPO or IPO, LoRA or full.

Encoder-decoder models (FLAN-T5) train through our seq2seq loss (lifecycle.align.loss) on a
subclass of the fine-tuning Trainer; decoder-only models go through TRL's DPOTrainer. Precision
comes from the device (lifecycle.finetune.resources.choose_precision): never bf16 on CPU, and TRL's
bf16 / gradient-checkpointing defaults are overridden. An `align` run folder holds adapter/ or
model/, checkpoints/, training_log.json and the summary in run.yaml."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from lifecycle.errors import FinetuneError, RunError
from lifecycle.reporting import to_stderr

KIND = "align"
TRL_ONLY = ("orpo", "kto", "cpo", "simpo", "grpo", "ppo")


def refuse_trl_only(method: str, encoder_decoder: bool) -> None:
    if method in TRL_ONLY and encoder_decoder:
        raise FinetuneError(f"{method} runs only through TRL, whose trainers accept decoder-only models; this model "
                            "is encoder-decoder", hint="use `lifecycle align dpo --loss sigmoid` (DPO) or `--loss ipo`: "
                            "our seq2seq loss trains encoder-decoder models")


@dataclass
class DPORequest:
    loss: str | None = None
    method: str | None = None
    max_steps: int | None = None
    beta: float | None = None
    train: Path | None = None
    model: str | None = None
    resume: str | None = None
    config: Path | None = None
    argv: list[str] | None = None


def _settings(project, req: DPORequest):
    from lifecycle.align.pairs import load_align_config

    dpo = load_align_config(project, req.config).dpo
    data = dpo.model_dump()
    for key, value in (("loss", req.loss), ("method", req.method), ("beta", req.beta),
                       ("train", str(req.train) if req.train else None)):
        if value is not None:
            data[key] = value
    if req.max_steps is not None:
        data["training"]["max_steps"] = req.max_steps
    return type(dpo).model_validate(data)


def align_dpo(project, req: DPORequest, echo=to_stderr):
    from lifecycle.finetune.checkpoints import last_complete_checkpoint
    from lifecycle.loading import is_encoder_decoder, load_model_config
    from lifecycle.methods import preference_method_for
    from lifecycle.hashing import file_sha256
    from lifecycle.runs.store import RunStore
    if req.loss in TRL_ONLY or req.method in TRL_ONLY:
        cfg = project.model_config_for(req.model)
        refuse_trl_only(req.loss if req.loss in TRL_ONLY else req.method,
                        is_encoder_decoder(load_model_config(cfg.model, cfg.revision, cfg.trust_remote_code)))
        raise FinetuneError(f"{req.loss or req.method} is not wired here yet; use --loss sigmoid or ipo")
    store = RunStore(project.runs_dir)
    if req.resume:
        run = store.get(req.resume)
        if run.kind != KIND:
            raise RunError(f"run {run.id} is a '{run.kind}' run, not an align run")
        run.ensure_writable("resume it")
        from lifecycle.config.align import DPOSettings
        from lifecycle.config.model import ModelConfig

        dpo = DPOSettings.model_validate(run.meta["config"]["dpo"])
        model_cfg = ModelConfig.model_validate(run.meta["config"]["model"])
        checkpoint = last_complete_checkpoint(run.path / "checkpoints", warn=echo)
        run.update_meta(status="running", resumed_from=checkpoint.name)
        echo(f"run {run.id}: resuming from {checkpoint.name}")
        with run.recording(resume_hint=f"lifecycle align dpo --resume {run.id}"):
            return _train(project, run, dpo, model_cfg, checkpoint, echo)
    dpo = _settings(project, req)
    model_cfg = project.model_config_for(req.model)
    train = project.path(dpo.train)
    from lifecycle.align.preferences import load_preferences

    rows = load_preferences(train)  # bad input fails before a run folder exists
    config = {"dpo": dpo.model_dump(mode="json"), "model": model_cfg.model_dump(mode="json")}
    with store.new_run(KIND, config=config, model={"id": model_cfg.model, "revision": model_cfg.revision},
                       dataset={"path": str(train), "sha256": file_sha256(train), "pairs": len(rows)},
                       seed=dpo.training.seed, argv=req.argv,
                       extra={"method": dpo.method, "loss": dpo.loss,
                              "preference_method": preference_method_for(dpo.loss, dpo.method).name},
                       resume_hint="lifecycle align dpo --resume RUN") as run:
        echo(f"run {run.id}: {dpo.loss} on {len(rows)} pairs, method {dpo.method}")
        return _train(project, run, dpo, model_cfg, None, echo)


def _train(project, run, dpo, model_cfg, checkpoint, echo):
    from lifecycle.align.preferences import load_preferences
    from lifecycle.loading import is_encoder_decoder, load_model_config

    rows = load_preferences(project.path(dpo.train))
    config = load_model_config(model_cfg.model, model_cfg.revision, model_cfg.trust_remote_code)
    enc_dec = is_encoder_decoder(config) if model_cfg.architecture == "auto" else model_cfg.architecture == "seq2seq"
    train = train_seq2seq if enc_dec else train_causal_trl
    summary = train(run.path, model_cfg, dpo, rows, checkpoint=checkpoint, echo=echo)
    from lifecycle.config.yaml_io import atomic_write_text

    log = summary.pop("log_history")
    atomic_write_text(run.path / "training_log.json", json.dumps(log, indent=2) + "\n")
    run.finish("complete", training=summary)
    echo(f"trained {summary['global_step']} steps; first loss {summary['first_loss']}, last {summary['last_loss']}; "
         f"weights: {run.path / summary['weights']}")
    return run


# ----------------------------------------------------------------------------- seq2seq (ours)

def _tokenize_seq2seq(rows, tokenizer, dpo):
    feats = []
    for r in rows:
        src = tokenizer(r["prompt"], truncation=True, max_length=dpo.max_source_tokens)["input_ids"]
        ch = tokenizer(text_target=r["chosen"], truncation=True, max_length=dpo.max_target_tokens)["input_ids"]
        rj = tokenizer(text_target=r["rejected"], truncation=True, max_length=dpo.max_target_tokens)["input_ids"]
        feats.append({"input_ids": src, "chosen_labels": ch, "rejected_labels": rj})
    return feats


class PairCollator:
    """Pads prompts with the pad token and both targets to one length with -100."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, feats):
        import torch

        width = max(len(f["input_ids"]) for f in feats)
        tgt = max(max(len(f["chosen_labels"]), len(f["rejected_labels"])) for f in feats)
        pad = lambda seq, n, v: list(seq) + [v] * (n - len(seq))  # noqa: E731
        out = {
            "input_ids": torch.tensor([pad(f["input_ids"], width, self.pad_id) for f in feats]),
            "attention_mask": torch.tensor([pad([1] * len(f["input_ids"]), width, 0) for f in feats]),
            "chosen_labels": torch.tensor([pad(f["chosen_labels"], tgt, -100) for f in feats]),
            "rejected_labels": torch.tensor([pad(f["rejected_labels"], tgt, -100) for f in feats]),
        }
        if "ref_chosen_logps" in feats[0]:
            out["ref_chosen_logps"] = torch.tensor([f["ref_chosen_logps"] for f in feats], dtype=torch.float32)
            out["ref_rejected_logps"] = torch.tensor([f["ref_rejected_logps"] for f in feats], dtype=torch.float32)
        return out


def pair_logps(model, batch):
    """(chosen, rejected, chosen tokens, rejected tokens) in one forward over [chosen; rejected]."""
    import torch

    from lifecycle.align.loss import seq2seq_logps

    ids = torch.cat([batch["input_ids"], batch["input_ids"]])
    mask = torch.cat([batch["attention_mask"], batch["attention_mask"]])
    labels = torch.cat([batch["chosen_labels"], batch["rejected_labels"]])
    logps, n = seq2seq_logps(model, ids, mask, labels)
    half = batch["input_ids"].shape[0]
    return logps[:half], logps[half:], n[:half], n[half:]


def precompute_reference(model, feats, pad_id: int, batch_size: int = 16) -> None:
    """Reference log-probs once, before training (the frozen start point), stored in the features."""
    import torch

    collate = PairCollator(pad_id)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        for start in range(0, len(feats), batch_size):
            part = feats[start:start + batch_size]
            batch = {k: v.to(device) for k, v in collate(part).items()}
            ch, rj, _, _ = pair_logps(model, batch)
            for f, c, r in zip(part, ch.tolist(), rj.tolist()):
                f["ref_chosen_logps"], f["ref_rejected_logps"] = c, r
    model.train(was_training)


def _seq2seq_trainer_class():
    from lifecycle.align.loss import dpo_loss
    from lifecycle.finetune.training import _trainer_class

    class Seq2SeqDPOTrainer(_trainer_class(True)):
        """The fine-tuning Trainer (checkpoints, resume, accelerate) with the DPO/IPO loss."""

        def __init__(self, *args, beta: float, loss_type: str, **kwargs):
            super().__init__(*args, **kwargs)
            self.beta, self.loss_type = beta, loss_type
            self._pending: list[tuple[float, float]] = []

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            import torch

            ch, rj, n_ch, n_rj = pair_logps(model, inputs)
            if "ref_chosen_logps" in inputs:
                ref_ch, ref_rj = inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
            else:  # LoRA: the base model is the adapter-disabled policy, no second copy in memory
                with torch.no_grad(), self.accelerator.unwrap_model(model).disable_adapter():
                    ref_ch, ref_rj, _, _ = pair_logps(model, inputs)
            out = dpo_loss(ch, rj, ref_ch, ref_rj, beta=self.beta, loss_type=self.loss_type,
                           chosen_tokens=n_ch, rejected_tokens=n_rj)
            self._pending.append((out.accuracy, out.margin))
            return (out.loss, None) if return_outputs else out.loss

        def log(self, logs, start_time=None):
            if self._pending and "loss" in logs:
                logs["rewards/accuracies"] = sum(a for a, _ in self._pending) / len(self._pending)
                logs["rewards/margins"] = sum(m for _, m in self._pending) / len(self._pending)
                self._pending.clear()
            return super().log(logs, start_time)

    return Seq2SeqDPOTrainer


def _args(out_dir: Path, training, precision: str, encoder_decoder: bool):
    from lifecycle.finetune.training import training_arguments

    spec = SimpleNamespace(out_dir=out_dir, ft=SimpleNamespace(training=training))
    return training_arguments(spec, precision, False, encoder_decoder)


def _load(model_cfg, encoder_decoder: bool):
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from lifecycle.loading import check_remote_code, load_tokenizer, weights_kwargs

    auto = AutoModelForSeq2SeqLM if encoder_decoder else AutoModelForCausalLM
    # the same consent rules as every other load: remote code only pinned, pickle only opted in
    check_remote_code(str(model_cfg.model), model_cfg.revision, model_cfg.trust_remote_code)
    weights = weights_kwargs(str(model_cfg.model), model_cfg.revision, bool(getattr(model_cfg, "allow_pickle", False)))
    model = auto.from_pretrained(model_cfg.model, revision=model_cfg.revision,
                                 trust_remote_code=model_cfg.trust_remote_code, dtype=torch.float32, **weights)
    tok = load_tokenizer(model_cfg.model, model_cfg.revision, model_cfg.trust_remote_code,
                         decoder_only=not encoder_decoder)
    return model, tok


def _summary(trainer, weights: Path, trainable: int, total: int, precision: str, extra: dict) -> dict:
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {"global_step": trainer.state.global_step, "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None, "trainable_params": trainable, "total_params": total,
            "precision": precision, "weights": weights.name, "log_history": list(trainer.state.log_history), **extra}


def train_seq2seq(out_dir: Path, model_cfg, dpo, rows, *, checkpoint=None, echo=to_stderr) -> dict:
    from transformers import set_seed

    from lifecycle.finetune.methods import apply_method, plan_method, trainable_parameters
    from lifecycle.finetune.resources import choose_precision

    set_seed(dpo.training.seed)
    precision = choose_precision(dpo.training.mixed_precision)
    base, tok = _load(model_cfg, True)
    tok.padding_side = "right"
    feats = _tokenize_seq2seq(rows, tok, dpo)
    reference = dpo.reference if dpo.reference != "auto" else ("adapter_disabled" if dpo.method == "lora" else "precompute")
    if reference == "adapter_disabled" and dpo.method == "full":
        raise FinetuneError("align.yaml: dpo.reference: adapter_disabled needs method: lora (full training has no "
                            "adapter to switch off)", hint="use reference: precompute (or auto)")
    if reference == "precompute":
        precompute_reference(base, feats, tok.pad_token_id)
    plan = plan_method(dpo.method, base.config.model_type, dpo.peft, base)
    model = apply_method(base, plan, dpo.peft, True, model_cfg.model)
    trainable, total = trainable_parameters(model)
    echo(f"{dpo.method}: trainable params {trainable:,} of {total:,}; reference: {reference}; "
         f"precision {'fp32' if precision == 'no' else precision}")
    trainer = _seq2seq_trainer_class()(
        model=model, args=_args(out_dir, dpo.training, precision, True), train_dataset=feats,
        data_collator=PairCollator(tok.pad_token_id), processing_class=tok, beta=dpo.beta, loss_type=dpo.loss)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    weights = out_dir / ("model" if dpo.method == "full" else "adapter")
    trainer.save_model(str(weights))
    tok.save_pretrained(str(weights))
    return _summary(trainer, weights, trainable, total, precision,
                    {"encoder_decoder": True, "reference": reference, "trainer": "lifecycle Seq2SeqDPOTrainer",
                     "pairs": len(feats)})


# ----------------------------------------------------------------------------- decoder-only (TRL)

def trl_config(out_dir: Path, dpo, precision: str):
    """DPOConfig from our settings, with device-decided precision (TRL defaults to bf16 and
    gradient checkpointing, which on a CPU is slow or unsupported)."""
    import torch
    from trl import DPOConfig

    t = dpo.training
    cpu = not torch.cuda.is_available()
    return DPOConfig(
        output_dir=str(out_dir / "checkpoints"), learning_rate=t.learning_rate, num_train_epochs=t.epochs,
        max_steps=t.max_steps or -1, per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps, lr_scheduler_type=t.scheduler,
        weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm, save_strategy=t.save_strategy,
        save_steps=t.save_steps, save_total_limit=t.save_total_limit, logging_steps=t.logging_steps,
        logging_first_step=True, seed=t.seed, data_seed=t.seed, bf16=precision == "bf16", fp16=precision == "fp16",
        gradient_checkpointing=False, use_cpu=cpu, report_to="none", dataloader_num_workers=0,
        dataloader_pin_memory=False, beta=dpo.beta, loss_type=[dpo.loss],
        max_length=dpo.max_source_tokens + dpo.max_target_tokens,
        precompute_ref_log_probs=(dpo.reference == "precompute" or dpo.reference == "auto" and dpo.method == "full"))


def train_causal_trl(out_dir: Path, model_cfg, dpo, rows, *, checkpoint=None, echo=to_stderr) -> dict:
    from datasets import Dataset
    from transformers import set_seed
    from trl import DPOTrainer

    from lifecycle.finetune.methods import peft_config, plan_method, trainable_parameters
    from lifecycle.finetune.resources import choose_precision

    set_seed(dpo.training.seed)
    precision = choose_precision(dpo.training.mixed_precision)
    model, tok = _load(model_cfg, False)
    data = Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows])
    peft_cfg = None
    if dpo.method == "lora":
        peft_cfg = peft_config(plan_method("lora", model.config.model_type, dpo.peft, model), dpo.peft, False,
                               model_cfg.model)
    trainer = DPOTrainer(model=model, args=trl_config(out_dir, dpo, precision), train_dataset=data,
                         processing_class=tok, peft_config=peft_cfg)
    trainable, total = trainable_parameters(trainer.model)
    echo(f"{dpo.method} through TRL DPOTrainer: trainable params {trainable:,} of {total:,}; "
         f"precision {'fp32' if precision == 'no' else precision}")
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    weights = out_dir / ("model" if dpo.method == "full" else "adapter")
    trainer.save_model(str(weights))
    tok.padding_side = "left"
    tok.save_pretrained(str(weights))
    return _summary(trainer, weights, trainable, total, precision,
                    {"encoder_decoder": False, "trainer": "trl.DPOTrainer", "pairs": len(rows)})


def causal_pair_features(tokenizer, prompt: str, completion: str) -> tuple[list[int], list[int]]:
    """(input_ids, completion_mask) of prompt + completion + eos, split where the tokenized prompt and
    prompt+completion diverge: the sequences TRL's DPOTrainer trains on, so that our decoder-only
    computation and TRL's can be compared token for token."""
    eos = tokenizer.eos_token or ""
    text = completion if completion.endswith(eos) else completion + eos
    p = tokenizer(prompt)["input_ids"]
    full = tokenizer(prompt + text)["input_ids"]
    n = 0
    while n < min(len(p), len(full)) and p[n] == full[n]:
        n += 1
    return full, [0] * n + [1] * (len(full) - n)
