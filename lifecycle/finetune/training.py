"""One training job: model + method + examples -> Trainer -> weights in `out_dir`.

Encoder-decoder models go through `Seq2SeqTrainer`, decoder-only through `Trainer`; both with
`DataCollatorForSeq2Seq` (pads input_ids with the pad token and labels with -100)."""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lifecycle.errors import FinetuneError
from lifecycle.finetune.checkpoints import last_complete_checkpoint, list_checkpoints
from lifecycle.finetune.examples import limits_for, load_records, tokenize_examples
from lifecycle.finetune.methods import (
    apply_method, check_qlora_available, plan_method, quantization_config, trainable_parameters,
)
from lifecycle.finetune.resources import choose_precision, gib, memory_estimate, peak_memory, reset_peak
from lifecycle.reporting import to_stderr

ENCODER_ONLY_HEADS = ("ForSequenceClassification", "ForMaskedLM", "ForTokenClassification", "ForQuestionAnswering",
                      "ForMultipleChoice")
ENCODER_ONLY_TYPES = {"bert", "roberta", "distilbert", "albert", "electra", "deberta", "deberta-v2", "xlm-roberta",
                      "camembert", "mpnet", "modernbert"}


@dataclass
class JobSpec:
    """Everything a training job needs, resolved from the project's configs and the command line."""

    model_ref: str
    revision: str | None
    trust_remote_code: bool
    architecture: str  # auto | seq2seq | causal
    max_context: int | None
    ft: object  # FinetuneConfig with command-line overrides applied
    prompt_cfg: object
    train_path: Path
    validation_path: Path | None
    out_dir: Path  # the run folder
    resume_from: Path | None = None
    echo: Callable[[str], None] = to_stderr
    allow_pickle: bool = False  # configs/model.yaml allow_pickle: pickle-only base weights, weights_only=True
    prepare: Callable[[list], list] | None = None  # configs/prompt.yaml preprocess (the prompts' own function)


@dataclass
class JobResult:
    weights_dir: Path
    global_step: int
    train_loss: float | None
    log_history: list = field(default_factory=list)
    trainable_params: int = 0
    total_params: int = 0
    precision: str = "no"
    estimate: dict | None = None
    peak: dict = field(default_factory=dict)
    encoder_decoder: bool = True
    num_examples: int = 0
    target_modules: list | None = None
    world_size: int = 1
    is_main: bool = True


def _family(config, architecture: str) -> bool:
    """True for encoder-decoder. Encoder-only families (BERT-like) cannot generate: refused."""
    from lifecycle.loading import is_encoder_decoder

    if architecture != "auto":
        return architecture == "seq2seq"
    if is_encoder_decoder(config):
        return True
    archs = list(getattr(config, "architectures", None) or [])
    if config.model_type in ENCODER_ONLY_TYPES or archs and all(a.endswith(ENCODER_ONLY_HEADS) for a in archs):
        shown = f" ({', '.join(archs)})" if archs else ""
        raise FinetuneError(
            f"model type '{config.model_type}'{shown} is encoder-only and cannot generate text; "
            "no fine-tuning method (full, lora, prompt_tuning, ia3, qlora) applies to it here",
            hint="pick an encoder-decoder (e.g. google/flan-t5-base) or decoder-only model in configs/model.yaml")
    return False


def _load_base(spec: JobSpec, encoder_decoder: bool):
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    from lifecycle.loading import (_is_unpickling_refusal, _not_found, check_remote_code,
                                              refused_pickle, weights_kwargs)

    auto = AutoModelForSeq2SeqLM if encoder_decoder else AutoModelForCausalLM
    check_remote_code(spec.model_ref, spec.revision, spec.trust_remote_code)  # consent + pinned commit
    kwargs = dict(revision=spec.revision, trust_remote_code=spec.trust_remote_code, dtype=torch.float32,
                  **weights_kwargs(spec.model_ref, spec.revision, spec.allow_pickle))  # no pickle unless opted in
    if spec.ft.method == "qlora":
        kwargs.update(quantization_config=quantization_config(), dtype=torch.bfloat16)
    try:
        return auto.from_pretrained(spec.model_ref, **kwargs)
    except OSError as err:
        if _is_unpickling_refusal(err):
            raise refused_pickle(spec.model_ref, err) from None
        raise _not_found(spec.model_ref, err) from err
    except Exception as err:
        if _is_unpickling_refusal(err):
            raise refused_pickle(spec.model_ref, err) from None
        raise


def training_arguments(spec: JobSpec, precision: str, has_eval: bool, encoder_decoder: bool):
    import torch
    from transformers import Seq2SeqTrainingArguments, TrainingArguments

    # Without CUDA, processes started by `accelerate launch` (torchrun) join a gloo process group
    # only when the Trainer is told it runs on CPU.
    cpu = not torch.cuda.is_available()
    distributed = int(os.environ.get("WORLD_SIZE", "1") or 1) > 1
    t = spec.ft.training
    eval_strategy = t.eval_strategy if has_eval else "no"
    args = dict(
        output_dir=str(spec.out_dir / "checkpoints"),
        learning_rate=t.learning_rate, num_train_epochs=t.epochs, max_steps=t.max_steps or -1,
        per_device_train_batch_size=t.batch_size, per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps, warmup_steps=t.warmup_ratio,
        lr_scheduler_type=t.scheduler, weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm,
        eval_strategy=eval_strategy, eval_steps=t.eval_steps or t.save_steps,
        save_strategy=t.save_strategy, save_steps=t.save_steps, save_total_limit=t.save_total_limit,
        logging_strategy="steps", logging_steps=t.logging_steps, logging_first_step=True,
        seed=t.seed, data_seed=t.seed, bf16=precision == "bf16", fp16=precision == "fp16",
        report_to=t.report_to, remove_unused_columns=False, dataloader_num_workers=0,
        dataloader_pin_memory=False, ddp_find_unused_parameters=False,
        use_cpu=cpu, ddp_backend="gloo" if cpu and distributed else None,
        # Our models' losses are plain means that ignore `num_items_in_batch`; left on, transformers 5
        # multiplies them by the process count under DDP (T5 on 2 processes logged 7.708 for 3.818).
        average_tokens_across_devices=False,
    )
    cls = Seq2SeqTrainingArguments if encoder_decoder else TrainingArguments
    return cls(**args)


def _trainer_class(encoder_decoder: bool):
    from transformers import Seq2SeqTrainer, Trainer

    base = Seq2SeqTrainer if encoder_decoder else Trainer

    class CheckpointSafeTrainer(base):
        """Turns a failed checkpoint save (disk full, quota) into one clear error that names the
        previous checkpoint, which the Trainer has not rotated away yet and which stays complete."""

        def _save_checkpoint(self, model, trial):
            try:
                return super()._save_checkpoint(model, trial)
            except Exception as err:  # torch, safetensors and json writers raise different types
                raise _save_failed(Path(self.args.output_dir), self.state.global_step, err) from err

    return CheckpointSafeTrainer


def _save_failed(folder: Path, step: int, err: Exception) -> FinetuneError:
    full = isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    text = str(err).lower()
    full = full or any(s in text for s in ("no space", "file too large", "disk quota", "failed writing"))
    previous = [p for p in list_checkpoints(folder) if p.name != f"checkpoint-{step}"]
    kept = f"the previous checkpoint {previous[-1].name} is intact" if previous else "no earlier checkpoint exists"
    cause = "the disk is full" if full else f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return FinetuneError(f"saving checkpoint-{step} failed ({cause}); {kept}",
                         hint="free disk space, then `lifecycle finetune --resume` continues from the last complete "
                         "checkpoint")


def run_job(spec: JobSpec) -> JobResult:
    """Train; returns where the final weights are and what happened. Raises FinetuneError/DataError."""
    import torch
    from transformers import DataCollatorForSeq2Seq, set_seed

    from lifecycle.loading import context_window, load_model_config, load_tokenizer

    echo = spec.echo
    ft = spec.ft
    if ft.method == "qlora":
        check_qlora_available()
    config = load_model_config(spec.model_ref, spec.revision, spec.trust_remote_code)
    encoder_decoder = _family(config, spec.architecture)
    precision = choose_precision(ft.training.mixed_precision)
    tokenizer = load_tokenizer(spec.model_ref, spec.revision, spec.trust_remote_code, decoder_only=not encoder_decoder)
    tokenizer.padding_side = "right"  # training pads after the answer; generation uses left padding
    context = context_window(config, tokenizer, spec.max_context)
    limits = limits_for(context, encoder_decoder, ft.data)
    per_step = ft.training.batch_size * ft.training.gradient_accumulation_steps
    min_examples = max(ft.training.min_train_examples, per_step)
    records = load_records(spec.train_path, spec.prompt_cfg, ft.data, min_examples=min_examples)
    if spec.prepare is not None:  # trained on what it is later prompted with
        records = spec.prepare(records)
    tok_kw = dict(encoder_decoder=encoder_decoder, truncate_target=bool(ft.data.max_target_tokens))
    train_features = tokenize_examples(records, tokenizer, spec.prompt_cfg, limits, path=spec.train_path, **tok_kw)
    eval_features = None
    if ft.training.eval_strategy != "no" and spec.validation_path is None:
        raise FinetuneError(f"configs/finetune.yaml: training.eval_strategy: {ft.training.eval_strategy} needs "
                            "data.validation (a JSONL file of held-out examples)",
                            hint='set data.validation, or eval_strategy: "no"')
    if spec.validation_path is not None:
        val = load_records(spec.validation_path, spec.prompt_cfg, ft.data, min_examples=1, role="validation")
        if spec.prepare is not None:
            val = spec.prepare(val)
        eval_features = tokenize_examples(val, tokenizer, spec.prompt_cfg, limits, path=spec.validation_path, **tok_kw)

    set_seed(ft.training.seed)
    base = _load_base(spec, encoder_decoder)
    plan = plan_method(ft.method, config.model_type, ft.peft, base)
    model = apply_method(base, plan, ft.peft, encoder_decoder, spec.model_ref)
    trainable, total = trainable_parameters(model)
    args = training_arguments(spec, precision, eval_features is not None, encoder_decoder)
    is_main = args.process_index == 0
    say = echo if is_main else (lambda _msg: None)
    targets = f" on {', '.join(plan.target_modules)}" if plan.target_modules else ""
    say(f"method {ft.method}{targets}: trainable params {trainable:,} of {total:,} ({100 * trainable / total:.4f}%)")
    # the longest example sets the peak batch: its input, and (encoder-decoder) its decoder length
    seq_len = max(len(f["input_ids"]) for f in train_features)
    target_len = max(len(f["labels"]) for f in train_features) if encoder_decoder else None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    estimate = memory_estimate(spec.model_ref, ft.method, precision=precision, batch_size=ft.training.batch_size,
                               seq_len=seq_len, lora_r=ft.peft.r, target_modules=plan.target_modules,
                               num_virtual_tokens=ft.peft.num_virtual_tokens, device="gpu" if device == "cuda" else "cpu",
                               target_len=target_len, lora_dropout=ft.peft.dropout,
                               trust_remote_code=spec.trust_remote_code)
    if "error" in estimate:
        say(f"memory estimate unavailable ({estimate['error']})")
    else:
        parts = ", ".join(f"{k} {gib(v)}" for k, v in estimate["components"].items())
        from lifecycle.catalog.memory import tokens_label

        say(f"memory estimate ({ft.method}, batch {ft.training.batch_size}, {tokens_label(seq_len, target_len)} tokens): "
            f"{gib(estimate['total_bytes'])} ({parts})")
    say(f"{len(train_features)} training examples, {'seq2seq' if encoder_decoder else 'causal (prompt masked)'}, "
        f"device {device}, precision {'fp32' if precision == 'no' else precision}, world size {args.world_size}")

    collator = DataCollatorForSeq2Seq(tokenizer, model=None, label_pad_token_id=-100, padding=True)
    trainer = _trainer_class(encoder_decoder)(
        model=model, args=args, train_dataset=train_features, eval_dataset=eval_features,
        data_collator=collator, processing_class=tokenizer)
    if spec.resume_from is not None:
        say(f"resuming from {spec.resume_from.name}")
    weight_bytes = _weight_bytes(model, ft.method)
    checkpoints = 0 if ft.training.save_strategy == "no" else 2  # the newest and the one kept while saving
    # weights + Adam's two moments per checkpoint, then the final weights
    check_free_space(spec.out_dir, weight_bytes * (3 * checkpoints + 1), "the checkpoints and final weights")
    reset_peak()
    output = trainer.train(resume_from_checkpoint=str(spec.resume_from) if spec.resume_from else None)
    peak = peak_memory()

    weights_dir = spec.out_dir / ("model" if ft.method == "full" else "adapter")
    check_free_space(spec.out_dir, weight_bytes, "the final weights")
    # Saved beside the run's folder of final weights, then renamed in: a kill mid-save leaves no
    # torn adapter/ that looks finished (the resume retrains from the last checkpoint instead).
    partial = spec.out_dir / f".{weights_dir.name}.partial"
    if is_main and partial.exists():
        shutil.rmtree(partial)
    trainer.save_model(str(partial))  # main process only; adapters as adapter_model.safetensors
    if is_main:
        tokenizer.padding_side = "left" if not encoder_decoder else tokenizer.padding_side
        tokenizer.save_pretrained(str(partial))
        if weights_dir.exists():  # from a save whose record never landed: this one replaces it
            shutil.rmtree(weights_dir)
        os.rename(partial, weights_dir)
    return JobResult(
        weights_dir=weights_dir, global_step=trainer.state.global_step,
        train_loss=getattr(output, "training_loss", None), log_history=list(trainer.state.log_history),
        trainable_params=trainable, total_params=total, precision=precision, estimate=estimate, peak=peak,
        encoder_decoder=encoder_decoder, num_examples=len(train_features), target_modules=plan.target_modules,
        world_size=args.world_size, is_main=is_main)


def _weight_bytes(model, method: str) -> int:
    """Bytes the saved weights take: the trainable parameters of an adapter, every parameter of a full model."""
    params = [p for p in model.parameters() if method == "full" or p.requires_grad]
    return sum(p.numel() * p.element_size() for p in params)


def check_free_space(folder: Path, needed: int, what: str) -> None:
    """Refuse before writing, naming the space needed, rather than fail half-way through a save."""
    from lifecycle.textio import human_bytes

    margin = needed // 10 + (1 << 20)  # metadata, tokenizer files, run.yaml
    free = shutil.disk_usage(folder).free
    if free < needed + margin:
        raise FinetuneError(f"{folder}: not enough free disk space for {what}: needs about "
                            f"{human_bytes(needed + margin)}, {human_bytes(free)} free",
                            hint="free disk space (or lower save_total_limit), then run the same command again")


def resume_point(out_dir: Path, warn) -> Path:
    return last_complete_checkpoint(out_dir / "checkpoints", warn=warn)
