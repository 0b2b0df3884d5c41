"""report.md / report.html of a fine-tune run: what was trained (model, method, data hash, steps),
the loss curve from the Trainer's log, the tuned model's eval against the zero-shot baseline with the
shared verdict, and links to the eval, baseline and paired-comparison reports.

    from lifecycle.finetune.report import write_report
    write_report(run)        # before run.finish(): finished runs are never changed
"""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.evaluation.reports import plots
from lifecycle.evaluation.reports.document import Doc
from lifecycle.finetune.evaluation import COMPARISON_FILE


def training_log(run_dir: Path) -> tuple[list[dict], str | None]:
    """(the Trainer's log_history, the file it came from): training_log.json, else the newest
    checkpoint's trainer_state.json (a run interrupted before the end still has that)."""
    log = run_dir / "training_log.json"
    if log.is_file():
        return json.loads(log.read_text(encoding="utf-8")), log.name
    states = sorted((run_dir / "checkpoints").glob("checkpoint-*/trainer_state.json"),
                    key=lambda p: int(p.parent.name.rsplit("-", 1)[-1]) if p.parent.name.rsplit("-", 1)[-1].isdigit()
                    else -1)
    if states:
        state = json.loads(states[-1].read_text(encoding="utf-8"))
        return list(state.get("log_history") or []), str(states[-1].relative_to(run_dir))
    return [], None


def _points(history: list[dict], key: str) -> list[tuple[float, float]]:
    return [(float(e["step"]), float(e[key])) for e in history if key in e and "step" in e]


def _link(run_id: str | None, label: str) -> str:
    return f"{label}: runs/{run_id}/report.html (../{run_id}/report.html from here)" if run_id else f"{label}: none"


def build_finetune_doc(run) -> Doc:
    meta = run.meta
    doc = Doc(f"Fine-tune run {run.id}")
    model = meta.get("model") or {}
    training = meta.get("training") or {}
    data = ((meta.get("fingerprint") or {}).get("data") or {})
    doc.p(f"base model: {model.get('id')} | method: {meta.get('method')} | train data: {data.get('train')} "
          f"(sha256 {str(data.get('train_sha256') or '')[:12]}) | steps: {training.get('global_step')} | "
          f"final train loss: {training.get('train_loss')} | weights: {training.get('weights')} | "
          f"status when written: {meta.get('status')}", "meta")
    overlap = meta.get("overlap")
    if isinstance(overlap, dict) and overlap.get("overlap"):
        from lifecycle.finetune.overlap import describe

        doc.p(f"warning: {describe(overlap)}: the eval below is not on held-out data", "bad")

    doc.h2("Loss")
    history, source = training_log(run.path)
    train, evals = _points(history, "loss"), _points(history, "eval_loss")
    if train or evals:
        doc.image("report-loss.png", plots.loss_curve(train, evals, title=f"{meta.get('method')} fine-tuning, run {run.id}"),
                  f"loss per optimizer step, from {source} ({len(train)} training and {len(evals)} eval points)")
        rows = [[int(s), v] for s, v in train]
        if len(rows) > 12:  # first, last and every n-th: the curve above has them all
            step = max(1, len(rows) // 10)
            rows = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
        doc.table(["step", "train loss"], rows)
    else:
        doc.p("no loss was logged (fewer steps than training.logging_steps, or the log is missing)")

    doc.h2("Tuned model vs the zero-shot baseline")
    comparison = run.path / COMPARISON_FILE
    evaluation = meta.get("evaluation") or {}
    if comparison.is_file():
        c = json.loads(comparison.read_text(encoding="utf-8"))
        success = c.get("success_metric")
        doc.p(f"{c.get('n')} paired examples; difference = tuned - baseline, 95% paired-bootstrap interval and "
              f"permutation p-value; the success metric is {success}. Verdict: {c.get('verdict', 'not computed')}.")
        rows = []
        for name, m in (c.get("metrics") or {}).items():
            ci = m.get("ci") or [None, None]
            rows.append([name + (" (success metric)" if name == success else ""), m.get("baseline"),
                         m.get("finetuned"), m.get("difference"), ci[0], ci[1], m.get("p_value")])
        doc.table(["metric", "baseline", "tuned", "tuned - baseline", "CI low", "CI high", "p-value"], rows)
        doc.p(" | ".join([_link(c.get("finetuned_run"), "tuned model's eval run"),
                          _link(c.get("baseline_run"), "baseline eval run"),
                          _link(c.get("compare_run"), "paired comparison report")]))
    elif evaluation:
        doc.p(f"evaluation recorded without {COMPARISON_FILE}: {evaluation}")
    else:
        doc.p("not evaluated (run with evaluation on, or `lifecycle eval run` on the tuned model, then "
              "`lifecycle eval compare BASELINE TUNED`)")
    return doc


def write_report(run) -> list[Path]:
    """report.md, report.html and plots/report-loss.png in the run folder; the run must not be finished."""
    run.ensure_writable("write its report", hint="reports are written before the run is finished")
    return build_finetune_doc(run).write(run.path)
