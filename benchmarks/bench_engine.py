"""Batch-invariant attention: row by row on real keys (now) vs float64 over padded keys (before), against
the lab's one-example-at-a-time loop, in one process on the same prompts.

    python benchmarks/bench_engine.py --models gpt2,base --n 8 --threads 1 --repeat 2

Models and prompts are bench_generate.py's (flan-t5 / gpt2 shapes, random weights, DialogSum dev
dialogues, exactly 50 new tokens). Prints per repeat the seconds of each path, the engine/loop ratio
of each variant, the prefill share of the loop (one new token instead of 50), and whether every
engine output is token-for-token the loop's (exit 1 unless so). The machine may be shared: compare
ratios within one run; the median over repeats is printed last."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_generate as bg  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="gpt2,base")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lifecycle-bench-generate"))
    args = ap.parse_args(argv)

    import torch
    import transformers

    from lifecycle.config.generation import GenerationSettings
    from lifecycle.generation import numerics
    from lifecycle.generation.engine import Engine
    from lifecycle.loading import load_model

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    rows = [json.loads(line) for line in bg.DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [r["dialogue"] for r in rows] + [r["summary"] for r in rows]
    prompts = [bg.PROMPT.format(dialogue=r["dialogue"]) for r in rows[:args.n]]
    args.cache.mkdir(parents=True, exist_ok=True)
    bad = 0
    for name in args.models.split(","):
        loaded = load_model(str(bg.build(name, texts, args.cache)), device="cpu")
        settings = GenerationSettings(max_new_tokens=bg.NEW_TOKENS, min_new_tokens=bg.NEW_TOKENS,
                                      batch_tokens=16384, max_batch_size=64)
        first = GenerationSettings(max_new_tokens=1, min_new_tokens=1)
        config = Engine(loaded, settings).generation_config
        Engine(loaded, settings).generate(prompts[:2])  # warm-up
        ratios: dict[str, list[float]] = {"row_by_row": [], "fp64": [], "plain": []}
        for rep in range(args.repeat):
            t = time.perf_counter()
            lab = bg.lab_loop(loaded, prompts, config)
            loop_s = time.perf_counter() - t
            t = time.perf_counter()
            bg.lab_loop(loaded, prompts, Engine(loaded, first).generation_config)
            prefill_s = time.perf_counter() - t
            line = f"{name} rep {rep}: loop {loop_s:.1f} s (prefill share {prefill_s / loop_s:.0%})"
            for variant in ratios:
                numerics.ROW_BY_ROW = variant != "fp64"
                engine = Engine(loaded, settings)
                engine.batch_invariant = variant != "plain"
                t = time.perf_counter()
                gens = engine.generate(prompts)
                s = time.perf_counter() - t
                same = sum(g.token_ids == ids for g, ids in zip(gens, lab))
                bad += same != len(prompts) and variant != "plain"
                ratios[variant].append(loop_s / s)
                line += f" | {variant} {s:.1f} s = {loop_s / s:.2f}x ({same}/{len(prompts)} identical)"
            numerics.ROW_BY_ROW = True
            print(line, flush=True)
        print(f"{name} median engine/loop over {args.repeat}: " + ", ".join(
            f"{v} {statistics.median(r):.2f}x" for v, r in ratios.items())
            + "   (plain = batch_invariant off, no invariance)", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
