"""DPO step time vs a plain fine-tuning step on the same seq2seq model (random weights in a given shape).

    .venv/bin/python benchmarks/bench_dpo.py                 # tiny shape, seconds
    .venv/bin/python benchmarks/bench_dpo.py --shape small   # flan-t5-small's shape (random weights)

A DPO step runs the policy on chosen and rejected (2x the decoder work of one fine-tuning step),
plus a reference pass without gradients (LoRA: the adapter-disabled base; full: precomputed once,
so no reference pass per step). Prints each step time and the ratio to the fine-tuning baseline.

    .venv/bin/python benchmarks/bench_dpo.py --memory        # estimate vs measured peak RSS, one DPO step

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memory", action="store_true", help="estimate vs peak RSS of a DPO step (flan-t5-small shape)")
    ap.add_argument("--methods", default="full,dpo,lora,dpo_lora", help="--memory: which rows (comma-separated)")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--src", type=int, default=64)
    ap.add_argument("--tgt", type=int, default=24)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args()
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
