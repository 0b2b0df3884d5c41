"""`lifecycle serve bench`: a bounded load test into a serve_bench run with vLLM's metric names."""

from __future__ import annotations

import json

import pytest

VLLM_KEYS = ("completed", "failed", "duration", "total_input_tokens", "total_output_tokens", "request_throughput",
             "output_throughput", "total_token_throughput", "mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms",
             "mean_tpot_ms", "mean_itl_ms", "p95_itl_ms", "mean_e2el_ms", "p50_e2el_ms", "p95_e2el_ms", "p99_e2el_ms")


def test_bench_writes_a_serve_bench_run(serve_t5, make_project, cli):
    import yaml

    root = make_project("summarization", model=serve_t5, name="p-bench")
    res = cli("serve", "bench", "--concurrency", "1,4", "--requests", "6", "--max-tokens", "8", "--max-wait-ms", "20",
              cwd=root)
    assert res.returncode == 0, res.stderr
    (run,) = [p for p in (root / "runs").iterdir() if "-serve_bench-" in p.name]
    meta = yaml.safe_load((run / "run.yaml").read_text())
    assert meta["kind"] == "serve_bench" and meta["status"] == "complete"
    assert meta["model"]["weights_sha256"] and meta["config"]["server"]["local"] is True
    doc = json.loads((run / "metrics.json").read_text())
    for c in ("1", "4"):
        s = doc["by_concurrency"][c]
        for key in VLLM_KEYS:
            assert key in s, key
        assert s["completed"] == 6 and s["failed"] == 0 and s["max_concurrency"] == int(c)
        assert s["p50_e2el_ms"] <= s["p95_e2el_ms"] <= s["p99_e2el_ms"]
        assert s["mean_ttft_ms"] <= s["mean_e2el_ms"]
        assert s["total_output_tokens"] == 6 * 8 or s["total_output_tokens"] <= 6 * 8
        assert s["request_throughput"] == pytest.approx(s["completed"] / s["duration"])
    assert doc["metrics"]["c4/request_throughput"]["value"] == doc["by_concurrency"]["4"]["request_throughput"]
    records = [json.loads(x) for x in (run / "requests.jsonl").read_text().splitlines()]
    assert len(records) == 12 and all(r["ok"] for r in records)
    # the same prompt gives the same greedy text at any concurrency
    by_prompt = {}
    for r in records:
        by_prompt.setdefault(r["prompt_id"], set()).add(r["text"])
    assert all(len(texts) == 1 for texts in by_prompt.values())
    html = (run / "report.html").read_text()
    assert "p99_e2el_ms" in html and "data:image/png;base64," in html
    assert (run / "report.md").is_file() and (run / "plots" / "latency.png").stat().st_size > 1000

    # the integrate check reads this run against the targets in lifecycle.yaml
    from lifecycle.checks import run_checks

    check = lambda: {r.id: r for r in run_checks(root, "integrate", measure=False)}["integrate.serving_targets"]  # noqa: E731
    assert check().status == "todo"
    manifest = (root / "lifecycle.yaml").read_text()
    (root / "lifecycle.yaml").write_text(manifest + "integration:\n  latency_p95_ms: 600000\n  requests_per_s: 0.001\n")
    r = check()
    assert r.status == "pass" and run.name in r.message
    assert r.evidence["weights_sha256"] == meta["model"]["weights_sha256"]
    (root / "lifecycle.yaml").write_text(manifest + "integration:\n  latency_p95_ms: 0.001\n")
    r = check()
    assert r.status == "fail" and "no concurrency meets p95 <= 0.001 ms" in r.message


def test_bench_bounds_and_bad_flags(serve_t5, make_project, cli):
    root = make_project("summarization", model=serve_t5, name="p-bench2")
    res = cli("serve", "bench", "--concurrency", "0", cwd=root)
    assert res.returncode != 0 and "--concurrency" in res.stderr
    res = cli("serve", "bench", "--url", "ftp://x", cwd=root)
    assert res.returncode != 0 and "--url" in res.stderr
    res = cli("serve", "bench", "--url", "http://127.0.0.1:9", "--run", "x", cwd=root)
    assert res.returncode != 0
    res = cli("serve", "bench", "--url", "http://127.0.0.1:9", "--requests", "1", cwd=root)  # nothing listens there
    assert res.returncode == 1 and "cannot list the models" in res.stderr
