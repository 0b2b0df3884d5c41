"""The eval report shows every example, worst first by the project's success metric, with its prompt;
the target is drawn on the metric plot; reduced K and truncation are called out in the header."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from eval_helpers import cli, rows, run_dirs, shifted_predictions


def _table(md: str, heading_prefix: str) -> list[list[str]]:
    """Rows of the first markdown table after the heading that starts with `heading_prefix`."""
    part = md.split(f"## {heading_prefix}", 1)[1].splitlines()
    start = next(i for i, x in enumerate(part) if x.startswith("|"))
    end = next((i for i in range(start, len(part)) if not part[i].startswith("|")), len(part))
    return [[c.strip() for c in x.strip().strip("|").split(" | ")] for x in part[start + 2:end]]


def test_every_example_worst_first_by_the_success_metric(make_project, tmp_path, capsys):
    from rouge_score import rouge_scorer

    project = make_project("summarization")  # scope.success.metric: rougeL
    preds = shifted_predictions(project, tmp_path / "p.jsonl")
    code, _, err = cli(capsys, "eval", "run", "--predictions", preds, cwd=project)
    assert code == 0, err
    (run,) = run_dirs(project)
    md = (run / "report.md").read_text()
    data = rows(project)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    pred_by_id = {json.loads(x)["id"]: json.loads(x)["prediction"] for x in preds.read_text().splitlines()}
    want = {r["id"]: scorer.score(r["summary"], pred_by_id[r["id"]])["rougeL"].fmeasure for r in data}
    assert f"## Examples ({len(data)}, worst first by rougeL)" in md
    table = _table(md, "Examples")
    assert [r[0] for r in table] == sorted(want, key=lambda i: (want[i], i))  # all of them, worst first
    assert [float(r[1]) for r in table] == pytest.approx(sorted(want.values()), abs=5e-4)
    html = (run / "report.html").read_text()
    assert html.count("<details>") == len(data)  # one collapsible item per example
    assert "(not recorded: external predictions)" in html  # a predictions file has no prompts
    assert "(dashed: target)" in md  # the scope's target is on the metric plot


def test_generated_run_shows_prompts_and_reduced_k(make_project, tiny_t5, capsys):
    project = make_project("summarization", model=tiny_t5)
    model_cfg = project / "configs" / "model.yaml"
    m = yaml.safe_load(model_cfg.read_text())
    m["max_context"] = 200  # too small for 2 shots of these dialogues: the builder drops or cuts
    model_cfg.write_text(yaml.safe_dump(m))
    code, _, err = cli(capsys, "eval", "run", "--shots", "2", cwd=project)
    assert code == 0, err
    (run,) = run_dirs(project)
    meta = yaml.safe_load((run / "run.yaml").read_text())
    budget = meta["budget"]
    assert budget["full_k"] < budget["n"] or budget["truncated"] > 0, budget
    md = (run / "report.md").read_text()
    html = (run / "report.html").read_text()
    head = md.split("## Metrics")[0]
    if budget["full_k"] < budget["n"]:
        assert f"only {budget['full_k']} of {budget['n']} examples got 2 shots" in head
    if budget["truncated"]:
        assert f"{budget['truncated']} of {budget['n']} inputs were truncated" in head
    records = [json.loads(x) for x in (run / "predictions.jsonl").read_text().splitlines()]
    for rec in records:  # each example's whole prompt is in the page (escaped), in its <details>
        assert re.sub(r"\s+", " ", rec["prompt"][:80]) in re.sub(r"\s+", " ", md)
    assert html.count("<details>") == len(records)
    assert "<script" not in html


def test_target_line_changes_the_plot():
    from lifecycle.evaluation.reports import plots

    data = {"rougeL": [(0.2, 0.1, 0.3), (0.25, 0.15, 0.35)]}
    plain = plots.metric_intervals(["a", "b"], data)
    with_target = plots.metric_intervals(["a", "b"], data, targets={"rougeL": 0.3})
    assert plain != with_target and len(with_target) > 1000


def test_classification_report_has_per_label_table_and_confusion_matrix(make_project, tmp_path, capsys):
    from sklearn.metrics import confusion_matrix

    project = make_project("classification")
    data = rows(project)
    preds = [data[(i + 1) % len(data)]["label"] if i % 3 == 0 else data[i]["label"].title() + "." for i in
             range(len(data))]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "prediction": p}) + "\n" for r, p in zip(data, preds)))
    code, _, err = cli(capsys, "eval", "run", "--predictions", path, cwd=project)
    assert code == 0, err
    (run,) = run_dirs(project)
    md = (run / "report.md").read_text()
    labels = sorted({r["label"] for r in data})
    want = confusion_matrix([r["label"] for r in data], [p.rstrip(".").lower() for p in preds], labels=labels)
    got = [[int(c) for c in r[1:]] for r in _table("## C" + md.split("Confusion matrix", 1)[1], "C")]
    assert got == want.tolist()
    assert "| label | precision | recall | F1 | support | predicted |" in md
    assert (run / "plots" / "confusion.png").stat().st_size > 1000
    assert "worst first by accuracy" in md  # the scope's success metric for this task
