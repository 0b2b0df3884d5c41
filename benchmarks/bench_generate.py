"""Generation speed: the course lab's one-example-at-a-time loop vs our batched engine.

    python benchmarks/bench_generate.py                 # 64 dialogues, flan-t5-small/base shapes + gpt2-small shape
    python benchmarks/bench_generate.py --n 16 --models base

Workload: the first N dialogues of ../shared/data/dialogsum/dev.jsonl, the lab's instruction prompt,
greedy decoding with exactly 50 new tokens (min_new_tokens = max_new_tokens, so both paths do the
same work). Models have the exact shapes of google/flan-t5-small, google/flan-t5-base and gpt2
(random weights, a byte-level BPE tokenizer trained on the dialogues and filled to the real
vocabulary size), built locally because no hub is reachable. All paths run in this process, one
after the other: the loop, then each engine variant (--variants: `before` = batch_invariant off;
`invariant` = the default; `no-head-chunks`, `no-prefill-apart`, `no-static-cache`, `no-packed-cross`, `no-split-products`,
`no-heads-as-batch`, `no-inplace`, `no-kept-cross`, `no-direct-cross`, `no-cross-views`, `no-fast-paths` =
the default with CPU fast paths (lifecycle/generation/fast_paths.py, numerics.py) off, to show what each buys).
Prints examples/s, tokens/s, peak memory, the ratio to
the loop, how many outputs are identical token for token to the loop's (exit 1 unless all are), and
the fraction of the machine's measured matmul FLOP/s each reaches. The machine may be shared: only
ratios measured in one run compare."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "dialogsum" / "dev.jsonl"
PROMPT = "Summarize the following conversation.\n\n{dialogue}\n\nSummary: "
NEW_TOKENS = 50

SHAPES = {
    # google/flan-t5-small and google/flan-t5-base config.json values
    "small": ("t5", {"d_model": 512, "d_kv": 64, "d_ff": 1024, "num_layers": 8, "num_decoder_layers": 8,
                     "num_heads": 6, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}, 32128, 512),
    "base": ("t5", {"d_model": 768, "d_kv": 64, "d_ff": 2048, "num_layers": 12, "num_decoder_layers": 12,
                    "num_heads": 12, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}, 32128, 512),
    # gpt2 (small): 12 layers, 768 wide, 12 heads, 1024 positions, 50257 tokens
    "gpt2": ("gpt2", {"d_model": 768, "num_layers": 12, "num_heads": 12}, 50257, 1024),
}


class PeakRSS:
    """Peak resident memory during a block (sampled every 5 ms), above the level at its start."""

    def __init__(self) -> None:
        self.peak = self.base = 0
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> "PeakRSS":
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self.base = self.peak = self.rss()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def mib(self) -> float:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**20
        return (self.peak - self.base) / 2**20


def build(name: str, texts: list[str], cache: Path) -> Path:
    from lifecycle.testing.tiny import build_tiny_model, train_tokenizer

    family, size, vocab, context = SHAPES[name]
    out = cache / f"{name}-shape"
    if (out / "config.json").is_file():
        return out
    tok = train_tokenizer(texts, vocab, family=family)
    if len(tok) < vocab:  # a small corpus gives fewer merges: fill to the real vocabulary size
        tok.add_tokens([f"<extra_id_{i}>" for i in range(vocab - len(tok))], special_tokens=True)
    return build_tiny_model(out, family, tokenizer=tok, size=size, context=context)


def lab_loop(loaded, prompts: list[str], gen_config) -> list[list[int]]:
    """What the lab does: tokenize one dialogue, generate, decode; repeat."""
    import torch

    outs = []
    model, tok = loaded.model, loaded.tokenizer
    for text in prompts:
        inputs = tok(text, return_tensors="pt").to(loaded.device)
        with torch.no_grad():
            ids = model.generate(inputs["input_ids"], attention_mask=inputs["attention_mask"], generation_config=gen_config)
        start = 1 if loaded.encoder_decoder else inputs["input_ids"].shape[1]
        outs.append(ids[0, start:].tolist())
    return outs


def matmul_flops(device, dtype, d: int = 768, rows: int = 4096, ff: int = 2048, repeat: int = 10) -> float:
    """Sustained FLOP/s of a (rows x d) @ (d x ff) matmul: the shape that dominates the workload."""
    import torch

    a = torch.randn(rows, d, device=device, dtype=dtype)
    b = torch.randn(d, ff, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t = time.perf_counter()
    for _ in range(repeat):
        a @ b
    sync()
    return 2 * rows * d * ff * repeat / (time.perf_counter() - t)


def workload_flops(model, tokens_in: int, n: int, encoder_decoder: bool) -> float:
    """Matmul FLOPs of the workload: 2 x weights touched per token (embeddings are lookups, the
    output projection is not), plus attention scores/values over the context."""
    cfg = model.config
    if encoder_decoder:
        enc = sum(p.numel() for n_, p in model.encoder.named_parameters() if "embed" not in n_ and p.dim() == 2)
        dec = sum(p.numel() for n_, p in model.decoder.named_parameters() if "embed" not in n_ and p.dim() == 2)
        dec += model.lm_head.weight.numel()
        d_attn = cfg.num_heads * cfg.d_kv
        avg_in = tokens_in / n
        attn = 4 * d_attn * (cfg.num_layers * avg_in * avg_in            # encoder self-attention
                             + cfg.num_decoder_layers * NEW_TOKENS * (avg_in + NEW_TOKENS / 2))  # cross + self
        return n * (2 * enc * avg_in + 2 * dec * NEW_TOKENS + attn)
    weights = sum(p.numel() for n_, p in model.named_parameters() if p.dim() == 2 and "wpe" not in n_ and "wte" not in n_)
    weights += model.lm_head.weight.numel()
    avg_in = tokens_in / n
    steps = avg_in + NEW_TOKENS
    attn = 4 * cfg.n_embd * cfg.n_layer * steps * steps / 2
    return n * (2 * weights * (avg_in + NEW_TOKENS) + attn)


# Engine variants measured in the same run (same process, same prompts, one after the other):
#   before     the engine as it was: batch composition changes last-bit rounding (batch_invariant off)
#   invariant  the default: a row's output does not depend on its batch (numerics.py)
#   no-*       the default with one CPU fast path (lifecycle/generation/fast_paths.py) off: what it buys
VARIANTS = {"before": {"batch_invariant": False}, "invariant": {"batch_invariant": True},
            "no-head-chunks": {"HEAD_CHUNKS": False}, "no-prefill-apart": {"PREFILL_APART": False},
            "no-static-cache": {"STATIC_CACHE": False}, "no-packed-cross": {"PACKED_CROSS": False},
            "no-split-products": {"SPLIT_PRODUCTS": False}, "no-heads-as-batch": {"HEADS_AS_BATCH": False},
            "no-inplace": {"INPLACE_ELEMENTWISE": False}, "no-kept-cross": {"KEPT_CROSS": False},
            "no-direct-cross": {"DIRECT_CROSS": False}, "no-cross-views": {"CROSS_VIEWS": False},
            "no-fast-paths": {"HEAD_CHUNKS": False, "PREFILL_APART": False, "STATIC_CACHE": False,
                              "PACKED_CROSS": False, "SPLIT_PRODUCTS": False, "HEADS_AS_BATCH": False,
                              "INPLACE_ELEMENTWISE": False, "KEPT_CROSS": False, "DIRECT_CROSS": False,
                              "CROSS_VIEWS": False}}


def run_engine(loaded, settings, prompts, attrs: dict, sync):
    from lifecycle.generation.engine import Engine

    from lifecycle.generation import fast_paths, numerics

    engine = Engine(loaded, settings)
    # module switches: fast_paths' (HEADS_AS_BATCH and DIRECT_CROSS are numerics')
    switches = {k: fast_paths if hasattr(fast_paths, k) else numerics for k in attrs if k.isupper()}
    saved = {k: getattr(module, k) for k, module in switches.items()}
    for key, value in attrs.items():
        setattr(switches.get(key, engine), key, value)
    try:
        with PeakRSS() as mem:
            sync()
            t = time.perf_counter()
            gens = engine.generate(prompts)
            sync()
            seconds = time.perf_counter() - t
    finally:
        for key, value in saved.items():
            setattr(switches[key], key, value)
    return engine, gens, seconds, mem.mib()


def bench(name: str, prompts: list[str], cache: Path, args) -> dict:
    import torch

    from lifecycle.config.generation import GenerationSettings
    from lifecycle.generation.engine import Engine
    from lifecycle.loading import load_model

    path = build(name, args.texts, cache)
    loaded = load_model(str(path), device=args.device)
    settings = GenerationSettings(max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                  batch_tokens=args.batch_tokens, max_batch_size=args.max_batch_size)
    engine = Engine(loaded, settings)
    sync = torch.cuda.synchronize if loaded.device.type == "cuda" else (lambda: None)
    engine.generate(prompts[:2])  # warm-up: first-call allocations and kernel selection
    n = len(prompts)
    result = {"model": name, "device": str(loaded.device), "dtype": str(loaded.dtype).replace("torch.", ""), "n": n,
              "threads": torch.get_num_threads()}

    lab = None
    if not args.skip_loop:
        with PeakRSS() as mem:
            sync()
            t = time.perf_counter()
            lab = lab_loop(loaded, prompts, engine.generation_config)
            sync()
            lab_s = time.perf_counter() - t
        print(f"  {name}: per-example loop done in {lab_s:.1f} s", file=sys.stderr, flush=True)
        result["loop"] = {"s": round(lab_s, 2), "ex_per_s": round(n / lab_s, 3),
                          "tok_per_s": round(n * NEW_TOKENS / lab_s, 1), "peak_mib": round(mem.mib(), 1)}

    peak = matmul_flops(loaded.device, loaded.dtype, d=loaded.model.config.to_dict().get("d_model", 768))
    result["matmul_gflop_per_s"] = round(peak / 1e9, 1)
    outputs = {}
    for variant in args.variants:
        engine, gens, eng_s, mib = run_engine(loaded, settings, prompts, VARIANTS[variant], sync)
        print(f"  {name}: engine ({variant}) done in {eng_s:.1f} s", file=sys.stderr, flush=True)
        assert all(g.tokens_out == NEW_TOKENS for g in gens), "every example must generate exactly 50 tokens"
        tokens_in = sum(g.tokens_in for g in gens)
        flops = workload_flops(loaded.model, tokens_in, n, loaded.encoder_decoder)
        entry = {"s": round(eng_s, 2), "ex_per_s": round(n / eng_s, 3), "tok_per_s": round(n * NEW_TOKENS / eng_s, 1),
                 "peak_mib": round(mib, 1), "batches": engine.stats.batch_sizes,
                 "gflop_per_s": round(flops / eng_s / 1e9, 1), "fraction_of_matmul": round(flops / eng_s / peak, 3)}
        if lab is not None:
            entry["identical_to_loop"] = sum(g.token_ids == ids for g, ids in zip(gens, lab))
            entry["ratio"] = round(lab_s / eng_s, 2)
        outputs[variant] = [g.token_ids for g in gens]
        result[variant] = entry
        result["avg_tokens_in"] = round(tokens_in / n, 1)
        result["workload_gflop"] = round(flops / 1e9, 1)
    if len(outputs) > 1:
        first, *rest = outputs
        result["variants_identical"] = {v: sum(a == b for a, b in zip(outputs[first], outputs[v])) for v in rest}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=64, help="dialogues (default 64)")
    parser.add_argument("--models", default="small,base,gpt2", help="comma list of: small, base, gpt2")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, default=None, help="folder to keep the built models between runs")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-tokens", type=int, default=None, help="engine token budget per batch")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--skip-loop", action="store_true", help="engine only (no per-example baseline)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; 1 is steadier on a busy machine)")
    parser.add_argument("--variants", default="invariant,no-fast-paths",
                        help=f"engine variants to time after the loop, comma list of: {', '.join(VARIANTS)}")
    parser.add_argument("--json", action="store_true", help="print results as JSON lines")
    args = parser.parse_args(argv)
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown or not args.variants:
        parser.error(f"--variants: unknown {', '.join(unknown) or '(none given)'}; use {', '.join(VARIANTS)}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.data.is_file():
        print(f"dialogues not found: {args.data}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    args.texts = [r["dialogue"] for r in rows] + [r["summary"] for r in rows]  # tokenizer corpus: all of dev
    prompts = [PROMPT.format(dialogue=r["dialogue"]) for r in rows[: args.n]]
    if args.batch_tokens is None:
        # CPU: big batches amortize reading the weights at every decoding step; GPU: more still.
        args.batch_tokens = 65536 if torch.cuda.is_available() and args.device != "cpu" else 32768
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}, "
          f"{len(prompts)} dialogues, {NEW_TOKENS} new tokens, batch_tokens {args.batch_tokens}", flush=True)
    cache_ctx = tempfile.TemporaryDirectory() if args.cache is None else None
    cache = Path(cache_ctx.name) if cache_ctx else args.cache
    cache.mkdir(parents=True, exist_ok=True)
    differ = 0
    try:
        for name in args.models.split(","):
            r = bench(name.strip(), prompts, cache, args)
            differ += any(r[v].get("identical_to_loop", r["n"]) != r["n"] for v in args.variants)
            if args.json:
                print(json.dumps(r), flush=True)
                continue
            line = f"{r['model']:>5} [{r['device']} {r['dtype']}, {r['threads']} threads] {r['n']} dialogues, " \
                   f"avg input {r['avg_tokens_in']} tokens, matmul peak measured {r['matmul_gflop_per_s']} GFLOP/s"
            if "loop" in r:
                lp = r["loop"]
                line += (f"\n  per-example loop:     {lp['ex_per_s']:.3f} ex/s  {lp['tok_per_s']:.1f} tok/s  "
                         f"peak +{lp['peak_mib']:.0f} MiB")
            for v in args.variants:
                e = r[v]
                line += (f"\n  engine {v:<13} {e['ex_per_s']:.3f} ex/s  {e['tok_per_s']:.1f} tok/s  "
                         f"peak +{e['peak_mib']:.0f} MiB  {e['gflop_per_s']} GFLOP/s "
                         f"({100 * e['fraction_of_matmul']:.0f}% of matmul)  batches {e['batches']}")
                if "ratio" in e:
                    line += f"\n    ratio engine/loop: {e['ratio']:.2f}x  (outputs identical to the loop: " \
                            f"{e['identical_to_loop']}/{r['n']})"
            if "variants_identical" in r:
                line += "\n  outputs identical between variants: " + ", ".join(
                    f"{args.variants[0]} vs {v}: {k}/{r['n']}" for v, k in r["variants_identical"].items())
            print(line, flush=True)
    finally:
        if cache_ctx:
            cache_ctx.cleanup()
    if differ:
        print("engine outputs differ from the per-example loop (see above)", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
