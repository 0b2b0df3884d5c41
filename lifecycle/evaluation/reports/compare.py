"""report.md / report.html of a comparison run: the paired differences with intervals and p-values,
each run's metrics with intervals, and every shared example side by side, sorted by how much B lost
against A on the success metric (the biggest losses first), each with its prompt (collapsible)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.evaluation.reports import plots
from lifecycle.evaluation.reports.document import Doc
from lifecycle.evaluation.runner import SCORES_FILE
from lifecycle.prompting.effective import k_label

if TYPE_CHECKING:
    from lifecycle.evaluation.compare import Comparison

_CLIP = 400


def _label(run) -> str:
    shots = (run.meta.get("eval") or {}).get("shots")
    return f"{run.id[-7:]} ({k_label(run.meta.get('budget'), shots, short=True)})" if shots is not None \
        else run.id[-7:]


def build_compare_doc(c: "Comparison", run_id: str) -> Doc:
    doc = Doc(f"Comparison {run_id}")
    doc.p(f"A (baseline) = {c.baseline.id}; B = " + ", ".join(r.id for r in c.others) +
          ". Differences are B - A on the same examples: 95% paired-bootstrap interval and a two-sided "
          "paired permutation test; a verdict needs p < 0.05 (with few differing examples the permutation "
          "p-value cannot get that small).", "meta")
    for w in c.warnings:
        doc.p(f"warning: {w}", "bad")
    for other in c.others:
        res = c.results[other.id]
        doc.h2(f"{_label(c.baseline)} vs {_label(other)} ({c.n[other.id]} examples)")
        doc.table(["metric", "A", "B", "B - A", "CI low", "CI high", "p-value", "verdict"],
                  [[r.metric, r.a, r.b, r.diff, r.ci[0], r.ci[1], r.p_value, r.verdict] for r in res])
        scored = [r for r in res if r.higher_is_better is not None]
        if scored:
            doc.image(f"diff-{other.id[-7:]}.png",
                      plots.paired_differences([r.metric for r in scored], [(r.diff, *r.ci) for r in scored],
                                               f"B - A: {_label(other)} minus {_label(c.baseline)}"),
                      "paired differences with 95% intervals (right of 0: B higher)")

    runs = [c.baseline, *c.others]
    docs = [r.metrics() or {"metrics": {}} for r in runs]
    names = [n for n, m in docs[0]["metrics"].items()
             if m.get("higher_is_better") is not None and all(n in d["metrics"] for d in docs)][:6]
    if names:
        doc.h2("Metrics per run")
        doc.image("metrics.png", plots.metric_intervals([_label(r) for r in runs], {
            n: [(d["metrics"][n]["value"], *d["metrics"][n]["ci"]) for d in docs] for n in names}),
            "metric per run with 95% confidence intervals (from each run's metrics.json)")

    _examples_side_by_side(doc, runs)
    return doc


def _success(run) -> tuple[str | None, bool]:
    """The project's success metric as the run recorded it (its scope target), else (None, True)."""
    for t in run.meta.get("targets") or []:
        if isinstance(t, dict) and t.get("source") == "scope":
            return t.get("metric"), t.get("higher_is_better", True) is not False
    return None, True


def _scores(run) -> dict[str, dict]:
    import json

    path = run.path / SCORES_FILE
    if not path.is_file():
        return {}
    return {str(r["id"]): r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r}


def _examples_side_by_side(doc: Doc, runs: list) -> None:
    preds = [{str(p["id"]): p for p in r.read_predictions()} for r in runs]
    ids = [i for i in preds[0] if all(i in p for p in preds[1:])]
    metric, higher = _success(runs[0])
    scores = [_scores(r) for r in runs]
    have = metric is not None and all(all(metric in s.get(i, {}) for i in ids) for s in scores)
    if have and len(runs) > 1:
        sign = 1.0 if higher else -1.0
        delta = {i: sign * (float(scores[1][i][metric]) - float(scores[0][i][metric])) for i in ids}
        ids.sort(key=lambda i: (delta[i], i))  # B's biggest losses against A first
        doc.h2(f"Examples side by side ({len(ids)}, B's biggest losses on {metric} first)")
    else:
        doc.h2(f"Examples side by side ({len(ids)})")
    header = ["id", "reference", *[f"{_label(r)}" for r in runs]]
    rows = []
    for i in ids:
        ref = preds[0][i].get("references")
        ref = ref[0] if isinstance(ref, list) and ref else ref
        cells = []
        for k, p in enumerate(preds):
            text = str(p[i].get("prediction", ""))[:_CLIP]
            cells.append(f"{text} [{metric} {float(scores[k][i][metric]):.3g}]" if have else text)
        rows.append([i, str(ref)[:_CLIP], *cells])
    doc.table(header, rows)
    for i in ids:
        parts = []
        for r, p, sc in zip(runs, preds, scores):
            prompt = p[i].get("prompt")
            parts.append((f"{_label(r)} prompt", prompt if isinstance(prompt, str) else "(not recorded)"))
            parts.append((f"{_label(r)} prediction" + (f" ({metric} {float(sc[i][metric]):.4g})" if have else ""),
                          str(p[i].get("prediction", ""))))
        ref = preds[0][i].get("references")
        parts.append(("reference", "\n---\n".join(map(str, ref)) if isinstance(ref, list) else str(ref)))
        doc.details(i, parts)
