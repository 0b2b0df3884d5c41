"""Fine-tuning benchmark: full vs LoRA (r=32 on q,v) vs prompt tuning on a model with the shape of
google/flan-t5-small (random weights, tokenizer trained on the dialogues), DialogSum dev examples.

    python benchmarks/bench_finetune.py [--steps 4] [--examples 32] [--batch-size 8] [--repeats 2]

Per method, in a fresh process each (so peak memory is that method's): trainable parameters and
share, seconds per step, measured peak memory (CUDA allocated, or on CPU the process's peak RSS and
that peak above the RSS of the imported runtime, which is what the estimate covers) beside the
memory estimator's prediction (which on CPU includes glibc's retention, see bench_memory.py). Then our overhead: `lifecycle.finetune` training vs a bare
Seq2SeqTrainer loop with the same arguments and examples (LoRA), alternating, best of --repeats;
the ratio must stay under 1.05."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIALOGSUM = REPO.parent / "shared" / "data" / "dialogsum" / "dev.jsonl"
T5_SMALL = dict(d_model=512, d_kv=64, d_ff=1024, num_layers=8, num_decoder_layers=8, num_heads=6,
                feed_forward_proj="gated-gelu", tie_word_embeddings=False)
TEMPLATE = "Summarize the following conversation.\n\n{dialogue}\n\nSummary:"
METHODS = ("full", "lora", "prompt_tuning")


def _setup(work: Path, n_examples: int) -> tuple[Path, Path]:
    """(model dir, train jsonl) under `work`: nothing is written into the repository."""
    from lifecycle.data import load_jsonl
    from lifecycle.testing import build_tiny_model

    rows = load_jsonl(DIALOGSUM, required=["dialogue", "summary"])
    model_dir = work / "flan-t5-small-shape"
    if not (model_dir / "config.json").is_file():
        texts = [r["dialogue"] for r in rows] + [r["summary"] for r in rows]
        build_tiny_model(model_dir, "t5", texts=texts, vocab_size=32128, size=T5_SMALL)
    train = work / "train.jsonl"
    with train.open("w", encoding="utf-8") as fh:
        for r in rows[:n_examples]:
            fh.write(json.dumps({"id": r.get("id", ""), "dialogue": r["dialogue"], "summary": r["summary"]}) + "\n")
    return model_dir, train


def _ft_config(method: str, steps: int, batch_size: int):
    from lifecycle.config.finetune import FinetuneConfig

    return FinetuneConfig.model_validate({
        "method": method, "peft": {"r": 32, "alpha": 32, "dropout": 0.05, "target_modules": ["q", "v"] if method == "lora" else None,
                                   "num_virtual_tokens": 20},
        "training": {"max_steps": steps, "batch_size": batch_size, "save_strategy": "no", "logging_steps": steps,
                     "learning_rate": 1e-4 if method == "full" else 1e-3, "seed": 42},
        "data": {"max_source_tokens": 512, "max_target_tokens": 128}})


def _prompt_config():
    from lifecycle.config.prompt import PromptConfig

    return PromptConfig(template=TEMPLATE, target_field="summary", budget={"policy": "truncate"})


def worker_ours(model_dir: Path, train: Path, method: str, steps: int, batch_size: int, out: Path) -> dict:
    # the runtime is loaded before the baseline: the estimate covers the model and its step, not
    # the libraries' code and tables
    import peft  # noqa: F401
    import torch  # noqa: F401
    from transformers import AutoModelForSeq2SeqLM, Seq2SeqTrainer  # noqa: F401

    from lifecycle.finetune.training import JobSpec, run_job

    runtime_rss = _rss()
    ft = _ft_config(method, steps, batch_size)
    spec = JobSpec(str(model_dir), None, False, "auto", None, ft, _prompt_config(), train, None, out,
                   echo=lambda m: print(m, file=sys.stderr))
    res = run_job(spec)
    runtime = next(e["train_runtime"] for e in res.log_history if "train_runtime" in e)
    peak = res.peak.get("peak_cuda_allocated_bytes", res.peak.get("peak_rss_bytes"))
    est = res.estimate or {}
    return {"method": method, "trainable": res.trainable_params, "total": res.total_params,
            "s_per_step": runtime / res.global_step, "peak_bytes": peak,
            "peak_kind": "cuda" if "peak_cuda_allocated_bytes" in res.peak else "rss",
            "runtime_rss": runtime_rss, "estimate_bytes": est.get("total_bytes"), "estimate_error": est.get("error")}


def _rss() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def worker_bare(model_dir: Path, train: Path, steps: int, batch_size: int, out: Path) -> dict:
    """The same LoRA training written directly against transformers + peft."""
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import (AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer,
                              Seq2SeqTrainingArguments, set_seed)

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    rows = [json.loads(line) for line in train.read_text(encoding="utf-8").splitlines() if line.strip()]
    feats = []
    for r in rows:
        src = tok(TEMPLATE.format(**r), truncation=True, max_length=512)["input_ids"]
        tgt = tok(text_target=r["summary"], truncation=True, max_length=128)["input_ids"]
        feats.append({"input_ids": src, "attention_mask": [1] * len(src), "labels": tgt})
    set_seed(42)
    model = AutoModelForSeq2SeqLM.from_pretrained(str(model_dir), dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, r=32, lora_alpha=32, lora_dropout=0.05,
                                             target_modules=["q", "v"]))
    cpu = not torch.cuda.is_available()
    args = Seq2SeqTrainingArguments(
        output_dir=str(out / "checkpoints"), learning_rate=1e-3, max_steps=steps, per_device_train_batch_size=batch_size,
        save_strategy="no", logging_steps=steps, seed=42, data_seed=42, report_to="none", remove_unused_columns=False,
        dataloader_num_workers=0, dataloader_pin_memory=False, use_cpu=cpu, bf16=not cpu and torch.cuda.is_bf16_supported(),
        lr_scheduler_type="linear", warmup_steps=0.0, logging_first_step=True)
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=feats, processing_class=tok,
                             data_collator=DataCollatorForSeq2Seq(tok, label_pad_token_id=-100, padding=True))
    out_metrics = trainer.train()
    return {"method": "bare-lora", "s_per_step": out_metrics.metrics["train_runtime"] / trainer.state.global_step}


def _spawn(args: argparse.Namespace, *extra: str) -> dict:
    cmd = [sys.executable, __file__, "--steps", str(args.steps), "--examples", str(args.examples),
           "--batch-size", str(args.batch_size), "--work", str(args.work), *extra]
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if res.returncode != 0:
        raise SystemExit(f"worker {extra} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _gib(n) -> str:
    return "n/a" if n is None else f"{n / 2**30:.2f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--examples", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--work", type=Path, default=None)
    p.add_argument("--worker", choices=[*METHODS, "bare"], default=None)
    args = p.parse_args()
    if args.worker:
        model_dir, train = args.work / "flan-t5-small-shape", args.work / "train.jsonl"
        out = Path(tempfile.mkdtemp(dir=args.work))
        if args.worker == "bare":
            res = worker_bare(model_dir, train, args.steps, args.batch_size, out)
        else:
            res = worker_ours(model_dir, train, args.worker, args.steps, args.batch_size, out)
        print(json.dumps(res))
        return
    if not DIALOGSUM.is_file():
        raise SystemExit(f"{DIALOGSUM} is missing")
    with tempfile.TemporaryDirectory() as tmp:
        args.work = Path(tmp)
        _setup(args.work, args.examples)
        rows = [_spawn(args, "--worker", m) for m in METHODS]
        print(f"flan-t5-small shape, {args.examples} DialogSum dev examples, batch {args.batch_size}, "
              f"{args.steps} steps, device {'cuda' if rows[0]['peak_kind'] == 'cuda' else 'cpu'}")
        kind = "CUDA allocated" if rows[0]["peak_kind"] == "cuda" else "process RSS"
        print(f"| method | trainable params | share | s/step | peak GiB ({kind}) | above runtime GiB "
              "| estimate GiB | estimate / measured |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            est = _gib(r["estimate_bytes"]) if r["estimate_bytes"] else f"n/a ({(r['estimate_error'] or '')[:60]})"
            above = (r["peak_bytes"] - r["runtime_rss"]) if r["peak_kind"] == "rss" and r["runtime_rss"] else r["peak_bytes"]
            ratio = f"{r['estimate_bytes'] / above:.2f}" if r["estimate_bytes"] and above else "n/a"
            print(f"| {r['method']} | {r['trainable']:,} | {100 * r['trainable'] / r['total']:.3f}% | "
                  f"{r['s_per_step']:.3f} | {_gib(r['peak_bytes'])} | {_gib(above)} | {est} | {ratio} |")
        ours, bare = [], []
        for _ in range(args.repeats):  # alternate, so load on a shared machine hits both alike
            ours.append(_spawn(args, "--worker", "lora")["s_per_step"])
            bare.append(_spawn(args, "--worker", "bare")["s_per_step"])
        ratio = min(ours) / min(bare)
        print(f"overhead (LoRA, best of {args.repeats}): ours {min(ours):.3f} s/step vs bare Seq2SeqTrainer "
              f"{min(bare):.3f} s/step -> ratio {ratio:.3f} ({'OK' if ratio < 1.05 else 'OVER'} the 1.05 bound)")


if __name__ == "__main__":
    main()
