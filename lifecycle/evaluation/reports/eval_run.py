"""The report of an eval run (report.md + report.html + plots/): what ran (effective K, truncation),
metrics with intervals, targets (also drawn on the plots), the shots ladder when the command ran
several, labels for classification, length distributions, and every example, worst first by the
project's success metric, each with its prompt (collapsible)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.evaluation.metrics.registry import METRICS
from lifecycle.evaluation.metrics.scorers import label_report
from lifecycle.evaluation.reports import plots
from lifecycle.evaluation.reports.document import Doc
from lifecycle.normalize import LABEL_NORMALIZATION
from lifecycle.prompting.effective import k_label

if TYPE_CHECKING:
    from lifecycle.evaluation.runner import ScoredRun
    from lifecycle.evaluation.statistics.targets import TargetResult

_MAX_TEXT = 600  # table cells; the collapsible examples show whole texts


def run_label(s: "ScoredRun") -> str:
    """A plot label by effective K: "K=3" only when every example got 3 shots."""
    return k_label(s.run.meta.get("budget"), s.shots, short=True) if s.shots is not None else s.run.id[-7:]


def _scored_metrics(doc: dict) -> list[str]:
    return [n for n, m in doc["metrics"].items() if m["higher_is_better"] is not None]


def metrics_table_rows(doc: dict) -> list[list[object]]:
    rows = []
    for name, m in doc["metrics"].items():
        info = METRICS.get(name)
        direction = {True: "higher", False: "lower", None: "-"}[m["higher_is_better"]]
        rows.append([name, float(m["value"]), float(m["ci"][0]), float(m["ci"][1]), m["n"], direction,
                     m["aggregation"], info.description if info else ""])
    return rows


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + " ..."


def build_eval_doc(s: "ScoredRun", siblings: list["ScoredRun"], targets: list["TargetResult"]) -> Doc:
    meta = s.run.meta
    doc = Doc(f"Eval run {s.run.id}")
    ds = meta.get("dataset") or {}
    model = (meta.get("model") or {}).get("id") or "(predictions file)"
    budget = meta.get("budget") if isinstance(meta.get("budget"), dict) else {}
    doc.p(f"model: {model} | shots: {k_label(budget, s.shots)} | examples: {s.doc['n']} | "
          f"truncated inputs: {budget.get('truncated', 'not recorded')} | "
          f"eval set: {ds.get('path')} (sha256 {str(ds.get('sha256', ''))[:12]}) | "
          f"eval key: {(meta.get('eval') or {}).get('eval_key')} | source: {(meta.get('eval') or {}).get('source')}",
          "meta")
    for warning in _budget_warnings(budget, s.doc["n"]):
        doc.p(warning, "bad")

    doc.h2("Metrics")
    doc.table(["metric", "value", "CI low", "CI high", "n", "better", "aggregation", "what"], metrics_table_rows(s.doc))
    doc.p(f"{s.doc['confidence']:.0%} percentile-bootstrap intervals, {s.doc['bootstrap_samples']} resamples, "
          f"seed {s.doc['seed']}; corpus metrics are recomputed on every resample.")

    if any(n in s.doc["metrics"] for n in ("accuracy", "macro_f1", "off_label_rate")):
        _labels_section(doc, s)

    if targets:
        doc.h2("Targets")
        doc.p("A target is met when the confidence bound (not the mean) clears it; checked on the best run of "
              "this command.")
        doc.table(["metric", "target", "source", "best run", "value", "bound", "status"],
                  [[t.target.metric, t.target.value, t.target.source, t.run_id or "-", t.value, t.bound, t.met]
                   for t in targets])

    main = _scored_metrics(s.doc)[:6]
    if len(siblings) > 1:
        doc.h2("All runs of this command")
        labels = [run_label(x) for x in siblings]
        header = ["run", "shots", *main]
        rows = [[x.run.id, k_label(x.run.meta.get("budget"), x.shots),
                 *[f"{x.doc['metrics'][n]['value']:.4g} [{x.doc['metrics'][n]['ci'][0]:.4g}, "
                   f"{x.doc['metrics'][n]['ci'][1]:.4g}]" for n in main]] for x in siblings]
        doc.table(header, rows)
    else:
        labels = [run_label(s)]
    runs_for_plot = siblings if len(siblings) > 1 else [s]
    goals = _target_values(targets)
    if main:
        doc.image("metrics.png", plots.metric_intervals(labels, {
            n: [(x.doc["metrics"][n]["value"], *x.doc["metrics"][n]["ci"]) for x in runs_for_plot] for n in main},
            targets=goals),
            "metric per run with 95% confidence intervals" + (" (dashed: target)" if goals else ""))
    ladder = [x for x in siblings if x.shots is not None]
    if len({x.shots for x in ladder}) > 1 and main:
        ladder = sorted(ladder, key=lambda x: x.shots)
        doc.image("shots.png", plots.metric_vs_shots([x.shots for x in ladder], {
            n: [(x.doc["metrics"][n]["value"], *x.doc["metrics"][n]["ci"]) for x in ladder] for n in main[:4]},
            tick_labels=[run_label(x) for x in ladder], targets=goals),
            "metric against number of shots (tick: K asked, with the mean K used when examples got fewer)"
            + ("; dashed: target" if goals else ""))

    pred_len = [len(p.split()) for p in s.aligned.predictions]
    ref_len = [len(r[0].split()) for r in s.aligned.references]
    doc.h2("Lengths")
    doc.image("lengths.png", plots.length_histograms(pred_len, ref_len),
              "prediction and reference length distributions (words)")

    _examples_section(doc, s, targets, main)
    return doc


def _budget_warnings(budget: dict, n: int) -> list[str]:
    """Say it loudly when examples got fewer shots than asked, or had their input cut."""
    out = []
    k, full = budget.get("k_asked"), budget.get("full_k")
    if isinstance(k, int) and k > 0 and isinstance(full, int) and full < budget.get("n", n):
        out.append(f"warning: K={k} was asked but only {full} of {budget.get('n', n)} examples got {k} shots "
                   f"(mean {budget.get('k_mean_used')} used): this is not a {k}-shot result")
    cut = budget.get("truncated")
    if isinstance(cut, int) and cut > 0:
        out.append(f"warning: {cut} of {budget.get('n', n)} inputs were truncated to fit the token budget "
                   "(see 'cut' in the examples)")
    return out


def _target_values(targets: list["TargetResult"]) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in targets:  # the scope's target first (project_targets puts it first)
        out.setdefault(t.target.metric, float(t.target.value))
    return out


def _success_metric(s: "ScoredRun", targets: list["TargetResult"], main: list[str]) -> tuple[str | None, bool]:
    """(metric the examples are sorted by, higher is better): the project's success metric (the
    scope target), else the first scored metric."""
    for t in targets:
        if t.target.source == "scope" and t.target.metric in s.scores:
            return t.target.metric, bool(t.target.higher_is_better)
    for name in main:
        if name in s.scores:
            return name, bool(s.doc["metrics"][name]["higher_is_better"])
    return None, True


def _examples_section(doc: Doc, s: "ScoredRun", targets: list["TargetResult"], main: list[str]) -> None:
    key, higher = _success_metric(s, targets, main)
    n = len(s.aligned.ids)
    order = list(range(n))
    if key:
        per = [float(v) for v in s.scores[key].per_example]
        order.sort(key=lambda i: (per[i] if higher else -per[i], s.aligned.ids[i]))  # worst first
    doc.h2(f"Examples ({n}, worst first by {key})" if key else f"Examples ({n})")
    scope = next((t for t in targets if t.target.source == "scope"), None)
    why = ("the project's success metric" if scope is not None and scope.target.metric == key
           else "the first metric (the success metric was not computed)")
    doc.p(f"All {n} examples, sorted by {key}, {why}, worst first; the table clips long texts and each "
          "example below opens to its whole prompt, prediction and references." if key else
          f"All {n} examples; each opens to its whole prompt, prediction and references.")
    rows = []
    for i in order:
        rec = s.aligned.records[i] if i < len(s.aligned.records) else {}
        row = [s.aligned.ids[i]]
        if key:
            row.append(float(s.scores[key].per_example[i]))
        row += [_clip(s.aligned.predictions[i]), _clip(s.aligned.references[i][0]), _shots_cell(rec),
                int(rec.get("truncated_tokens") or 0) if rec.get("truncated") else 0]
        rows.append(row)
    doc.table(["id", *([key] if key else []), "prediction", "reference", "shots", "cut tokens"], rows)
    for i in order:
        rec = s.aligned.records[i] if i < len(s.aligned.records) else {}
        score = f" | {key} {float(s.scores[key].per_example[i]):.4g}" if key else ""
        prompt = rec.get("prompt")
        parts = [("prompt", prompt if isinstance(prompt, str) else "(not recorded: external predictions)"),
                 ("prediction", s.aligned.predictions[i]),
                 *[(f"reference {j + 1}" if len(s.aligned.references[i]) > 1 else "reference", r)
                   for j, r in enumerate(s.aligned.references[i])]]
        extra = [m for m in main if m != key and m in s.scores
                 and s.doc["metrics"][m]["aggregation"] == "mean"][:3]  # a corpus metric has no per-example value
        if extra:
            parts.append(("other metrics", ", ".join(f"{m} {float(s.scores[m].per_example[i]):.4g}" for m in extra)))
        doc.details(f"{s.aligned.ids[i]}{score} | shots {_shots_cell(rec)}"
                    + (f" | input cut by {rec.get('truncated_tokens')} tokens" if rec.get("truncated") else ""), parts)


def _shots_cell(rec: dict) -> str:
    used, asked = rec.get("shots_used"), rec.get("shots_requested")
    if used is None:
        return "-"
    return f"{used} of {asked}" if isinstance(asked, int) and asked != used else str(used)


def _labels_section(doc: Doc, s: "ScoredRun") -> None:
    """Classification: per-label precision / recall and the confusion matrix, on normalised answers."""
    ev = s.run.meta.get("eval") or {}
    declared = ev.get("labels")
    rep = label_report(s.aligned.predictions, s.aligned.references, labels=declared)
    norm = s.doc.get("label_normalization") or {}
    doc.h2("Labels")
    doc.p(f"labels: {', '.join(rep.labels[:len(rep.per_label)])} "
          f"({'declared' if declared else 'not declared: the labels seen in references and answers'}); "
          f"answers normalised before scoring: {LABEL_NORMALIZATION}"
          + (f"; normalisation changed {norm['answers_changed']} of {norm['n']} answers" if norm else "")
          + f"; off-label answers: {rep.off_label} of {len(s.aligned.predictions)}")
    doc.table(["label", "precision", "recall", "F1", "support", "predicted"],
              [[d["label"], d["precision"], d["recall"], d["f1"], d["support"], d["predicted"]] for d in rep.per_label])
    doc.p("Confusion matrix: rows are the true label, columns the (normalised) answer.")
    doc.table(["true \\ answer", *rep.labels],
              [[lab, *row] for lab, row in zip(rep.labels, rep.matrix)])
    if rep.matrix:
        doc.image("confusion.png", plots.heatmap(list(rep.labels[:len(rep.matrix)]), list(rep.labels),
                                                 [[float(v) for v in row] for row in rep.matrix],
                                                 "confusion matrix (rows: true label, columns: answer)"),
                  "confusion matrix of the normalised answers (counts)")


def write_eval_reports(scored: list["ScoredRun"], targets: list["TargetResult"]) -> None:
    for s in scored:
        build_eval_doc(s, scored, targets).write(s.run.path)
