"""`lifecycle serve`: the project's model (or a run's) behind an OpenAI-compatible API;
`lifecycle serve bench`: a bounded closed-loop load test with vLLM's metric names.
Thin: parse -> lifecycle.serve -> print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

serve_app = sub_app(
    help="Serve the model with an OpenAI-compatible API (/v1/completions, /v1/chat/completions, /v1/models, "
    "/health, /metrics), batching concurrent requests.",
    epilog="Examples:\n\n"
    "  lifecycle serve                                   # configs/model.yaml on http://127.0.0.1:8000\n\n"
    "  lifecycle serve --run 20261201T101500Z-finetune-ab12cd3   # a fine-tuned, merged or quantized run\n\n"
    "  lifecycle serve --port 9000 --max-batch-size 32 --max-wait-ms 20\n\n"
    "  LIFECYCLE_API_KEY=secret lifecycle serve           # clients must send Authorization: Bearer secret\n\n"
    "  curl -s localhost:8000/v1/completions -H 'Content-Type: application/json' "
    "-d '{\"prompt\": \"Summarize: ...\", \"max_tokens\": 32, \"temperature\": 0}'\n\n"
    "  python -c \"from openai import OpenAI; c = OpenAI(base_url='http://127.0.0.1:8000/v1', api_key='x'); "
    "print(c.models.list())\"\n\n"
    "  lifecycle serve bench --concurrency 1,4,16 --requests 64\n\n"
    "Settings come from configs/serve.yaml when it exists; flags override it. Stop with Ctrl-C or SIGTERM: "
    "in-flight requests finish first.",
    invoke_without_command=True,
    no_args_is_help=False,  # a bare `lifecycle serve` serves
)


@serve_app.callback()
def serve_cmd(
    ctx: typer.Context,
    run: Optional[str] = typer.Option(None, "--run", "-r", help="Serve this run's model (finetune, merge or quantize run id)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Hub id or local folder instead of configs/model.yaml."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name clients send (default: the run id or model id)."),
    host: Optional[str] = typer.Option(None, "--host", help="Interface (default 127.0.0.1: this machine only)."),
    port: Optional[int] = typer.Option(None, "--port", min=0, max=65535, help="Port (default 8000; 0 = any free port)."),
    max_batch_size: Optional[int] = typer.Option(None, "--max-batch-size", min=1, help="Requests generated together at most."),
    max_wait_ms: Optional[float] = typer.Option(None, "--max-wait-ms", min=0, help="How long a batch waits to fill."),
    max_tokens_cap: Optional[int] = typer.Option(None, "--max-tokens-cap", min=1, help="Largest max_tokens allowed."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Serve config (default: configs/serve.yaml if present)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    rag: bool = typer.Option(False, "--rag", help="Give every prompt context retrieved from the project's "
                             "`lifecycle rag index` (configs/rag.yaml), fitted to the token budget as generate --rag "
                             "does; responses list the chunks (`rag`). Refuses a missing or stale index."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Serve the model over HTTP until Ctrl-C or SIGTERM."""
    if ctx.invoked_subcommand is not None:
        return
    from lifecycle.config.serve import load_serve_config
    from lifecycle.project import Project
    from lifecycle.serve.app import create_app
    from lifecycle.serve.model import load_served
    from lifecycle.serve.server import serve_forever

    proj = Project.find(project)
    cfg = load_serve_config(proj, config, {"host": host, "port": port, "max_batch_size": max_batch_size,
                                      "max_wait_ms": max_wait_ms, "max_tokens_cap": max_tokens_cap,
                                      "model_name": name})
    if cfg.port == 0:  # pick the free port now, so that the line below names the real one
        from lifecycle.serve.server import free_port

        cfg = cfg.model_copy(update={"port": free_port(cfg.host)})
    retrieval = None
    if rag:  # before the model loads: a stale index refuses at once
        from lifecycle.prompting.project_inputs import load_prompt_config
        from lifecycle.serve.rag import ServeRag

        retrieval = ServeRag(proj, load_prompt_config(proj))
    served = load_served(proj, run=run, model=model, name=cfg.model_name)
    typer.echo(f"serving '{served.name}'" + (f" (run {served.run_id})" if served.run_id else "")
               + f" on http://{cfg.host}:{cfg.port}/v1  (batch <= {cfg.max_batch_size}, wait {cfg.max_wait_ms:g} ms"
               + (f", rag {retrieval.mode} k={retrieval.k} over {retrieval.describe()['chunks']} chunks" if retrieval else "")
               + ")", err=True)
    serve_forever(create_app(served, cfg, retrieval), cfg, log_level=log_level)


BENCH_EPILOG = (
    "Examples:\n\n"
    "  lifecycle serve bench                               # the project's model on loopback, concurrency 1,4,16\n\n"
    "  lifecycle serve bench --concurrency 1,16 --requests 64 --max-tokens 32\n\n"
    "  lifecycle serve bench --run RUN_ID --max-batch-size 1      # the same load against batch size 1\n\n"
    "  lifecycle serve bench --url http://127.0.0.1:8000 --max-time 60   # a server already running\n\n"
    "The prompts are the eval set's zero-shot prompts. Each concurrency stops at --requests requests or "
    "--max-time seconds, whichever comes first. Results go to runs/<time>-serve_bench-<hash>/: metrics.json "
    "(vLLM benchmark_serving names: request_throughput, output_throughput, mean/median/p50/p95/p99 of "
    "ttft_ms, tpot_ms, itl_ms, e2el_ms), requests.jsonl, report.md, report.html, plots/."
)


@serve_app.command("bench", epilog=BENCH_EPILOG)
def bench_cmd(
    concurrency: str = typer.Option("1,4,16", "--concurrency", help="Comma list of concurrent clients, one measurement each."),
    requests: int = typer.Option(32, "--requests", "-n", min=1, max=100_000, help="Requests per concurrency at most."),
    max_time: float = typer.Option(120.0, "--max-time", min=0.1, max=86_400, help="Seconds per concurrency at most."),
    max_tokens: int = typer.Option(32, "--max-tokens", min=1, max=32768, help="max_tokens of every request (greedy)."),
    url: Optional[str] = typer.Option(None, "--url", help="A running server's base URL (default: serve the project's model on loopback here)."),
    run: Optional[str] = typer.Option(None, "--run", "-r", help="Serve this run's model (without --url)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="First N prompts of the eval set."),
    max_batch_size: Optional[int] = typer.Option(None, "--max-batch-size", min=1, help="The local server's batch size."),
    max_wait_ms: Optional[float] = typer.Option(None, "--max-wait-ms", min=0, help="The local server's batch wait."),
    warmup: int = typer.Option(1, "--warmup", min=0, help="Requests sent first and not measured."),
    api_key_env: str = typer.Option("LIFECYCLE_API_KEY", "--api-key-env", help="Environment variable with the server's key."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Measure latency and throughput at several concurrencies; write a serve_bench run."""
    import os
    import sys

    from lifecycle.project import Project
    from lifecycle.serve.bench import BenchOptions, run_bench

    try:
        cs = sorted({int(x) for x in concurrency.split(",") if x.strip()})
    except ValueError:
        raise typer.BadParameter(f"'{concurrency}' is not a comma list of integers, e.g. 1,4,16",
                                 param_hint="--concurrency") from None
    if not cs or cs[0] < 1 or cs[-1] > 1024:
        raise typer.BadParameter("give concurrencies between 1 and 1024, e.g. 1,4,16", param_hint="--concurrency")
    if url is not None and (run or max_batch_size or max_wait_ms is not None):
        raise typer.BadParameter("--run, --max-batch-size and --max-wait-ms configure the local server; "
                                 "a --url server is measured as it runs", param_hint="--url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise typer.BadParameter(f"'{url}' is not an http(s) URL", param_hint="--url")
    proj = Project.find(project)
    opts = BenchOptions(cs, requests=requests, max_time_s=max_time, max_tokens=max_tokens, url=url, run=run,
                        limit=limit, warmup=warmup, api_key=os.environ.get(api_key_env) or None, argv=sys.argv,
                        serve_overrides={"max_batch_size": max_batch_size, "max_wait_ms": max_wait_ms,
                                         "max_tokens_cap": max(max_tokens, 1)})
    result = run_bench(proj, opts, echo=typer.echo)
    typer.echo(f"run {result.id}: {result.path / 'report.html'}")
