"""ADAPT & ALIGN: evidence from eval and fine-tuning runs. Each check says "todo: no run yet"
until the runs it needs exist, and names the run it used."""

from __future__ import annotations

import json

from lifecycle.checks.evidence import best, matching_eval_runs, metric_of, model_of, same_model, shots_of
from lifecycle.checks.manual import attested
from lifecycle.checks.registry import failed, passed, register, todo
from lifecycle.evaluation import roles

_RUN_EVAL = "lifecycle eval run --shots 0,1,3"


def _stale_note(ctx, matching: list) -> str:
    """Why older eval runs do not count, when there are some."""
    other = len(ctx.runs("eval")) - len(matching)
    return (f" ({other} eval run{'s' if other != 1 else ''} on another eval set: different data, --limit or "
            "prompt wording)") if other > 0 else ""


def _headline(ctx) -> str:
    return ctx.manifest.scope.success.metric


def _project_decoding(ctx) -> str | None:
    """greedy / beam / sampling as configs/generation.yaml decodes now (None when it does not load)."""
    from lifecycle.errors import LifecycleError
    from lifecycle.project import Project

    try:
        settings = Project(ctx.root).generation_config()
    except (LifecycleError, OSError):
        return None
    return roles.decoding_of_settings(settings.resolved().model_dump(mode="json"))


def _not_used(runs, reason) -> dict[str, str]:
    """run id -> why a check did not count it (shown in the evidence, never silently dropped)."""
    return {r.id: why for r in runs if (why := reason(r))}


@register("adapt.baseline", "adapt", "a zero-shot baseline exists for the current eval config")
def baseline(ctx):
    """The greedy zero-shot run of the selected base model on the current eval set (one definition,
    lifecycle.evaluation.roles, shared with `lifecycle finetune`)."""
    runs, eval_key = matching_eval_runs(ctx)
    model = ctx.model_config.model
    zero = roles.baselines(runs, eval_key, lambda recorded: same_model(ctx, recorded, model))
    if not zero:
        skipped = _not_used(runs, lambda r: roles.why_not_baseline(r) or (
            None if same_model(ctx, model_of(r), model) else f"model {model_of(r)}, not {model}"))
        other = (f" ({len(runs)} eval runs on this eval set, none a greedy zero-shot run of {model})" if runs
                 else _stale_note(ctx, runs))
        return todo(f"no run yet: no zero-shot baseline{other}", "run `lifecycle eval run --shots 0`",
                    eval_key=eval_key, not_used=skipped)
    run = zero[-1]
    ev = metric_of(run, _headline(ctx))
    shown = ev.describe() if ev else f"run {run.id}"
    return passed(f"zero-shot baseline ({roles.describe(run)}): {shown}", run=run.id, eval_key=eval_key)


@register("adapt.icl_ladder", "adapt", "zero-, one- and few-shot prompts were compared")
def icl_ladder(ctx):
    """A rung counts only when its examples got the K asked (run.yaml `budget`): a "3-shot" run whose
    prompts lost shots to the token budget is named by what it was, and does not make a ladder."""
    from lifecycle.prompting.effective import k_label, used_full_k

    runs, eval_key = matching_eval_runs(ctx)
    model = ctx.model_config.model
    # rungs are prompts of the selected base model (sweep points vary decoding, not the prompt)
    prompting = [r for r in runs if roles.role_of(r) == "base" and not roles.is_sweep_point(r)
                 and same_model(ctx, model_of(r), model)]
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
    """Counts only runs of the model the project ships (scope.adaptation: prompting -> the selected
    base model; peft/full -> the fine-tuned or merged model); external predictions are listed, not
    counted, unless a person attested them (`eval run --predictions FILE --attest NOTE`)."""
    success = ctx.manifest.scope.success
    adaptation = ctx.manifest.scope.adaptation.value
    runs, eval_key = matching_eval_runs(ctx)
    model = ctx.model_config.model
    decoding = _project_decoding(ctx)

    def reason(r):
        why = roles.why_not_shipped(r, adaptation)
        if why is None and roles.is_sweep_point(r):
            why = "a sweep point: put its settings in configs/generation.yaml and run `lifecycle eval run`"
        if why is None and roles.role_of(r) == "base" and not same_model(ctx, model_of(r), model):
            why = f"model {model_of(r)}, not the selected {model}"
        if why is None and roles.role_of(r) == "base" and decoding and roles.decoding_of(r) not in (None, decoding):
            why = f"{roles.decoding_of(r)} decoding; configs/generation.yaml now decodes {decoding}"
        return why

    not_counted = _not_used(runs, reason)
    counted = [r for r in runs if r.id not in not_counted]
    evidence = [e for e in (metric_of(r, success.metric) for r in counted) if e is not None]
    op = ">=" if success.higher_is_better else "<="
    if not evidence:
        ships = "the selected base model" if adaptation == "prompting" else "the fine-tuned model"
        more = f" ({len(not_counted)} other run(s) not counted: see evidence)" if not_counted else ""
        hint = f"run `{_RUN_EVAL}`" if adaptation == "prompting" else "run `lifecycle finetune` (it evaluates the tuned model)"
        return todo(f"no run yet: no eval run of {ships} measures {success.metric} on the current eval set{more}",
                    hint, eval_key=eval_key, not_counted=not_counted)
    for e in evidence:  # the scope's direction wins over what a run recorded
        e.higher_is_better = success.higher_is_better
    top = best(evidence)
    facts = {"run": top.run.id, "role": roles.describe(top.run), "metric": success.metric, "value": top.value,
             "ci": list(top.ci) if top.ci else None, "target": success.target, "eval_key": eval_key,
             "not_counted": not_counted}
    shown = f"{top.describe()} ({roles.describe(top.run)})"
    if top.meets(success.target):
        return passed(f"{shown}: bound {top.bound:.4g} {op} {success.target}", **facts)
    if top.bound is None:
        return failed(f"{shown}: no confidence interval to compare with {success.target}",
                      "re-score with `lifecycle eval run --rescore RUN` to get intervals", **facts)
    return failed(f"best {shown}: bound {top.bound:.4g} is not {op} {success.target}",
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
        from lifecycle.evaluation.statistics.verdict import paired_verdict

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
    tuned = [e for e in (metric_of(r, metric) for r in runs if roles.role_of(r) in roles.ADAPTED) if e]
    model = ctx.model_config.model
    base = [e for e in (metric_of(r, metric) for r in runs if roles.role_of(r) == "base"
                        and same_model(ctx, model_of(r), model)) if e]
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


@register("adapt.train_eval_disjoint", "adapt", "the tuned model is evaluated on examples it did not train on")
def train_eval_disjoint(ctx):
    """Reads the newest complete fine-tuning run's recorded overlap (`lifecycle finetune` measures it
    by normalised input text, lifecycle.finetune.overlap); measures it for runs made before that."""
    from lifecycle.finetune.overlap import describe, project_overlap

    if ctx.manifest.scope.adaptation.value == "prompting":
        return passed("not required: scope.adaptation is prompting (no training data)")
    finetunes = ctx.runs("finetune")
    if not finetunes:
        return todo("no run yet: no complete fine-tuning run", "run `lifecycle finetune`")
    run = finetunes[-1]
    overlap = run.meta.get("overlap")
    if not isinstance(overlap, dict) or not isinstance(overlap.get("overlap"), int):
        train = ((run.meta.get("config") or {}).get("finetune") or {}).get("data", {}).get("train")
        if not train:
            return todo(f"run {run.id} records no training data path", "re-run `lifecycle finetune`", run=run.id)
        from lifecycle.project import Project

        overlap = project_overlap(Project(ctx.root), train)
    facts = {"run": run.id, **{k: overlap.get(k) for k in ("train", "eval", "train_n", "eval_n", "overlap", "eval_ids")}}
    if overlap["overlap"]:
        return failed(f"run {run.id}: {describe(overlap)}",
                      "train on data that excludes the eval set (configs/finetune.yaml data.train), or evaluate on "
                      "held-out data (configs/eval.yaml dataset.path)", **facts)
    return passed(f"run {run.id}: {describe(overlap)}", **facts)


@register("adapt.human_review", "adapt", "a person reviewed a sample of the outputs", "manual")
def human_review(ctx):
    return attested(ctx, "adapt.human_review",
                    "read a sample of predictions from the best run (predictions.jsonl / report.html)")
