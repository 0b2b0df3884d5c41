"""DPO step time vs a plain fine-tuning step on the same seq2seq model (random weights in a given shape).

    .venv/bin/python benchmarks/bench_dpo.py                 # tiny shape, seconds
    .venv/bin/python benchmarks/bench_dpo.py --shape small   # flan-t5-small's shape (random weights)

A DPO step runs the policy on chosen and rejected (2x the decoder work of one fine-tuning step),
plus a reference pass without gradients (LoRA: the adapter-disabled base; full: precomputed once,
so no reference pass per step). Prints each step time and the ratio to the fine-tuning baseline."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

SHAPES = {"tiny": {"d_model": 64, "d_ff": 128, "num_layers": 2, "num_heads": 4, "d_kv": 16},
          "small": {"d_model": 512, "d_ff": 1024, "num_layers": 8, "num_heads": 6, "d_kv": 64}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--src", type=int, default=64)
    ap.add_argument("--tgt", type=int, default=24)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args()

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
