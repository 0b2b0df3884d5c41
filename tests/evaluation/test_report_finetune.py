"""The fine-tune report (lifecycle.finetune.report.write_report): loss curve from the Trainer's log,
the tuned model against the baseline with the verdict, links to the eval and comparison reports;
it is written into a running run only (finished runs are never changed)."""

from __future__ import annotations

import json
import re

import pytest

from lifecycle.errors import RunError


def _finetune_run(project, log_history, comparison=None):
    from lifecycle.runs.store import RunStore

    run = RunStore(project / "runs").create("finetune", config={"finetune": {"method": "lora"}},
                                             model={"id": "models/tiny-t5"}, extra={"method": "lora"})
    (run.path / "training_log.json").write_text(json.dumps(log_history))
    if comparison is not None:
        (run.path / "comparison.json").write_text(json.dumps(comparison))
    run.update_meta(training={"global_step": log_history[-1]["step"], "train_loss": 2.5, "weights": "adapter"},
                    fingerprint={"data": {"train": "data/train.jsonl", "train_sha256": "ab" * 32}})
    return run


def test_report_has_loss_curve_verdict_and_links(make_project):
    from lifecycle.finetune.report import write_report

    project = make_project("summarization")
    # the shape transformers' Trainer.state.log_history has: training entries, then eval entries
    history = [{"loss": 4.0 - 0.1 * s, "grad_norm": 1.0, "learning_rate": 1e-4, "epoch": s / 10, "step": s}
               for s in range(1, 21)] + [{"eval_loss": 3.1, "epoch": 1.0, "step": 20}]
    comparison = {"baseline_run": "B-run", "finetuned_run": "T-run", "compare_run": "C-run", "n": 8,
                  "success_metric": "rougeL", "verdict": "no significant difference (p = 0.24)",
                  "metrics": {"rougeL": {"baseline": 0.17, "finetuned": 0.19, "difference": 0.02,
                                         "ci": [-0.004, 0.03], "p_value": 0.24}}}
    run = _finetune_run(project, history, comparison)
    written = write_report(run)
    assert {p.name for p in written} == {"report-loss.png", "report.md", "report.html"}
    md = (run.path / "report.md").read_text()
    assert "20 training and 1 eval points" in md and "training_log.json" in md
    assert "rougeL (success metric)" in md and "no significant difference (p = 0.24)" in md
    assert "../C-run/report.html" in md and "../T-run/report.html" in md and "../B-run/report.html" in md
    steps = [int(m) for m in re.findall(r"^\| (\d+) \| [\d.]+ \|$", md, re.M)]
    assert steps[0] == 1 and steps[-1] == 20  # first and last logged steps are in the table
    html = (run.path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 1 and "<script" not in html
    run.finish("complete")
    with pytest.raises(RunError, match="never changed"):
        write_report(run)


def test_report_without_evaluation_says_so(make_project):
    from lifecycle.finetune.report import write_report

    project = make_project("summarization")
    run = _finetune_run(project, [{"loss": 3.0, "step": 1}])
    write_report(run)
    md = (run.path / "report.md").read_text()
    assert "not evaluated" in md and "1 training and 0 eval points" in md
