"""DPO step time vs a plain fine-tuning step on the same seq2seq model (random weights in a given shape).

    .venv/bin/python benchmarks/bench_dpo.py                 # tiny shape, seconds
    .venv/bin/python benchmarks/bench_dpo.py --shape small   # flan-t5-small's shape (random weights)

A DPO step runs the policy on chosen and rejected (2x the decoder work of one fine-tuning step),
plus a reference pass without gradients (LoRA: the adapter-disabled base; full: precomputed once,
so no reference pass per step). Prints each step time and the ratio to the fine-tuning baseline.

    .venv/bin/python benchmarks/bench_dpo.py --memory        # estimate vs measured peak RSS, one DPO step
    .venv/bin/python benchmarks/bench_dpo.py --trainers      # whole trainer steps, both model families

--trainers: median step time through the trainers the commands use, same model, batch and lengths:
our Seq2SeqDPOTrainer (full, reference precomputed) vs the fine-tuning Seq2SeqTrainer on a T5, and
TRL's DPOTrainer (the decoder-only path of `align dpo`) vs a plain Trainer fine-tuning step on a
GPT-2 (each step timed by a callback, warm-up left out); the two DPO/fine-tune ratios side by side.

--memory: `lifecycle models estimate --method dpo` (and dpo_lora) on flan-t5-small's shape (random
weights) against the peak RSS of two real DPO steps (our seq2seq pair log-probs + DPO loss, AdamW),
each in a fresh subprocess measured as benchmarks/bench_memory.py does; the plain fine-tuning
step's estimate/peak (full, lora) is measured in the same run as the baseline."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

SHAPES = {"tiny": {"d_model": 64, "d_ff": 128, "num_layers": 2, "num_heads": 4, "d_kv": 16},
          "small": {"d_model": 512, "d_ff": 1024, "num_layers": 8, "num_heads": 6, "d_kv": 64}}


CHILD = r'''
import gc, json, os, resource, sys
import torch
torch.manual_seed(0)
import peft, transformers
from lifecycle.align.dpo import pair_logps
from lifecycle.align.loss import dpo_loss
from lifecycle.catalog.params import _untie_if_checkpoint_is_untied, as_spec

dims, method, batch, seq = json.loads(sys.argv[1])

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def build(d):
    spec = as_spec(d)
    model = getattr(transformers, spec.model_class).from_config(spec.config)
    _untie_if_checkpoint_is_untied(model, spec.raw)
    if method.endswith("lora"):
        model = peft.get_peft_model(model, peft.LoraConfig(task_type=peft.TaskType.SEQ_2_SEQ_LM, r=8, lora_alpha=16,
                                                           lora_dropout=0.0, target_modules=["q", "v"]))
    return model.train()

def run(model, b, s, steps):
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (b, s), generator=g)
    ch, rj = torch.randint(5, vocab, (b, s), generator=g), torch.randint(5, vocab, (b, s), generator=g)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, foreach=False)
    for _ in range(steps):
        if method in ("full", "lora"):  # the plain fine-tuning step (baseline)
            loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ch).loss
        else:
            batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "chosen_labels": ch,
                     "rejected_labels": rj}
            if method == "dpo_lora":  # reference: the adapter-disabled base, no gradients
                with torch.no_grad(), model.disable_adapter():
                    rc, rr, _, _ = pair_logps(model, batch)
            else:  # full: reference log-probs were precomputed before training
                rc, rr = torch.zeros(b), torch.zeros(b)
            pc, pr, _, _ = pair_logps(model, batch)
            loss = dpo_loss(pc, pr, rc, rr, beta=0.1).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

SHRINK = {"num_layers": 1, "num_decoder_layers": 1, "d_model": 64, "d_ff": 64, "d_kv": 16, "num_heads": 4,
          "vocab_size": 500}
run(build({k: SHRINK.get(k, v) for k, v in dims.items()}), 2, 16, 2)
gc.collect()
base = rss()
model = build(dims)
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
run(model, batch, seq, 2)
print(json.dumps({"measured": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base}))
'''


def memory(batch: int, seq: int, methods: tuple[str, ...] = ("full", "dpo", "lora", "dpo_lora")) -> None:
    import json
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(repo), str(repo / "benchmarks")]
    from bench_memory import _catalog_dims

    from lifecycle.catalog.memory import estimate_memory

    dims = _catalog_dims("google/flan-t5-small")
    mib = 1024**2
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", PYTHONWARNINGS="ignore")
    print(f"flan-t5-small shape (random weights), fp32, CPU, {batch} pairs x {seq} tokens (encoder and decoder)")
    print(f"{'method':9} {'estimate':>9} {'peak RSS':>9} {'ratio':>6}  (MiB; fine-tuning rows: same shape, batch {batch})")
    for method in methods:
        est = estimate_memory(dims, method, "fp32", batch, seq, device="cpu")
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([dims, method, batch, seq])], cwd=repo,
                             capture_output=True, text=True, env=env, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        measured = json.loads(out.stdout.strip().splitlines()[-1])["measured"]
        print(f"{method:9} {est.total_bytes / mib:9.1f} {measured / mib:9.1f} {est.total_bytes / measured:6.2f}",
              flush=True)


def _step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times, self._t = [], None

        def on_step_begin(self, args, state, control, **kw):
            self._t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            self.times.append(time.perf_counter() - self._t)

    return StepTimer()


def trainers(shape: str, batch: int, src: int, tgt: int, steps: int) -> None:
    """Whole trainer steps (collate, forward, backward, optimizer, scheduler), DPO vs fine-tuning."""
    import random

    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq
    from trl import DPOTrainer

    from lifecycle.align.dpo import PairCollator, _args, _seq2seq_trainer_class, precompute_reference, trl_config
    from lifecycle.config.align import DPOSettings
    from lifecycle.config.finetune import TrainingSettings
    from lifecycle.finetune.training import _trainer_class
    from lifecycle.testing import build_tiny_model

    torch.set_num_threads(1)
    rng = random.Random(0)
    training = TrainingSettings(learning_rate=1e-4, batch_size=batch, max_steps=steps + 2, logging_steps=10_000,
                                save_steps=10_000, save_strategy="no", seed=0)
    dpo = DPOSettings(method="full", training=training, max_source_tokens=src, max_target_tokens=tgt)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t5 = build_tiny_model(tmp / "t5", "t5", size=SHAPES[shape])
        size = dict(SHAPES[shape])
        if size["d_model"] % size["num_heads"]:  # GPT-2 has no d_kv: heads must divide the width
            size["num_heads"] = 8
        gpt2 = build_tiny_model(tmp / "gpt2", "gpt2", size=size)
        vocab = AutoModelForSeq2SeqLM.from_pretrained(t5).config.vocab_size
        ids = lambda n: [rng.randrange(5, vocab) for _ in range(n)]  # noqa: E731
        rows = [(ids(src), ids(tgt), ids(tgt)) for _ in range(batch * (steps + 2))]

        def median_step(trainer) -> float:
            timer = _step_timer()
            trainer.add_callback(timer)
            trainer.train()
            return statistics.median(timer.times[2:])

        # seq2seq: the fine-tuning trainer vs our DPO trainer on the same T5, batch and lengths
        model = AutoModelForSeq2SeqLM.from_pretrained(t5, dtype=torch.float32)
        sft = [{"input_ids": s, "attention_mask": [1] * len(s), "labels": c} for s, c, _ in rows]
        tok = AutoTokenizer.from_pretrained(t5)
        out["seq2seq fine-tune (Seq2SeqTrainer)"] = median_step(_trainer_class(True)(
            model=model, args=_args(tmp / "sft", training, "no", True), train_dataset=sft,
            data_collator=DataCollatorForSeq2Seq(tok, model=model)))
        model = AutoModelForSeq2SeqLM.from_pretrained(t5, dtype=torch.float32)
        feats = [{"input_ids": s, "chosen_labels": c, "rejected_labels": r} for s, c, r in rows]
        precompute_reference(model, feats, tok.pad_token_id)
        out["seq2seq DPO (ours, full, reference precomputed)"] = median_step(_seq2seq_trainer_class()(
            model=model, args=_args(tmp / "dpo", training, "no", True), train_dataset=feats,
            data_collator=PairCollator(tok.pad_token_id), beta=0.1, loss_type="sigmoid"))

        # decoder-only: a plain Trainer fine-tuning step vs TRL's DPOTrainer (what `align dpo` runs)
        tok = AutoTokenizer.from_pretrained(gpt2)
        text = lambda t: tok.decode(t)  # noqa: E731
        model = AutoModelForCausalLM.from_pretrained(gpt2, dtype=torch.float32)
        causal = [{"input_ids": s + c, "attention_mask": [1] * (src + tgt), "labels": [-100] * src + c}
                  for s, c, _ in rows]
        out["decoder-only fine-tune (Trainer)"] = median_step(_trainer_class(False)(
            model=model, args=_args(tmp / "csft", training, "no", False), train_dataset=causal,
            data_collator=DataCollatorForSeq2Seq(tok, model=model, padding=True)))
        model = AutoModelForCausalLM.from_pretrained(gpt2, dtype=torch.float32)
        data = Dataset.from_list([{"prompt": text(s), "chosen": text(c), "rejected": text(r)} for s, c, r in rows])
        out["decoder-only DPO (TRL DPOTrainer, full, reference precomputed)"] = median_step(DPOTrainer(
            model=model, args=trl_config(tmp / "tdpo", dpo, "no"), train_dataset=data, processing_class=tok))
    print(f"shape {shape}, batch {batch}, source {src}, target {tgt} tokens, 1 thread, median of {steps} steps")
    for name, sec in out.items():
        print(f"  {name:62s} {sec * 1000:8.1f} ms")
    keys = list(out)
    print(f"ratio seq2seq DPO (ours) / seq2seq fine-tune:   {out[keys[1]] / out[keys[0]]:.2f}x")
    print(f"ratio decoder-only DPO (TRL) / causal fine-tune: {out[keys[3]] / out[keys[2]]:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memory", action="store_true", help="estimate vs peak RSS of a DPO step (flan-t5-small shape)")
    ap.add_argument("--methods", default="full,dpo,lora,dpo_lora", help="--memory: which rows (comma-separated)")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--src", type=int, default=64)
    ap.add_argument("--tgt", type=int, default=24)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--trainers", action="store_true", help="whole trainer steps: ours vs Seq2SeqTrainer, TRL vs Trainer")
    args = ap.parse_args()
    if args.trainers:
        return trainers(args.shape, args.batch, args.src, args.tgt, args.steps)
    if args.memory:
        return memory(4, 128, tuple(args.methods.split(",")))

    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSeq2SeqLM

    from lifecycle.align.dpo import pair_logps
    from lifecycle.align.loss import dpo_loss
    from lifecycle.testing import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        folder = build_tiny_model(Path(tmp) / "m", "t5", size=SHAPES[args.shape])
        vocab = AutoModelForSeq2SeqLM.from_pretrained(folder).config.vocab_size
        g = torch.Generator().manual_seed(0)
        ids = torch.randint(5, vocab, (args.batch, args.src), generator=g)
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids),
                 "chosen_labels": torch.randint(5, vocab, (args.batch, args.tgt), generator=g),
                 "rejected_labels": torch.randint(5, vocab, (args.batch, args.tgt), generator=g)}

        def timed(model, step) -> float:
            opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
            times = []
            for i in range(args.steps + 2):
                t = time.perf_counter()
                loss = step(model)
                loss.backward()
                opt.step()
                opt.zero_grad()
                if i >= 2:  # warm-up steps left out
                    times.append(time.perf_counter() - t)
            return statistics.median(times)

        def sft(model):
            return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                         labels=batch["chosen_labels"]).loss

        ref = {"ref_chosen_logps": torch.zeros(args.batch), "ref_rejected_logps": torch.zeros(args.batch)}

        def dpo_precomputed(model):
            ch, rj, _, _ = pair_logps(model, batch)
            return dpo_loss(ch, rj, ref["ref_chosen_logps"], ref["ref_rejected_logps"], beta=0.1).loss

        def dpo_lora(model):
            ch, rj, _, _ = pair_logps(model, batch)
            with torch.no_grad(), model.disable_adapter():
                rc, rr, _, _ = pair_logps(model, batch)
            return dpo_loss(ch, rj, rc, rr, beta=0.1).loss

        def load():
            return AutoModelForSeq2SeqLM.from_pretrained(folder, dtype=torch.float32).train()

        def lora(m):
            return get_peft_model(m, LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM, r=8, target_modules=["q", "v"]))

        results = {
            "full fine-tune step": timed(load(), sft),
            "full DPO step (reference precomputed)": timed(load(), dpo_precomputed),
            "LoRA fine-tune step": timed(lora(load()), sft),
            "LoRA DPO step (adapter-disabled reference)": timed(lora(load()), dpo_lora),
        }
    print(f"shape {args.shape}, batch {args.batch}, source {args.src}, target {args.tgt} tokens, "
          f"{torch.get_num_threads()} threads, median of {args.steps} steps")
    for name, sec in results.items():
        print(f"  {name:45s} {sec * 1000:8.1f} ms")
    print(f"ratio full DPO / full fine-tune: {results['full DPO step (reference precomputed)'] / results['full fine-tune step']:.2f}x")
    print(f"ratio LoRA DPO / LoRA fine-tune: {results['LoRA DPO step (adapter-disabled reference)'] / results['LoRA fine-tune step']:.2f}x")


if __name__ == "__main__":
    main()
