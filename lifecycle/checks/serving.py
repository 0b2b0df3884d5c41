"""INTEGRATE, measured: the serving benchmark meets the targets, the served weights are the evaluated
ones (content hash), a quantized model stays within the quality tolerance. All read run records
(eval, serve_bench and quantize runs), never free text."""

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


def _hash_cache(ctx):
    return (lambda key: ctx.cache_get("integrate.served_artifact", key),
            lambda key, value: ctx.cache_put("integrate.served_artifact", key, value))


def evaluated_run(ctx):
    """The eval run the adapt evidence rests on (adapt.target_met's best run), or None."""
    from lifecycle.checks.adapt import target_met

    run_id = (target_met(ctx).evidence or {}).get("run")
    return ctx.store.get(run_id) if run_id else None


def _served(bench) -> dict:
    model = bench.meta.get("model")
    return model if isinstance(model, dict) else {}


def artifact_match(ctx):
    """(outcome facts) comparing the latest bench run's served weights with the evaluated run's.
    Returns None when there is no evaluated run or no bench run (the caller says which is missing)."""
    from lifecycle.serve.identity import evaluated_artifact

    ev = evaluated_run(ctx)
    benches = ctx.runs("serve_bench")
    if ev is None or not benches:
        return None, ev, benches[-1] if benches else None
    bench = benches[-1]
    served = _served(bench)
    evaluated = evaluated_artifact(ev, ctx.store, root=ctx.root, cache=_hash_cache(ctx))
    facts = {"bench_run": bench.id, "served_name": served.get("name"), "served_run": served.get("run"),
             "served_run_kind": served.get("run_kind"), "served_sha256": served.get("weights_sha256"),
             "eval_run": ev.id, "evaluated_sha256": evaluated["sha256"], "evaluated_how": evaluated["how"]}
    source_sha = None
    if served.get("run_kind") == "quantize" and served.get("run"):
        from lifecycle.serve.identity import _get

        q = _get(ctx.store, served["run"])
        source_sha = ((q.meta.get("quantize") or {}).get("source_weights_sha256")) if q else None
        facts["served_source_sha256"] = source_sha
    same = evaluated["sha256"] is not None and evaluated["sha256"] == served.get("weights_sha256")
    of_source = evaluated["sha256"] is not None and source_sha == evaluated["sha256"]
    facts["match"] = "same" if same else "quantized_from" if of_source else "differs"
    return facts, ev, bench


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "none"


@register("integrate.served_artifact", "integrate", "the served model is the evaluated one (content hash)")
def served_artifact(ctx):
    facts, ev, bench = artifact_match(ctx)
    if ev is None:
        return todo("no eval run on the current eval set: nothing says which model was evaluated",
                    "run `lifecycle eval run` (or `lifecycle finetune`, which evaluates the tuned model)")
    if bench is None:
        return todo(f"no serving benchmark yet: nothing says which model is served (evaluated: run {ev.id})",
                    "run `lifecycle serve bench` (add --run RUN_ID to serve a fine-tuned or quantized run)")
    what = (f"bench run {facts['bench_run']} served {facts['served_name']}"
            + (f" (run {facts['served_run']})" if facts["served_run"] else ""))
    if facts["served_sha256"] is None:
        return failed(f"{what} with no content hash (no local weight files), so it cannot be matched with eval run "
                      f"{ev.id}", "serve a local folder or a cached hub model, then `lifecycle serve bench` again",
                      **facts)
    if facts["evaluated_sha256"] is None:
        return failed(f"eval run {ev.id}: {facts['evaluated_how']}; its weights cannot be hashed, so the served model "
                      f"({_short(facts['served_sha256'])}) cannot be shown to be it",
                      "evaluate the model you serve (`lifecycle eval run`), on this machine", **facts)
    if facts["match"] == "same":
        return passed(f"{what}: weights sha256 {_short(facts['served_sha256'])}, the same as eval run {ev.id} "
                      f"({facts['evaluated_how']})", **facts)
    if facts["match"] == "quantized_from":
        return passed(f"{what}: int8 of weights {_short(facts['evaluated_sha256'])}, the model of eval run {ev.id}; "
                      "its quality cost is integrate.quantization_quality's", **facts)
    return failed(f"{what}: weights sha256 {_short(facts['served_sha256'])}, but eval run {ev.id} scored "
                  f"{_short(facts['evaluated_sha256'])} ({facts['evaluated_how']})",
                  "bench the evaluated model (`lifecycle serve bench --run RUN_ID` for a fine-tune), or evaluate "
                  "the served one, then check again", **facts)


@register("integrate.quantization_quality", "integrate", "a quantized model stays within the quality tolerance")
def quantization_quality(ctx):
    runs = ctx.runs("quantize")
    # without a bench run nothing says what is served: the eval evidence is not read at all then
    facts, ev, bench = artifact_match(ctx) if ctx.runs("serve_bench") else (None, None, None)
    served = _served(bench) if bench is not None else {}
    if served.get("run_kind") == "quantize":
        run = next((r for r in runs if r.id == served.get("run")), None)
        if run is None:
            return failed(f"bench run {bench.id} served quantize run {served.get('run')}, which is not a complete "
                          "run here", "quantize again with `lifecycle optimize quantize`", bench_run=bench.id)
        return _measured(ctx, run, bench_run=bench.id)
    if bench is not None and facts is not None and facts["match"] == "same":
        # the served weights are, by content hash, the evaluated ones: no precision change to measure
        return passed(f"not applicable: bench run {bench.id} served the evaluated weights "
                      f"({_short(facts['served_sha256'])}, eval run {ev.id}) unquantized"
                      + (f"; quantize run {runs[-1].id} is not served" if runs else ""),
                      applicable=False, bench_run=bench.id, eval_run=ev.id, served_sha256=facts["served_sha256"])
    if runs and bench is None:
        return _measured(ctx, runs[-1])
    if bench is not None:
        return todo(f"bench run {bench.id} served {served.get('name')} (not quantized), but integrate.served_artifact "
                    "does not show it is the evaluated model, so nothing tells its precision is the evaluated one",
                    "make integrate.served_artifact pass (bench the evaluated model)", bench_run=bench.id)
    return todo("nothing measured: no quantize run, and no serving benchmark says which model (and precision) is "
                "served", "run `lifecycle serve bench` for the evaluated model, or `lifecycle optimize quantize` "
                "to measure an int8 model's quality cost")


def _measured(ctx, run, **extra):
    success = ctx.manifest.scope.success
    q = ((run.meta.get("quantize") or {}).get("quality") or {}).get(success.metric)
    if q is None:
        return failed(f"quantize run {run.id} did not score the success metric {success.metric}",
                      f"add {success.metric} to configs/eval.yaml metrics and run `lifecycle optimize quantize` again",
                      run=run.id, **extra)
    n = (run.meta.get("quantize") or {}).get("n")
    tolerance = ctx.manifest.integration.quantization_tolerance
    if tolerance is None:
        return todo(f"quantize run {run.id}: {success.metric} {q['delta']:+.4f} (95% CI [{q['ci'][0]:+.4f}, "
                    f"{q['ci'][1]:+.4f}]), but no tolerance is set",
                    "set integration.quantization_tolerance in lifecycle.yaml (the quality loss you accept)",
                    run=run.id, **q, **extra)
    # the worst case the interval allows, in the metric's bad direction
    worst = -q["ci"][0] if success.higher_is_better else q["ci"][1]
    evidence = {"run": run.id, "metric": success.metric, "tolerance": tolerance, "worst_loss": worst,
                "applicable": True, **q, **extra}
    eval_runs = (run.meta.get("quantize") or {}).get("eval_runs") or {}
    on = f" (eval runs {eval_runs.get('fp32')} vs {eval_runs.get('int8')}" + (f", n={n})" if n else ")") if eval_runs else ""
    if worst <= tolerance:
        return passed(f"quantize run {run.id}: {success.metric} loses at most {max(worst, 0):.4f} "
                      f"(95% CI [{q['ci'][0]:+.4f}, {q['ci'][1]:+.4f}]){on} <= tolerance {tolerance:g}", **evidence)
    return failed(f"quantize run {run.id}: {success.metric} may lose up to {worst:.4f} (95% CI "
                  f"[{q['ci'][0]:+.4f}, {q['ci'][1]:+.4f}]){on}, over the tolerance {tolerance:g}",
                  "serve the fp32 model, score more examples to narrow the interval (--limit), "
                  "or raise integration.quantization_tolerance with a reason", **evidence)
