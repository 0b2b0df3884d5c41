"""A quick load test of a running server (this project's `lifecycle serve`, its Docker image, or
vLLM from serve/Dockerfile.vllm), against the targets in lifecycle.yaml (integration.latency_p95_ms,
integration.requests_per_s). Exit 1 when a target is missed: usable as a deploy smoke test.

    python serve/load_test.py --url http://127.0.0.1:8000 --concurrency 8 --requests 64

This prints numbers; the evidence the integrate checks read is a serve_bench run:
`lifecycle serve bench --url URL` (same prompts from the eval set, vLLM's metric names, report.html)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]


def prompts(limit: int) -> list[str]:
    """Texts of data/sample.jsonl's input fields (what the chat endpoint renders with configs/prompt.yaml)."""
    from lifecycle.project import Project
    from lifecycle.tasks import get_task

    fields = get_task(Project(ROOT).manifest.scope.task).input_fields
    lines = (ROOT / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return ["\n".join(str(r[f]) for f in fields) for r in rows][:limit]


async def one(client: httpx.AsyncClient, url: str, model: str, text: str, max_tokens: int, headers: dict) -> float:
    t = time.perf_counter()
    r = await client.post(f"{url}/v1/chat/completions", headers=headers, json={
        "model": model, "messages": [{"role": "user", "content": text}], "max_tokens": max_tokens, "temperature": 0})
    r.raise_for_status()
    return time.perf_counter() - t


async def run(args) -> dict:
    headers = {"Authorization": f"Bearer {os.environ[args.api_key_env]}"} if os.environ.get(args.api_key_env) else {}
    texts = prompts(args.requests)
    async with httpx.AsyncClient(timeout=args.timeout) as client:
        models = (await client.get(f"{args.url}/v1/models", headers=headers)).json()["data"]
        model = models[0]["id"]
        todo = [texts[i % len(texts)] for i in range(args.requests)]
        latencies: list[float] = []

        async def worker():
            while todo:
                latencies.append(await one(client, args.url, model, todo.pop(), args.max_tokens, headers))

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        wall = time.perf_counter() - t
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000
    return {"model": model, "requests": len(latencies), "concurrency": args.concurrency,
            "p50_ms": statistics.median(latencies) * 1000, "p95_ms": p95, "requests_per_s": len(latencies) / wall}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--api-key-env", default="LIFECYCLE_API_KEY")
    args = ap.parse_args(argv)
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    targets = (yaml.safe_load((ROOT / "lifecycle.yaml").read_text(encoding="utf-8")).get("integration") or {})
    missed = []
    if targets.get("latency_p95_ms") is not None and result["p95_ms"] > targets["latency_p95_ms"]:
        missed.append(f"p95 {result['p95_ms']:.0f} ms > target {targets['latency_p95_ms']} ms")
    if targets.get("requests_per_s") is not None and result["requests_per_s"] < targets["requests_per_s"]:
        missed.append(f"{result['requests_per_s']:.2f} req/s < target {targets['requests_per_s']} req/s")
    for line in missed:
        print("missed:", line, file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
