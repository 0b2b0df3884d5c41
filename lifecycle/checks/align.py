"""ADAPT & ALIGN with human feedback: preference evidence and the aligned model's win-rate.

Both checks read `lifecycle.yaml`'s `alignment` section; with `method: null` the project has no
alignment step and they say so (todo). Each names the files and runs it used."""

from __future__ import annotations

from pathlib import Path

from lifecycle.checks.registry import Blocked, failed, passed, register, todo

ALIGN_CONFIG = "configs/align.yaml"
_COLLECT = "`lifecycle align pairs`, `lifecycle review`, then `lifecycle align data`"


def _method_todo(ctx):
    if ctx.manifest.alignment.method is None:
        return todo("no alignment step (lifecycle.yaml alignment.method: null)",
                    "set alignment.method: dpo (or ipo) when the project aligns with human feedback")
    return None


def _align_config(ctx):
    from lifecycle.config.align import AlignConfig
    from lifecycle.config.yaml_io import load_config
    from lifecycle.errors import LifecycleError

    path = ctx.path(ALIGN_CONFIG)
    if not path.is_file():
        return AlignConfig()
    try:
        return load_config(path, AlignConfig)
    except LifecycleError as err:
        raise Blocked(f"{ALIGN_CONFIG} does not validate: {err}", "run `lifecycle validate` and fix what it lists")


def _rows(path: Path) -> list[dict]:
    from lifecycle.align.preferences import load_preferences
    from lifecycle.errors import LifecycleError

    if not path.is_file():
        return []
    try:
        return load_preferences(path, min_rows=0)
    except LifecycleError as err:
        raise Blocked(str(err), f"fix the file, or rebuild it with {_COLLECT}")


@register("adapt.preferences_collected", "adapt", "enough preference pairs, and annotators agree")
def preferences_collected(ctx):
    """Pairs in the preference data (train + held-out) against alignment.min_pairs; when two annotators
    judged the same pairs, Cohen's kappa's 95% lower bound against alignment.min_kappa."""
    from lifecycle.align.judgments import agreement, read_judgments
    from lifecycle.errors import LifecycleError

    if (skip := _method_todo(ctx)) is not None:
        return skip
    spec = ctx.manifest.alignment
    cfg = _align_config(ctx)
    out = ctx.path(cfg.preferences.out_dir)
    files = {name: out / f"{name}.jsonl" for name in ("train", "heldout")}
    rows = {name: _rows(p) for name, p in files.items()}
    n = sum(len(r) for r in rows.values())
    pairs_runs = sorted({str(r["pair_id"]).split("/")[0] for rs in rows.values() for r in rs
                         if isinstance(r.get("pair_id"), str) and "/" in r["pair_id"]})
    facts = {"files": {k: ctx.shown(p) for k, p in files.items() if p.is_file()},
             "pairs": {k: len(v) for k, v in rows.items()}, "min_pairs": spec.min_pairs, "pairs_runs": pairs_runs}
    if n == 0:
        return todo(f"no preference pairs yet in {ctx.shown(out)}/train.jsonl", f"collect them: {_COLLECT}", **facts)
    made = f" from pairs run {', '.join(pairs_runs)}" if pairs_runs else ""
    if n < spec.min_pairs:
        return failed(f"{n} preference pairs ({len(rows['train'])} train, {len(rows['heldout'])} held out){made}; "
                      f"alignment.min_pairs is {spec.min_pairs}", f"review more pairs: {_COLLECT}", **facts)
    judgments_path = ctx.path(cfg.preferences.judgments)
    try:
        judgments = read_judgments(judgments_path, strict_duplicates=False)
    except LifecycleError as err:
        raise Blocked(str(err), "fix the judgments file (`lifecycle review` appends to it)")
    overlaps = [a for a in agreement(judgments, with_ci=True) if a["n"] >= 2]
    facts.update(judgments=ctx.shown(judgments_path), agreement=overlaps, min_kappa=spec.min_kappa)
    shown = f"{n} preference pairs ({len(rows['train'])} train, {len(rows['heldout'])} held out){made}"
    if not overlaps:
        return passed(f"{shown}; no two annotators judged the same pairs (no agreement to measure)", **facts)
    low = [a for a in overlaps if a["kappa_ci"][0] < spec.min_kappa]
    text = "; ".join(f"{' vs '.join(a['annotators'])}: kappa {a['kappa']:.3f} (95% CI {a['kappa_ci'][0]:.3f}-"
                     f"{a['kappa_ci'][1]:.3f}, n={a['n']})" for a in overlaps)
    if low:
        return failed(f"{shown}; annotators disagree: {text}; lower bound below alignment.min_kappa {spec.min_kappa}",
                      "sharpen the review guidelines, discuss the disagreements, and review an overlap again", **facts)
    return passed(f"{shown}; {text}", **facts)


def _judge_matches(run, judge: str) -> bool:
    kind = ((run.meta.get("config") or {}).get("judge") or {}).get("kind")
    return {"reward_model": kind == "reward_model", "judge": kind in ("oracle", "judge"),
            "people": kind == "people"}[judge]


def _calibrated(ctx, min_kappa: float):
    """The latest judge calibration run, and whether its kappa lower bound clears min_kappa."""
    from lifecycle.checks.evidence import metric_of

    runs = ctx.runs("judge_calibration")
    if not runs:
        return None, None
    ev = metric_of(runs[-1], "kappa")
    return runs[-1], ev


def _task_metric_runs(ctx, align_run) -> list:
    """Eval runs on the current eval set whose model lives in the align run's folder
    (configs/model.yaml `model: runs/<id>/model`, then `lifecycle eval run`)."""
    from lifecycle.checks.evidence import matching_eval_runs, model_of

    runs, _ = matching_eval_runs(ctx)
    folder = align_run.path.resolve()
    out = []
    for r in runs:
        ref = model_of(r)
        if ref and (Path(ref) if Path(ref).is_absolute() else ctx.path(ref)).resolve().is_relative_to(folder):
            out.append(r)
    return out


@register("adapt.aligned", "adapt", "the aligned model is preferred and keeps the task metric")
def aligned(ctx):
    """The latest `align eval` run judged by alignment.judge: win-rate 95% lower bound above 0.5; and an
    eval run of the aligned model whose task metric meets the scope target by its bound. A judge
    counts only after `lifecycle judge calibrate` put its kappa lower bound at alignment.min_kappa."""
    from lifecycle.checks.evidence import metric_of

    if (skip := _method_todo(ctx)) is not None:
        return skip
    spec = ctx.manifest.alignment
    evals = [r for r in ctx.runs("align_eval") if _judge_matches(r, spec.judge)]
    facts = {"judge": spec.judge, "not_matching": [r.id for r in ctx.runs("align_eval") if r not in evals]}
    if spec.judge == "people":
        return todo("alignment.judge: people, but `lifecycle align eval` records reward-model and judge verdicts only",
                    "set alignment.judge: reward_model (or judge, once calibrated), or review the aligned-vs-reference "
                    "pairs with `lifecycle review` and record the result", **facts)
    if not evals:
        judge = "--reward-run RUN" if spec.judge == "reward_model" else "--oracle module:function"
        return todo(f"no run yet: no align eval run judged by a {spec.judge.replace('_', ' ')}",
                    f"run `lifecycle align eval ALIGN_RUN {judge}`", **facts)
    run = evals[-1]
    ev = metric_of(run, "win_rate")
    facts["run"] = run.id
    if ev is None or ev.ci is None:
        return failed(f"align eval run {run.id} has no win-rate with a CI", "re-run `lifecycle align eval`", **facts)
    if spec.judge == "judge":
        cal, kappa = _calibrated(ctx, spec.min_kappa)
        if cal is None or kappa is None or kappa.ci is None:
            return todo(f"align eval run {run.id} was judged by a judge that no `lifecycle judge calibrate` run measured",
                        "run `lifecycle judge calibrate` against people's judgments first", **facts)
        facts.update(calibration_run=cal.id, kappa=kappa.value, kappa_ci=list(kappa.ci))
        if kappa.ci[0] < spec.min_kappa:
            return failed(f"the judge may not gate: kappa {kappa.value:.3f} (95% CI {kappa.ci[0]:.3f}-{kappa.ci[1]:.3f}, "
                          f"run {cal.id}) has its lower bound below alignment.min_kappa {spec.min_kappa}",
                          "improve the rubric or judge model and calibrate again, or judge with a reward model", **facts)
    counts = (run.metrics() or {}).get("counts") or {}
    shown = (f"win-rate {ev.value:.3f} (95% CI {ev.ci[0]:.3f}-{ev.ci[1]:.3f}, n={run.metrics().get('n')}; "
             f"{counts.get('wins', '?')} wins, {counts.get('ties', '?')} ties, {counts.get('losses', '?')} losses) "
             f"in align eval run {run.id}")
    facts.update(win_rate=ev.value, ci=list(ev.ci), aligned_run=run.meta.get("aligned_run"))
    if ev.ci[0] <= 0.5:
        return failed(f"{shown}: the lower bound is not above 0.5", "more or better preference data, more DPO steps, "
                      "or a different beta; then `lifecycle align eval` again", **facts)
    aligned_id = run.meta.get("aligned_run")
    try:
        align_run = ctx.store.get(str(aligned_id))
    except Exception:  # the aligned run was removed: its task metric cannot be found
        return failed(f"{shown}, but its align run {aligned_id} is gone", "re-run `lifecycle align dpo`", **facts)
    success = ctx.manifest.scope.success
    metric_runs = [(r, e) for r in _task_metric_runs(ctx, align_run) if (e := metric_of(r, success.metric))]
    if not metric_runs:
        return todo(f"{shown}; no eval run of the aligned model ({align_run.id}) measures {success.metric} yet",
                    f"set configs/model.yaml model: runs/{align_run.id}/model and run `lifecycle eval run` "
                    "(the alignment tax: `lifecycle eval compare BASE_RUN THAT_RUN`)", **facts)
    metric_run, task = metric_runs[-1]
    task.higher_is_better = success.higher_is_better
    facts.update(task_run=metric_run.id, task_value=task.value, target=success.target)
    op = ">=" if success.higher_is_better else "<="
    if not task.meets(success.target):
        return failed(f"{shown}; but {task.describe()} (eval run {metric_run.id}) is not {op} the target "
                      f"{success.target} by its bound", "the alignment cost task quality: lower beta's pull away "
                      "from the reference (raise beta), fewer steps, or mix task data into the preferences", **facts)
    return passed(f"{shown}; {task.describe()} (eval run {metric_run.id}) {op} target {success.target}", **facts)
