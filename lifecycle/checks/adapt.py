"""ADAPT & ALIGN: evidence from eval and fine-tuning runs. Each check says "todo: no run yet"
until the runs it needs exist, and names the run it used."""

from __future__ import annotations

import json

from lifecycle.checks.evidence import (
    best, is_finetuned, matching_eval_runs, metric_of, model_of, same_model, shots_of,
)
from lifecycle.checks.manual import attested
from lifecycle.checks.registry import failed, passed, register, todo

_RUN_EVAL = "lifecycle eval run --shots 0,1,3"


def _stale_note(ctx, matching: list) -> str:
    """Why older eval runs do not count, when there are some."""
    other = len(ctx.runs("eval")) - len(matching)
    return (f" ({other} eval run{'s' if other != 1 else ''} on another eval set: different data, --limit or "
            "prompt wording)") if other > 0 else ""


def _headline(ctx) -> str:
    return ctx.manifest.scope.success.metric


@register("adapt.baseline", "adapt", "a zero-shot baseline exists for the current eval config")
def baseline(ctx):
    runs, eval_key = matching_eval_runs(ctx)
    model = ctx.model_config.model
    zero = [r for r in runs if shots_of(r) == 0 and not is_finetuned(r) and same_model(ctx, model_of(r), model)]
    if not zero:
        other = (f" ({len(runs)} eval runs on this eval set, none zero-shot with {model})" if runs
                 else _stale_note(ctx, runs))
        return todo(f"no run yet: no zero-shot baseline{other}", "run `lifecycle eval run --shots 0`",
                    eval_key=eval_key)
    run = zero[-1]
    ev = metric_of(run, _headline(ctx))
    shown = ev.describe() if ev else f"run {run.id}"
    return passed(f"zero-shot baseline: {shown}", run=run.id, eval_key=eval_key)


@register("adapt.icl_ladder", "adapt", "zero-, one- and few-shot prompts were compared")
def icl_ladder(ctx):
    """A rung counts only when its examples got the K asked (run.yaml `budget`): a "3-shot" run whose
    prompts lost shots to the token budget is named by what it was, and does not make a ladder."""
    from lifecycle.prompting.effective import k_label, used_full_k

    runs, eval_key = matching_eval_runs(ctx)
    prompting = [r for r in runs if not is_finetuned(r)]
    by_shots: dict[int, str] = {}
    short: dict[int, tuple[str, str]] = {}  # K -> (run id, what it got) for rungs that did not use K
    for r in prompting:
        k = shots_of(r)
        if k is None:
            continue
        full = True if k == 0 else used_full_k(r.meta.get("budget"))
        if full:
            by_shots[k] = r.id  # latest wins
            short.pop(k, None)
        elif k not in by_shots:
            short[k] = (r.id, k_label(r.meta.get("budget"), k) if full is False else
                        f"K={k}: shots used not recorded (run made before honest-K records)")
    have = {"zero-shot": 0 in by_shots, "one-shot": 1 in by_shots, "few-shot": any(k >= 2 for k in by_shots)}
    missing = [name for name, ok in have.items() if not ok]
    evidence = {"runs": {str(k): v for k, v in sorted(by_shots.items())}, "eval_key": eval_key,
                "short_runs": {str(k): {"run": rid, "label": label} for k, (rid, label) in sorted(short.items())}}
    if not by_shots and not short:
        return todo("no run yet: no eval runs on the current eval set" + _stale_note(ctx, runs),
                    f"run `{_RUN_EVAL}`", **evidence)
    failing = [(k, rid, label) for k, (rid, label) in sorted(short.items())
               if (k == 1 and not have["one-shot"]) or (k >= 2 and not have["few-shot"])]
    if failing:
        text = "; ".join(f"run {rid}: {label}" for _, rid, label in failing)
        if any("not recorded" in label for _, _, label in failing):
            return todo(f"cannot tell what K the runs used: {text}", f"re-run `{_RUN_EVAL}`", **evidence)
        return failed(f"K-shot runs did not get K shots (the prompts do not fit the budget): {text}",
                      "see `lifecycle prompt budget --shots 0,1,3`: lower K, shorten the template, pick shots "
                      "with short inputs (shots.pool / selection: fixed), or a model with a longer context window",
                      **evidence)
    if missing:
        return todo(f"have shots {sorted(by_shots)}; missing {', '.join(missing)}", f"run `{_RUN_EVAL}`",
                    **evidence)
    metric = _headline(ctx)
    parts = []
    for k in sorted(by_shots):
        run = ctx.store.get(by_shots[k])
        ev = metric_of(run, metric)
        budget = run.meta.get("budget") if isinstance(run.meta.get("budget"), dict) else {}
        name = f"{k}-shot" + (f" ({budget['truncated']} of {budget.get('n')} truncated)" if budget.get("truncated") else "")
        parts.append(f"{name} {ev.value:.4g}" if ev else f"{name} (no {metric})")
    return passed(f"{metric}: " + ", ".join(parts), **evidence)


@register("adapt.target_met", "adapt", "the best run meets the target by its lower confidence bound")
def target_met(ctx):
    success = ctx.manifest.scope.success
    runs, eval_key = matching_eval_runs(ctx)
    evidence = [e for e in (metric_of(r, success.metric) for r in runs) if e is not None]
    op = ">=" if success.higher_is_better else "<="
    if not evidence:
        return todo(f"no run yet: no eval run measures {success.metric} on the current eval set",
                    f"run `{_RUN_EVAL}`", eval_key=eval_key)
    for e in evidence:  # the scope's direction wins over what a run recorded
        e.higher_is_better = success.higher_is_better
    top = best(evidence)
    facts = {"run": top.run.id, "metric": success.metric, "value": top.value,
             "ci": list(top.ci) if top.ci else None, "target": success.target, "eval_key": eval_key}
    if top.meets(success.target):
        return passed(f"{top.describe()}: bound {top.bound:.4g} {op} {success.target}", **facts)
    if top.bound is None:
        return failed(f"{top.describe()}: no confidence interval to compare with {success.target}",
                      "re-score with `lifecycle eval run --rescore RUN` to get intervals", **facts)
    return failed(f"best {top.describe()}: bound {top.bound:.4g} is not {op} {success.target}",
                  "try more shots, a better prompt, a bigger model or fine-tuning; or revisit the target",
                  **facts)


def _paired_comparison(ctx, finetunes, matching_ids: set[str], metric: str):
    """(finetune run, comparison entry) from the newest finetune run whose paired comparison with the
    baseline (comparison.json, written by `lifecycle finetune`) is on the current eval set."""
    for ft in reversed(finetunes):
        evaluation = ft.meta.get("evaluation") if isinstance(ft.meta.get("evaluation"), dict) else {}
        path = ft.path / "comparison.json"
        if evaluation.get("eval_run") not in matching_ids or not path.is_file():
            continue
        try:
            comp = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, RecursionError):  # bad bytes, bad JSON or hostile nesting: not evidence
            continue
        entry = (comp.get("metrics") or {}).get(metric) if isinstance(comp, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("ci"), list) and len(entry["ci"]) == 2:
            return ft, comp, entry
    return None


@register("adapt.finetune_beats_baseline", "adapt", "fine-tuning beat the prompting baseline")
def finetune_beats_baseline(ctx):
    scope = ctx.manifest.scope
    if scope.adaptation.value == "prompting":
        return passed("not required: scope.adaptation is prompting")
    metric, hib = scope.success.metric, scope.success.higher_is_better
    finetunes = ctx.runs("finetune")
    if not finetunes:
        return todo(f"no run yet: no complete fine-tuning run ({scope.adaptation.value} planned)",
                    "run `lifecycle finetune`")
    runs, eval_key = matching_eval_runs(ctx)
    paired = _paired_comparison(ctx, finetunes, {r.id for r in runs}, metric)
    tune_hint = "tune configs/finetune.yaml (learning rate, steps), add training data, or keep prompting"
    if paired is not None:
        from lifecycle.evaluation.verdict import paired_verdict

        ft, comp, m = paired
        lo, hi = m["ci"]
        # the same verdict `lifecycle finetune` printed and `eval compare` shows
        v = paired_verdict(m["difference"], (lo, hi), m.get("p_value"), hib)
        facts = {"finetune_run": ft.id, "finetuned_run": comp.get("finetuned_run"),
                 "baseline_run": comp.get("baseline_run"), "metric": metric, "difference": m["difference"],
                 "ci": [lo, hi], "p_value": m.get("p_value"), "eval_key": eval_key}
        p = f", p = {m['p_value']:.3g}" if isinstance(m.get("p_value"), (int, float)) else ""
        text = (f"{metric} {m['finetuned']:.4g} (run {comp.get('finetuned_run')}) vs zero-shot "
                f"{m['baseline']:.4g} (run {comp.get('baseline_run')}): difference {m['difference']:+.4g}, "
                f"paired 95% CI {lo:+.4g}..{hi:+.4g}{p}: " + v.conclusion("fine-tuning", "the baseline"))
        if v.better:
            return passed(text, **facts)
        point_better = m["difference"] > 0 if hib else m["difference"] < 0
        if point_better and not v.significant:
            return failed(text + " (not significant)", "evaluate on more examples (the real data) to tell", **facts)
        return failed(text, tune_hint, **facts)
    tuned = [e for e in (metric_of(r, metric) for r in runs if is_finetuned(r)) if e]
    base = [e for e in (metric_of(r, metric) for r in runs if not is_finetuned(r)) if e]
    if not tuned:
        return todo(f"no run yet: fine-tuning run {finetunes[-1].id} has not been evaluated on the current "
                    "eval set", "re-run `lifecycle finetune` (it evaluates the tuned model) after changing the "
                    "eval set", finetune_run=finetunes[-1].id)
    if not base:
        return todo("no run yet: no prompting baseline to compare with", "run `lifecycle eval run --shots 0`")
    for e in tuned + base:
        e.higher_is_better = hib
    t, b = best(tuned), best(base)
    facts = {"finetuned_run": t.run.id, "baseline_run": b.run.id, "metric": metric,
             "finetuned": t.value, "baseline": b.value, "eval_key": eval_key}
    text = f"{metric} {t.describe()} vs best prompting {b.value:.4g} (run {b.run.id}); unpaired"
    if t.bound is not None and (t.bound > b.value if hib else t.bound < b.value):
        return passed(text, **facts)
    return failed(text + ": its confidence bound does not clear the baseline", tune_hint, **facts)


@register("adapt.human_review", "adapt", "a person reviewed a sample of the outputs", "manual")
def human_review(ctx):
    return attested(ctx, "adapt.human_review",
                    "read a sample of predictions from the best run (predictions.jsonl / report.html)")
