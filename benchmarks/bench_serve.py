"""Serving: the micro-batching server vs the same server limited to batch size 1, and the server's
single-request latency vs a direct engine call.

    python benchmarks/bench_serve.py                    # 64 dialogues, concurrency 16, 32 new tokens
    python benchmarks/bench_serve.py --n 32 --concurrency 8 --max-tokens 16
    python benchmarks/bench_serve.py --latency-only --latency-n 16   # concurrency 1 vs direct engine only

Model: the exact shape of google/flan-t5-small (random weights; a byte-level BPE tokenizer from
lifecycle/testing/tiny.py trained on the dialogues and filled to the real 32128-token vocabulary),
built locally because no hub is reachable. Prompts: the first N dialogues of
../shared/data/dialogsum/dev.jsonl through the project's prompt template, greedy, exactly
--max-tokens new tokens (min_new_tokens = max_new_tokens, so every path does the same work).

Measured in this one process, against baselines measured in the same run:
  1. throughput at --concurrency over N requests: server with max batch 16 vs max batch 1;
  2. every served text byte-identical to `lifecycle generate` (run_generate) for the same prompt;
  3. at concurrency 1: p95 end-to-end latency of the server vs p95 of a direct Engine call, the two
     alternating request by request (interleaved_latency)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = REPO.parent / "shared" / "data" / "dialogsum" / "dev.jsonl"
SMALL = {"d_model": 512, "d_kv": 64, "d_ff": 1024, "num_layers": 8, "num_decoder_layers": 8, "num_heads": 6,
         "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}  # google/flan-t5-small config.json
VOCAB = 32128


def build_model(cache: Path, texts: list[str]) -> Path:
    from lifecycle.testing.tiny import build_tiny_model, train_tokenizer

    out = cache / "flan-t5-small-shape-v3"
    if (out / "config.json").is_file():
        return out
    tok = train_tokenizer(texts, VOCAB, family="t5")
    if len(tok) < VOCAB:  # a small corpus gives fewer merges: fill to the real vocabulary size
        # Plain (not special) tokens: random weights pick them often, and special tokens would be
        # skipped when decoding, leaving empty answers and nothing to stream.
        tok.add_tokens([f"<extra_id_{i}>" for i in range(VOCAB - len(tok))], special_tokens=False)
    build_tiny_model(out, "t5", tokenizer=tok, size=SMALL, context=512)
    # T5's default init makes a random model answer every input with the same (pad) token, which
    # decodes to "" and streams nothing; weights drawn N(0, 0.05) give input-dependent, non-empty
    # answers, so identical outputs and time to first token both mean something.
    import torch
    from transformers import AutoModelForSeq2SeqLM

    model = AutoModelForSeq2SeqLM.from_pretrained(out)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.05)
    model.save_pretrained(out)
    return out


def make_project(root: Path, model: Path, rows: list[dict], max_tokens: int) -> Path:
    from lifecycle.config.yaml_io import dump_yaml
    from lifecycle.testing.project import write_project

    data = root / "dialogues.jsonl"
    data.write_text("".join(json.dumps({"id": r["fname"], "dialogue": r["dialogue"], "summary": r["summary"]}) + "\n"
                            for r in rows), encoding="utf-8")
    proj = write_project(root / "proj", "summarization", str(model), data)
    gen = {"preset": "greedy", "max_new_tokens": max_tokens, "min_new_tokens": max_tokens, "seed": 42}
    (proj / "configs" / "generation.yaml").write_text(dump_yaml(gen), encoding="utf-8")
    return proj


def serve_and_load(project, served, prompts, *, max_batch: int, concurrency: int, requests: int, max_tokens: int):
    from lifecycle.config.serve import ServeConfig
    from lifecycle.serve.app import create_app
    from lifecycle.serve.bench import closed_loop, summarize
    from lifecycle.serve.server import ServerThread

    cfg = ServeConfig(port=0, max_batch_size=max_batch, max_wait_ms=10, max_tokens_cap=max_tokens)
    with ServerThread(create_app(served, cfg), cfg) as url:
        asyncio.run(closed_loop(url, prompts[:1], concurrency=1, requests=1, max_time_s=600, max_tokens=max_tokens))
        results, wall = asyncio.run(closed_loop(url, prompts, concurrency=concurrency, requests=requests,
                                                max_time_s=3600, max_tokens=max_tokens))
    return results, summarize(results, wall, concurrency)


def interleaved_latency(served, prompts, *, max_tokens: int):
    """Concurrency 1: each prompt once through the server (max batch 16), then once as a direct Engine
    call, alternating, so that load from other processes on a shared machine hits both alike.
    Returns (server results, direct seconds, direct texts by prompt id)."""
    from lifecycle.config.serve import ServeConfig
    from lifecycle.generation.engine import Engine
    from lifecycle.serve.app import create_app
    from lifecycle.serve.bench import closed_loop
    from lifecycle.serve.server import ServerThread

    engine = Engine(served.loaded, served.settings)
    cfg = ServeConfig(port=0, max_batch_size=16, max_wait_ms=10, max_tokens_cap=max_tokens)
    results, direct, alone = [], [], {}
    with ServerThread(create_app(served, cfg), cfg) as url:
        asyncio.run(closed_loop(url, prompts[:1], concurrency=1, requests=1, max_time_s=600, max_tokens=max_tokens))
        engine.generate([prompts[0][1]])  # warm-up, as the server's
        for pid, text in prompts:
            (r,), _ = asyncio.run(closed_loop(url, [(pid, text)], concurrency=1, requests=1, max_time_s=600,
                                              max_tokens=max_tokens))
            results.append(r)
            t = time.perf_counter()
            alone[pid] = engine.generate([text])[0].text
            direct.append(time.perf_counter() - t)
    return results, direct, alone


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=64, help="requests (dialogues)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--latency-n", type=int, default=16, help="requests for the concurrency-1 comparison")
    ap.add_argument("--latency-only", action="store_true", help="only the concurrency-1 comparison")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "lifecycle-bench-serve")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    if not DATA.is_file():
        print(f"missing {DATA}", file=sys.stderr)
        return 2
    rows = [json.loads(x) for x in DATA.read_text(encoding="utf-8").splitlines()[:args.n]]
    args.cache.mkdir(parents=True, exist_ok=True)
    model = build_model(args.cache, [r["dialogue"] for r in rows])

    from lifecycle.generation.session import GenerateRequest, run_generate
    from lifecycle.project import Project
    from lifecycle.serve.bench import bench_prompts, summarize
    from lifecycle.serve.model import load_served

    with tempfile.TemporaryDirectory() as tmp:
        project = Project(make_project(Path(tmp), model, rows, args.max_tokens))
        prompts, _ = bench_prompts(project, None)
        served = load_served(project)
        lat, direct, alone = interleaved_latency(served, prompts[:args.latency_n], max_tokens=args.max_tokens)
        lat_s = summarize(lat, sum(r.e2el for r in lat), 1)
        if not args.latency_only:
            t = time.perf_counter()
            (gen_result,) = run_generate(project, GenerateRequest())
            print(f"lifecycle generate (batched engine, offline): {len(prompts)} prompts in "
                  f"{time.perf_counter() - t:.1f} s")
            reference = {r["id"]: r["prediction"] for r in gen_result.records}
            batched, s16 = serve_and_load(project, served, prompts, max_batch=16, concurrency=args.concurrency,
                                          requests=args.n, max_tokens=args.max_tokens)
            single, s1 = serve_and_load(project, served, prompts, max_batch=1, concurrency=args.concurrency,
                                        requests=args.n, max_tokens=args.max_tokens)

    def differ(rs, ref):
        return [r.prompt_id for r in rs if not r.ok or (r.prompt_id in ref and r.text != ref[r.prompt_id])]

    p95_direct = float(np.percentile(np.asarray(direct) * 1000, 95))
    pairs = np.asarray([r.e2el for r in lat]) / np.asarray(direct)
    print(f"  concurrency 1 ({len(lat)} requests, server and direct alternating): server p95 "
          f"{lat_s['p95_e2el_ms']:.0f} ms vs direct engine p95 {p95_direct:.0f} ms = "
          f"{lat_s['p95_e2el_ms'] / p95_direct:.3f}x; per-request ratio median {np.median(pairs):.3f}x")
    if args.latency_only:
        return 1 if differ(lat, alone) else 0
    bad = {"batch16 vs generate": differ(batched, reference), "batch1 vs generate": differ(single, reference),
           "batch1 vs direct 1-prompt engine": differ(single, alone), "c1 vs direct 1-prompt engine": differ(lat, alone)}
    ratio = s16["request_throughput"] / s1["request_throughput"]
    print(f"\nflan-t5-small shape, {args.n} requests, concurrency {args.concurrency}, {args.max_tokens} new tokens, "
          f"{args.threads} threads")
    for name, s in (("server max batch 16", s16), ("server max batch 1 ", s1)):
        print(f"  {name}: {s['request_throughput']:.2f} req/s, {s['output_throughput']:.1f} output tok/s, "
              f"TTFT p50 {s['p50_ttft_ms']:.0f} ms, E2EL p50/p95/p99 {s['p50_e2el_ms']:.0f}/{s['p95_e2el_ms']:.0f}/"
              f"{s['p99_e2el_ms']:.0f} ms")
    print(f"  throughput ratio (batch 16 / batch 1): {ratio:.2f}x")
    empty = sum(1 for r in batched if not r.text)
    print(f"  outputs ({empty} of {len(batched)} empty):")
    for name, ids in bad.items():
        print(f"    {name}: {'identical' if not ids else f'{len(ids)} differ, e.g. {ids[:3]}'}")
    # Served == direct engine call for the same batch shape is the server's contract; batched vs one
    # at a time can differ in fp32 rounding where a random model's top logits nearly tie.
    return 1 if bad["batch16 vs generate"] or bad["c1 vs direct 1-prompt engine"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
