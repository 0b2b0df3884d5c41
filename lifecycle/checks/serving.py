"""INTEGRATE, measured: the serving benchmark meets the targets, a quantized model stays within the
quality tolerance. Both read run records (serve_bench and quantize runs), never free text."""

from __future__ import annotations

from lifecycle.checks.registry import failed, passed, register, todo


def _operating_points(run) -> list[dict]:
    results = ((run.meta.get("serve_bench") or {}).get("results")) or {}
    points = []
    for c, s in results.items():
        if isinstance(s, dict) and s.get("completed"):
            points.append({"concurrency": int(c), "p95_e2el_ms": s.get("p95_e2el_ms"),
                           "request_throughput": s.get("request_throughput"), "failed": s.get("failed", 0)})
    return sorted(points, key=lambda p: p["concurrency"])


@register("integrate.serving_targets", "integrate", "a serving benchmark meets the latency and throughput targets")
def serving_targets(ctx):
    integ = ctx.manifest.integration
    p95, rps = integ.latency_p95_ms, integ.requests_per_s
    if p95 is None and rps is None:
        return todo("no latency or throughput target set",
                    "set integration.latency_p95_ms and/or integration.requests_per_s in lifecycle.yaml")
    runs = ctx.runs("serve_bench")
    if not runs:
        return todo("no serving benchmark yet", "run `lifecycle serve bench` (add --run RUN_ID for the served run)")
    run = runs[-1]
    points = _operating_points(run)
    if not points:
        return failed(f"serve_bench run {run.id} has no completed requests", "run `lifecycle serve bench` again",
                      run=run.id)
    model = run.meta.get("model") or {}

    def meets(p):
        return (p95 is None or (p["p95_e2el_ms"] is not None and p["p95_e2el_ms"] <= p95)) and \
               (rps is None or (p["request_throughput"] or 0) >= rps) and not p["failed"]

    ok = [p for p in points if meets(p)]
    want = " and ".join(x for x in ((f"p95 <= {p95:g} ms" if p95 is not None else ""),
                                    (f">= {rps:g} req/s" if rps is not None else "")) if x)
    evidence = {"run": run.id, "model": model.get("name"), "served_run": model.get("run"),
                "weights_sha256": model.get("weights_sha256"), "points": points}
    if ok:
        best = max(ok, key=lambda p: p["request_throughput"] or 0)
        return passed(f"run {run.id}: at concurrency {best['concurrency']}, p95 {best['p95_e2el_ms']:.0f} ms and "
                      f"{best['request_throughput']:.2f} req/s ({want})", **evidence, operating_point=best)
    shown = ", ".join(f"c={p['concurrency']}: p95 {p['p95_e2el_ms']:.0f} ms, {p['request_throughput']:.2f} req/s"
                      + (f", {p['failed']} failed" if p["failed"] else "") for p in points)
    return failed(f"run {run.id}: no concurrency meets {want} ({shown})",
                  "raise --max-batch-size, use a smaller or quantized model (`lifecycle optimize quantize`), "
                  "faster hardware, or revise the targets in lifecycle.yaml", **evidence)


@register("integrate.quantization_quality", "integrate", "a quantized model stays within the quality tolerance")
def quantization_quality(ctx):
    runs = ctx.runs("quantize")
    if not runs:
        return passed("no quantized model: the evaluated precision is the one served")
    run = runs[-1]
    success = ctx.manifest.scope.success
    q = ((run.meta.get("quantize") or {}).get("quality") or {}).get(success.metric)
    if q is None:
        return failed(f"quantize run {run.id} did not score the success metric {success.metric}",
                      f"add {success.metric} to configs/eval.yaml metrics and run `lifecycle optimize quantize` again",
                      run=run.id)
    tolerance = ctx.manifest.integration.quantization_tolerance
    if tolerance is None:
        return todo(f"quantize run {run.id}: {success.metric} {q['delta']:+.4f} (95% CI [{q['ci'][0]:+.4f}, "
                    f"{q['ci'][1]:+.4f}]), but no tolerance is set",
                    "set integration.quantization_tolerance in lifecycle.yaml (the quality loss you accept)",
                    run=run.id, **q)
    # the worst case the interval allows, in the metric's bad direction
    worst = -q["ci"][0] if success.higher_is_better else q["ci"][1]
    evidence = {"run": run.id, "metric": success.metric, "tolerance": tolerance, "worst_loss": worst, **q}
    if worst <= tolerance:
        return passed(f"quantize run {run.id}: {success.metric} loses at most {max(worst, 0):.4f} "
                      f"(95% CI [{q['ci'][0]:+.4f}, {q['ci'][1]:+.4f}]) <= tolerance {tolerance:g}", **evidence)
    return failed(f"quantize run {run.id}: {success.metric} may lose up to {worst:.4f} (95% CI "
                  f"[{q['ci'][0]:+.4f}, {q['ci'][1]:+.4f}]), over the tolerance {tolerance:g}",
                  "serve the fp32 model, score more examples to narrow the interval (--limit), "
                  "or raise integration.quantization_tolerance with a reason", **evidence)
