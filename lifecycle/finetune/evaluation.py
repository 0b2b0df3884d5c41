"""After training: run the project's eval config on the tuned model and compare it, paired per
example, with the zero-shot baseline, so the adapt-stage check "fine-tuning beat the baseline"
has evidence.

The tuned model answers the same zero-shot prompts (built by the prompting package) through the
same generation engine; its predictions are scored by `lifecycle eval run --predictions`
machinery into an eval run that names the finetune run (`finetune_run`, `model.adapter`), which is
how lifecycle/checks/ tells tuned from prompting runs."""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text
from lifecycle.runs.store import RunStore

PREDICTIONS_FILE = "eval_predictions.jsonl"
COMPARISON_FILE = "comparison.json"


def _tuned_loaded(run, project):
    """The tuned model wrapped as the engine's LoadedModel."""
    from lifecycle.finetune.tuned import load_tuned
    from lifecycle.loading import LoadedModel, context_window, load_model_config, pick_device_dtype

    model_cfg = project.model_config()
    device, dtype = pick_device_dtype(model_cfg.device, "fp32")
    tuned = load_tuned(run, device=str(device))
    config = load_model_config(tuned.base_ref)
    return LoadedModel(tuned.model, tuned.tokenizer, config, str(tuned.weights), None, tuned.encoder_decoder,
                       device, dtype, context_window(config, tuned.tokenizer, model_cfg.max_context)), tuned


def generate_predictions(project, run, echo) -> Path:
    """Zero-shot predictions of the tuned model on the eval set, written into the finetune run."""
    from lifecycle.generation import Engine
    from lifecycle.generation.runner import prediction_record
    from lifecycle.prompting.project_inputs import load_prompt_inputs

    cfg = project.eval_config()
    inputs = load_prompt_inputs(project, data=project.path(cfg.dataset.path), limit=cfg.dataset.limit)
    loaded, tuned = _tuned_loaded(run, project)
    prompts = inputs.with_model(loaded).build(0)
    engine = Engine(loaded, baseline_settings(project), stop=inputs.cfg.stop)
    echo(f"evaluating the tuned model on {len(prompts)} examples ({cfg.dataset.path})")
    lines = [json.dumps(prediction_record(p, gen, p.id), ensure_ascii=False)
             for p, gen in zip(prompts, engine.generate(prompts))]
    out = run.path / PREDICTIONS_FILE
    atomic_write_text(out, "\n".join(lines) + "\n")
    return out


def baseline_settings(project):
    """configs/generation.yaml decoded greedily: the baseline is greedy (lifecycle.evaluation.roles),
    and the tuned model is compared with it like for like."""
    settings = project.generation_config()
    return settings if settings.preset == "greedy" else settings.with_preset("greedy")


def find_baseline(project, eval_key: str, base_model: str | None = None):
    """The newest zero-shot baseline on this eval set (lifecycle.evaluation.roles, the one the
    adapt.baseline check uses): of the tuned model's base model when it is known."""
    from lifecycle.evaluation.roles import baselines

    def matches(recorded: str | None) -> bool:
        if base_model is None or recorded is None or recorded == base_model:
            return True
        a, b = Path(recorded).expanduser(), project.path(base_model)
        return a.is_dir() and b.is_dir() and a.resolve() == b.resolve()

    runs = baselines(RunStore(project.runs_dir).list(kind="eval", status="complete"), eval_key, matches)
    return runs[-1] if runs else None


def compare_with_baseline(project, tuned_eval, baseline) -> dict:
    """Paired bootstrap + permutation test per metric (difference = tuned - baseline), through
    `lifecycle eval compare`'s own path: it also leaves a compare run with report.md/.html."""
    from lifecycle.evaluation.compare import CompareSettings, compare_runs

    cfg = project.eval_config()
    settings = CompareSettings(samples=cfg.bootstrap_samples, confidence=cfg.confidence, seed=cfg.seed)
    comparison = compare_runs(project, [baseline.id, tuned_eval.id], settings,
                              argv=["lifecycle", "eval", "compare", baseline.id, tuned_eval.id])
    success = project.manifest.scope.success
    out = {"baseline_run": baseline.id, "finetuned_run": tuned_eval.id, "n": comparison.n[tuned_eval.id],
           "compare_run": comparison.run.id if comparison.run else None,
           "success_metric": success.metric, "metrics": {}}
    for res in comparison.results[tuned_eval.id]:
        out["metrics"][res.metric] = {"baseline": res.a, "finetuned": res.b, "difference": res.diff,
                                      "ci": list(res.ci), "p_value": res.p_value, "method": res.method}
    m = out["metrics"].get(success.metric)
    if m:  # the verdict `eval compare` and adapt.finetune_beats_baseline give (lifecycle.evaluation.statistics.verdict)
        from lifecycle.evaluation.statistics.verdict import paired_verdict

        v = paired_verdict(m["difference"], m["ci"], m["p_value"], success.higher_is_better)
        out["finetune_beats_baseline"] = v.better
        out["significant"] = v.significant
        out["verdict"] = v.sentence("fine-tuning", "the zero-shot baseline")
    return out


def evaluate_finetune(project, run, echo) -> dict | None:
    """Eval run for the tuned model + paired comparison with the zero-shot baseline (run first if
    there is none yet). Results go into the finetune run (comparison.json, run.yaml `evaluation`)."""
    from lifecycle.evaluation.runner import EvalOptions, run_eval

    preds = generate_predictions(project, run, echo)
    model = {"id": str(run.meta.get("model", {}).get("id")), "adapter": str(run.path / run.meta["training"]["weights"]),
             "finetune_run": run.id, "method": run.meta.get("method")}
    outcome = run_eval(project, EvalOptions(predictions=preds, shots=[0], argv=["lifecycle", "finetune", "(eval)"],
                                            generation=baseline_settings(project), role="finetuned",
                                            extra_meta={"finetune_run": run.id, "model": model}))
    tuned_eval = outcome.runs[0].run
    echo(f"eval run of the tuned model: {tuned_eval.id}")
    baseline = find_baseline(project, outcome.eval_key, model["id"])
    if baseline is None:
        echo("no zero-shot baseline on this eval set yet: running it (lifecycle eval run --shots 0)")
        base_outcome = run_eval(project, EvalOptions(shots=[0], generation=baseline_settings(project),
                                                     argv=["lifecycle", "eval", "run", "--shots", "0"]))
        baseline = base_outcome.runs[0].run
    result = compare_with_baseline(project, tuned_eval, baseline)
    atomic_write_text(run.path / COMPARISON_FILE, json.dumps(result, indent=2) + "\n")
    run.update_meta(evaluation={"eval_run": tuned_eval.id, "baseline_run": baseline.id,
                                "compare_run": result.get("compare_run"),
                                "finetune_beats_baseline": result.get("finetune_beats_baseline"),
                                "significant": result.get("significant")})
    m = result["metrics"].get(result["success_metric"])
    if m:
        echo(f"{result['success_metric']}: tuned {m['finetuned']:.4g} vs zero-shot {m['baseline']:.4g} "
             f"(difference {m['difference']:+.4g}): {result['verdict']}")
    if result.get("compare_run"):
        echo(f"paired comparison report: runs/{result['compare_run']}/report.html")
    return result
