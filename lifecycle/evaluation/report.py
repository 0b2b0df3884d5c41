"""The report of an eval run (report.md + report.html + plots/): metrics with intervals, targets,
the shots ladder when the command ran several, length distributions, example predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.evaluation import plots
from lifecycle.evaluation.registry import METRICS
from lifecycle.evaluation.report_doc import Doc
from lifecycle.prompting.effective import k_label

if TYPE_CHECKING:
    from lifecycle.evaluation.runner import ScoredRun
    from lifecycle.evaluation.targets import TargetResult

EXAMPLES_SHOWN = 12
_MAX_TEXT = 600


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
    if main:
        doc.image("metrics.png", plots.metric_intervals(labels, {
            n: [(x.doc["metrics"][n]["value"], *x.doc["metrics"][n]["ci"]) for x in runs_for_plot] for n in main}),
            "metric per run with 95% confidence intervals")
    ladder = [x for x in siblings if x.shots is not None]
    if len({x.shots for x in ladder}) > 1 and main:
        ladder = sorted(ladder, key=lambda x: x.shots)
        doc.image("shots.png", plots.metric_vs_shots([x.shots for x in ladder], {
            n: [(x.doc["metrics"][n]["value"], *x.doc["metrics"][n]["ci"]) for x in ladder] for n in main[:4]},
            tick_labels=[run_label(x) for x in ladder]),
            "metric against number of shots (tick: K asked, with the mean K used when examples got fewer)")

    pred_len = [len(p.split()) for p in s.aligned.predictions]
    ref_len = [len(r[0].split()) for r in s.aligned.references]
    doc.h2("Lengths")
    doc.image("lengths.png", plots.length_histograms(pred_len, ref_len),
              "prediction and reference length distributions (words)")

    doc.h2("Examples")
    key = main[0] if main else None
    rows = []
    for k in range(min(EXAMPLES_SHOWN, len(s.aligned.ids))):
        row = [s.aligned.ids[k], _clip(s.aligned.predictions[k]), _clip(s.aligned.references[k][0])]
        if key:
            row.append(float(s.scores[key].per_example[k]))
        rows.append(row)
    doc.table(["id", "prediction", "reference", *( [key] if key else [])], rows)
    return doc


def _labels_section(doc: Doc, s: "ScoredRun") -> None:
    """Classification: per-label precision / recall and the confusion matrix, on normalised answers."""
    from lifecycle.evaluation.scorers import label_report
    from lifecycle.evaluation.text import LABEL_NORMALIZATION

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


def write_eval_reports(scored: list["ScoredRun"], targets: list["TargetResult"]) -> None:
    for s in scored:
        build_eval_doc(s, scored, targets).write(s.run.path)
