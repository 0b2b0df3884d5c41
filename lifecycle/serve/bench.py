"""`lifecycle serve bench`: a bounded closed-loop load generator for an OpenAI-compatible server.

At each concurrency C, C workers each send a streamed /v1/completions request, wait for its last
byte, and send the next, until `requests` requests are done or `max_time_s` has passed (both caps
always apply). Per request: time to first token (TTFT), inter-token latencies (ITL, the gaps between
streamed chunks), time per output token after the first (TPOT) and end-to-end latency (E2EL).
The summary uses vLLM's `benchmark_serving` names (request_throughput, output_throughput,
mean_ttft_ms, p99_itl_ms, ...), so a CPU run here and a GPU `vllm serve` run compare line by line.

Without --url the project's model is served on a free loopback port inside this process; a remote
server is only contacted when its URL is given explicitly."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lifecycle.errors import LifecycleError
from lifecycle.reporting import to_stderr

KIND = "serve_bench"
PERCENTILES = (50, 95, 99)
LATENCIES = ("ttft", "tpot", "itl", "e2el")


class BenchError(LifecycleError):
    """The load test could not run (no server, no prompts, every request failed)."""


@dataclass
class RequestResult:
    index: int
    prompt_id: str
    ok: bool
    start: float
    ttft: float | None = None        # seconds
    e2el: float | None = None
    itl: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    output_tokens: int = 0
    text: str = ""
    error: str | None = None

    def record(self, concurrency: int) -> dict:
        data = asdict(self)
        data.pop("start")
        return {"concurrency": concurrency, **data}


async def _one(client, url: str, model: str | None, prompt_id: str, prompt: str, index: int, max_tokens: int,
               headers: dict) -> RequestResult:
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    if model:
        body["model"] = model
    res = RequestResult(index, prompt_id, False, time.perf_counter())
    last = res.start
    parts = []
    try:
        async with client.stream("POST", f"{url}/v1/completions", json=body, headers=headers) as r:
            if r.status_code != 200:
                res.error = f"HTTP {r.status_code}: {(await r.aread()).decode(errors='replace')[:300]}"
                return res
            async for line in r.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if "error" in chunk:
                    res.error = chunk["error"].get("message", "error")
                    return res
                if chunk.get("usage"):
                    res.prompt_tokens = chunk["usage"].get("prompt_tokens", 0)
                    res.output_tokens = chunk["usage"].get("completion_tokens", 0)
                text = "".join(c.get("text") or "" for c in chunk.get("choices") or [])
                if text:
                    now = time.perf_counter()
                    if res.ttft is None:
                        res.ttft = now - res.start
                    else:
                        res.itl.append(now - last)
                    last = now
                    parts.append(text)
    except Exception as err:  # a failed request is a data point (counted as failed), not a crash
        res.error = f"{type(err).__name__}: {err}"
        return res
    res.e2el = time.perf_counter() - res.start
    if res.ttft is None:  # an empty answer: the first token is the last byte
        res.ttft = res.e2el
    res.text = "".join(parts)
    res.ok = True
    return res


async def closed_loop(url: str, prompts: list[tuple[str, str]], *, concurrency: int, requests: int,
                      max_time_s: float, max_tokens: int, model: str | None = None, api_key: str | None = None,
                      timeout_s: float = 300.0) -> tuple[list[RequestResult], float]:
    """(results in issue order, wall seconds): `concurrency` workers, prompts taken in turn."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    results: list[RequestResult] = []
    issued = 0
    t0 = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)

    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
        async def worker():
            nonlocal issued
            while issued < requests and time.perf_counter() - t0 < max_time_s:
                i = issued
                issued += 1
                pid, text = prompts[i % len(prompts)]
                results.append(await _one(client, url, model, pid, text, i, max_tokens, headers))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    return sorted(results, key=lambda r: r.index), wall


def _dist(name: str, values_s: list[float]) -> dict:
    ms = np.asarray(values_s, dtype=float) * 1000.0
    if ms.size == 0:
        return {f"mean_{name}_ms": None, f"median_{name}_ms": None, f"std_{name}_ms": None,
                **{f"p{p}_{name}_ms": None for p in PERCENTILES}}
    out = {f"mean_{name}_ms": float(ms.mean()), f"median_{name}_ms": float(np.median(ms)),
           f"std_{name}_ms": float(ms.std())}
    out.update({f"p{p}_{name}_ms": float(np.percentile(ms, p)) for p in PERCENTILES})
    return out


def summarize(results: list[RequestResult], duration_s: float, concurrency: int) -> dict:
    """vLLM's benchmark_serving result keys for one concurrency."""
    ok = [r for r in results if r.ok]
    tin, tout = sum(r.prompt_tokens for r in ok), sum(r.output_tokens for r in ok)
    tpot = [(r.e2el - r.ttft) / (r.output_tokens - 1) for r in ok if r.output_tokens > 1]
    out = {"max_concurrency": concurrency, "completed": len(ok), "failed": len(results) - len(ok),
           "duration": duration_s, "total_input_tokens": tin, "total_output_tokens": tout,
           "request_throughput": len(ok) / duration_s if duration_s else None,
           "output_throughput": tout / duration_s if duration_s else None,
           "total_token_throughput": (tin + tout) / duration_s if duration_s else None}
    out.update(_dist("ttft", [r.ttft for r in ok]))
    out.update(_dist("tpot", tpot))
    out.update(_dist("itl", [x for r in ok for x in r.itl]))
    out.update(_dist("e2el", [r.e2el for r in ok]))
    errors = sorted({r.error for r in results if r.error})
    if errors:
        out["errors"] = errors[:5]
    return out


# ------------------------------------------------------------------------- the command
@dataclass
class BenchOptions:
    concurrencies: list[int]
    requests: int = 32                 # per concurrency
    max_time_s: float = 120.0          # per concurrency
    max_tokens: int = 32
    url: str | None = None             # None: serve the project's model on loopback, in this process
    run: str | None = None             # serve this run's model (without --url)
    limit: int | None = None           # prompts from the eval set
    warmup: int = 1
    serve_overrides: dict = field(default_factory=dict)
    api_key: str | None = None
    argv: list[str] | None = None


def bench_prompts(project, limit: int | None) -> tuple[list[tuple[str, str]], dict]:
    """The eval set's zero-shot prompts (exactly what `lifecycle generate` feeds the model)."""
    from lifecycle.prompting.project_inputs import load_prompt_inputs
    from lifecycle.hashing import file_sha256
    inputs = load_prompt_inputs(project, limit=limit)
    prompts = inputs.build(0)
    return [(p.id, p.text) for p in prompts], {"path": str(inputs.data_path), "sha256": file_sha256(inputs.data_path),
                                               "examples": len(prompts)}


def _remote_model(url: str, api_key: str | None) -> dict:
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        data = httpx.get(f"{url}/v1/models", headers=headers, timeout=30).json()["data"][0]
    except Exception as err:
        raise BenchError(f"cannot list the models of {url}: {type(err).__name__}: {err}",
                         hint="check --url (the server's base, without /v1) and the API key") from err
    return {"name": data.get("id"), **(data.get("lifecycle") or {})}


def measure(url: str, prompts, opts: BenchOptions, model_name: str | None) -> dict[int, tuple[list, float]]:
    out = {}
    if opts.warmup:
        asyncio.run(closed_loop(url, prompts, concurrency=1, requests=opts.warmup, max_time_s=opts.max_time_s,
                                max_tokens=opts.max_tokens, model=model_name, api_key=opts.api_key))
    for c in opts.concurrencies:
        out[c] = asyncio.run(closed_loop(url, prompts, concurrency=c, requests=opts.requests,
                                         max_time_s=opts.max_time_s, max_tokens=opts.max_tokens,
                                         model=model_name, api_key=opts.api_key))
    return out


def run_bench(project, opts: BenchOptions, *, echo=to_stderr):
    """Measure every concurrency, write the run folder, return the Run."""
    from contextlib import nullcontext

    from lifecycle.runs.store import RunStore

    if not opts.concurrencies or min(opts.concurrencies) < 1:
        raise BenchError("give one or more concurrencies >= 1, e.g. --concurrency 1,4,16")
    prompts, dataset = bench_prompts(project, opts.limit)
    server_info: dict = {"url": opts.url, "local": opts.url is None}
    if opts.url is None:
        from lifecycle.config.serve import load_serve_config
        from lifecycle.serve.app import create_app
        from lifecycle.serve.model import load_served
        from lifecycle.serve.server import ServerThread

        cfg = load_serve_config(project, None, {**opts.serve_overrides, "host": "127.0.0.1", "port": 0})
        served = load_served(project, run=opts.run)
        model = served.describe()
        context = ServerThread(create_app(served, cfg), cfg)
        server_info.update(max_batch_size=cfg.max_batch_size, max_wait_ms=cfg.max_wait_ms,
                           device=str(served.loaded.device), dtype=str(served.loaded.dtype).replace("torch.", ""))
    else:
        model = _remote_model(opts.url.rstrip("/"), opts.api_key)
        context = nullcontext(opts.url.rstrip("/"))
    config = {"concurrencies": opts.concurrencies, "requests": opts.requests, "max_time_s": opts.max_time_s,
              "max_tokens": opts.max_tokens, "warmup": opts.warmup, "limit": opts.limit, "server": server_info}
    store = RunStore(project.runs_dir)
    with store.new_run(KIND, config=config, model=model, dataset=dataset, argv=opts.argv,
                       extra={"serve_bench": {"model_name": model.get("name"), "run": model.get("run"),
                                              "weights_sha256": model.get("weights_sha256")}}) as run:
        with context as url:
            echo(f"load test of {url} ({model.get('name')}): concurrency {opts.concurrencies}, "
                 f"{opts.requests} requests / {opts.max_time_s:g} s each")
            measured = measure(url, prompts, opts, model.get("name"))
        by_c = {}
        lines = []
        for c, (results, wall) in measured.items():
            summary = summarize(results, wall, c)
            by_c[str(c)] = summary
            lines += [json.dumps(r.record(c), ensure_ascii=False) for r in results]
            echo(_line(summary))
        if not any(s["completed"] for s in by_c.values()):
            first = next((s.get("errors") for s in by_c.values() if s.get("errors")), ["no request finished"])
            raise BenchError(f"every request failed: {first[0]}")
        from lifecycle.config.yaml_io import atomic_write_text

        atomic_write_text(run.path / "requests.jsonl", "\n".join(lines) + "\n")
        run.write_metrics(_metrics_doc(by_c))
        write_reports(run.path, by_c, measured, model, config)
        run.finish("complete", serve_bench={**run.meta["serve_bench"], "results": by_c})
    return run


def _line(s: dict) -> str:
    f = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    return (f"  c={s['max_concurrency']:>3}: {s['completed']} ok, {s['failed']} failed, "
            f"{s['request_throughput']:.2f} req/s, {s['output_throughput']:.1f} tok/s, "
            f"TTFT p50 {f(s['p50_ttft_ms'])} ms, ITL p50 {f(s['p50_itl_ms'])} ms, "
            f"E2EL p50/p95/p99 {f(s['p50_e2el_ms'])}/{f(s['p95_e2el_ms'])}/{f(s['p99_e2el_ms'])} ms")


def _metrics_doc(by_c: dict) -> dict:
    """metrics.json in the run store's shape ({"n", "metrics": {name: {value, n}}}), names `c<C>/<vllm name>`,
    with vLLM's per-concurrency dicts kept whole under `by_concurrency`."""
    flat = {}
    for c, s in by_c.items():
        for k, v in s.items():
            if isinstance(v, (int, float)) and k != "max_concurrency":
                flat[f"c{c}/{k}"] = {"value": v, "ci": None, "n": s["completed"]}
    return {"n": sum(s["completed"] + s["failed"] for s in by_c.values()), "metrics": flat, "by_concurrency": by_c}


def _plots(measured) -> dict[str, bytes]:
    import io

    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    cs = list(measured)
    out = {}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, key, title in ((axes[0], "e2el", "end-to-end latency (ms)"), (axes[1], "ttft", "time to first token (ms)")):
        data = [[getattr(r, key) * 1000 for r in measured[c][0] if r.ok] or [0.0] for c in cs]
        ax.boxplot(data, whis=(5, 95))
        ax.set_xticks(range(1, len(cs) + 1), [str(c) for c in cs])
        ax.set_xlabel("concurrency")
        ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    out["latency.png"] = buf.getvalue()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    tput = [sum(r.output_tokens for r in measured[c][0] if r.ok) / measured[c][1] for c in cs]
    ax.plot(cs, tput, marker="o")
    ax.set_xlabel("concurrency")
    ax.set_ylabel("output tokens/s")
    ax.set_title("throughput vs concurrency")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    out["throughput.png"] = buf.getvalue()
    return out


ROWS = ("completed", "failed", "duration", "request_throughput", "output_throughput", "total_token_throughput",
        "mean_ttft_ms", "p50_ttft_ms", "p95_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "p50_itl_ms", "p95_itl_ms",
        "p99_itl_ms", "mean_e2el_ms", "p50_e2el_ms", "p95_e2el_ms", "p99_e2el_ms")


def write_reports(folder: Path, by_c: dict, measured, model: dict, config: dict) -> None:
    import html

    from lifecycle.config.yaml_io import atomic_write_bytes, atomic_write_text

    cs = list(by_c)
    fmt = lambda v: "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))  # noqa: E731
    head = f"Serving benchmark: {model.get('name')}" + (f" (run {model['run']})" if model.get("run") else "")
    md = [f"# {head}", "", f"Server: {config['server']}; max_tokens {config['max_tokens']}, "
          f"{config['requests']} requests or {config['max_time_s']:g} s per concurrency (closed loop, greedy).", "",
          "| metric | " + " | ".join(f"c={c}" for c in cs) + " |", "|---|" + "---|" * len(cs)]
    md += [f"| {k} | " + " | ".join(fmt(by_c[c].get(k)) for c in cs) + " |" for k in ROWS]
    md += ["", "Metric names follow vLLM's benchmark_serving (ms; throughput per second).",
           "", "![latency](plots/latency.png)", "![throughput](plots/throughput.png)", ""]
    atomic_write_text(folder / "report.md", "\n".join(md))
    plots = _plots(measured)
    for name, data in plots.items():
        atomic_write_bytes(folder / "plots" / name, data)
    rows = "".join(f"<tr><th>{k}</th>" + "".join(f"<td>{fmt(by_c[c].get(k))}</td>" for c in cs) + "</tr>" for k in ROWS)
    imgs = "".join(f'<img alt="{n}" src="data:image/png;base64,{base64.b64encode(d).decode()}">' for n, d in plots.items())
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(head)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;text-align:right}"
            "th{text-align:left}img{max-width:48%;margin:4px}</style></head><body>"
            f"<h1>{html.escape(head)}</h1><p>{html.escape(str(config['server']))}</p>"
            f"<table><tr><th>metric</th>{''.join(f'<th>c={c}</th>' for c in cs)}</tr>{rows}</table>{imgs}</body></html>")
    atomic_write_text(folder / "report.html", page)
