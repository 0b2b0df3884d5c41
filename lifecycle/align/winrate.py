"""`lifecycle align eval`: win-rate of the aligned model against its reference on held-out prompts.

Both models answer the same prompts with the same preset; a judge scores each answer (a reward
model run, or an oracle given as `module:function` taking (prompt, output) -> float); a win is 1,
a tie 0.5. The 95% interval is a percentile bootstrap over prompts."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from lifecycle.errors import LifecycleError
from lifecycle.reporting import to_stderr

KIND = "align_eval"


def load_oracle(spec: str) -> Callable[[str, str], float]:
    """`package.module:function` -> the function (prompt, output) -> score, higher is better."""
    if ":" not in spec:
        raise LifecycleError(f"oracle '{spec}' must be module:function", hint="e.g. --oracle my_project.judges:score")
    mod, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as err:
        raise LifecycleError(f"cannot import oracle '{spec}': {err}") from err
    if not callable(fn):
        raise LifecycleError(f"oracle '{spec}' is not callable")
    return fn


def win_rate(aligned_scores, reference_scores, *, samples: int = 1000, seed: int = 42) -> dict:
    a, r = np.asarray(aligned_scores, float), np.asarray(reference_scores, float)
    outcome = np.where(a > r, 1.0, np.where(a == r, 0.5, 0.0))
    n = len(outcome)
    rng = np.random.default_rng(seed)
    boots = outcome[rng.integers(0, n, size=(samples, n))].mean(axis=1) if n > 1 else outcome
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return {"value": float(outcome.mean()), "ci": [float(lo), float(hi)], "n": n,
            "wins": int((outcome == 1).sum()), "ties": int((outcome == 0.5).sum()), "losses": int((outcome == 0).sum())}


def _generate(loaded, settings, prompts: list[str], stop) -> list[str]:
    from lifecycle.generation.engine import Engine

    return [g.text for g in Engine(loaded, settings, stop=stop).generate(prompts)]


def evaluate_alignment(project, aligned_ref: str, *, oracle: str | None = None, reward_run: str | None = None,
                       data: Path | None = None, limit: int | None = None, config: Path | None = None,
                       argv=None, echo=to_stderr):
    from lifecycle.align.pairs import load_align_config
    from lifecycle.align.policy import load_policy
    from lifecycle.align.preferences import load_preferences
    from lifecycle.config.generation import GenerationSettings
    from lifecycle.hashing import file_sha256
    from lifecycle.runs.store import RunStore
    if bool(oracle) == bool(reward_run):
        raise LifecycleError("give one judge: --oracle module:function or --reward-run RUN")
    cfg = load_align_config(project, config).eval
    path = project.path(data or cfg.data)
    rows = load_preferences(path)
    prompts = list(dict.fromkeys(r["prompt"] for r in rows))[:limit]
    settings = GenerationSettings(preset=cfg.preset, seed=cfg.seed,
                                  **({"max_new_tokens": cfg.max_new_tokens} if cfg.max_new_tokens else {}))
    gen_file = project.path(project.manifest.adaptation.generation)
    if cfg.max_new_tokens is None and gen_file.is_file():
        settings = settings.model_copy(update={"max_new_tokens": project.generation_config().max_new_tokens})
    settings = settings.resolved()
    store = RunStore(project.runs_dir)
    aligned_run = store.get(aligned_ref)
    base_model = ((aligned_run.meta.get("config") or {}).get("model") or {}).get("model")
    aligned, _ = load_policy(project, run_ref=aligned_ref)
    reference, _ = load_policy(project, model=base_model)
    from lifecycle.prompting.project_inputs import load_prompt_config

    stop = load_prompt_config(project).stop  # the stop sequences `generate` and `align pairs` use
    ours, theirs = _generate(aligned, settings, prompts, stop), _generate(reference, settings, prompts, stop)
    if oracle:
        score = load_oracle(oracle)
        judge = {"kind": "oracle", "oracle": oracle}
        s_ours = [float(score(p, o)) for p, o in zip(prompts, ours)]
        s_ref = [float(score(p, o)) for p, o in zip(prompts, theirs)]
    else:
        from lifecycle.align.reward import RewardScorer

        scorer = RewardScorer.from_run(store.get(reward_run))
        judge = {"kind": "reward_model", "run": reward_run}
        s_ours, s_ref = scorer.score(prompts, ours), scorer.score(prompts, theirs)
    result = win_rate(s_ours, s_ref, samples=cfg.bootstrap_samples, seed=cfg.seed)
    with store.new_run(KIND, config={"eval": cfg.model_dump(mode="json"), "judge": judge,
                                     "generation": settings.model_dump(mode="json")},
                       model={"aligned_run": aligned_run.id, "reference": base_model},
                       dataset={"path": str(path), "sha256": file_sha256(path), "prompts": len(prompts)},
                       seed=cfg.seed, argv=argv, extra={"aligned_run": aligned_run.id}) as run:
        with run.prediction_writer() as w:
            for i, (p, a, b, sa, sb) in enumerate(zip(prompts, ours, theirs, s_ours, s_ref)):
                w.write({"id": str(i), "prompt": p, "aligned": a, "reference": b, "score_aligned": sa,
                         "score_reference": sb})
        run.write_metrics({"n": result["n"], "metrics": {"win_rate": {
            "value": result["value"], "ci": result["ci"], "n": result["n"], "higher_is_better": True,
            "aggregation": "mean (win 1, tie 0.5)"}}, "counts": {k: result[k] for k in ("wins", "ties", "losses")}})
        _report(run.path, result, judge, prompts, ours, theirs, s_ours, s_ref)
        run.finish("complete", win_rate=result)
    echo(f"win-rate {result['value']:.3f} (95% CI {result['ci'][0]:.3f}-{result['ci'][1]:.3f}, n={result['n']}; "
         f"{result['wins']} wins, {result['ties']} ties, {result['losses']} losses) -> {run.path}")
    return run, result


def _report(folder: Path, result: dict, judge: dict, prompts, ours, theirs, s_ours, s_ref) -> None:
    import html

    from lifecycle.config.yaml_io import atomic_write_text

    rows = "".join(f"<tr><td>{html.escape(p[:300])}</td><td>{html.escape(a)}</td><td>{sa:.3g}</td>"
                   f"<td>{html.escape(b)}</td><td>{sb:.3g}</td></tr>"
                   for p, a, b, sa, sb in list(zip(prompts, ours, theirs, s_ours, s_ref))[:50])
    page = (f"<!doctype html><meta charset=utf-8><title>win-rate</title><h1>Aligned vs reference</h1>"
            f"<p>win-rate <b>{result['value']:.3f}</b>, 95% bootstrap CI [{result['ci'][0]:.3f}, {result['ci'][1]:.3f}],"
            f" n={result['n']} ({result['wins']} wins, {result['ties']} ties, {result['losses']} losses); judge: "
            f"{html.escape(json.dumps(judge))}</p><p>mean score: aligned {np.mean(s_ours):.3f}, reference "
            f"{np.mean(s_ref):.3f}</p><table border=1><tr><th>prompt</th><th>aligned</th><th>score</th>"
            f"<th>reference</th><th>score</th></tr>{rows}</table>")
    atomic_write_text(folder / "report.html", page)
