"""`lifecycle eval run` on predictions files and re-scored runs: files written, numbers equal to the
reference library, targets with --strict, and every bad input refused with nothing left behind."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from eval_helpers import cli, perfect_predictions, rows, run_dirs, shifted_predictions, write_predictions


@pytest.fixture
def project(make_project):
    return make_project("summarization")


def test_scores_a_predictions_file_into_a_run_folder(project, tmp_path, capsys):
    from rouge_score import rouge_scorer

    preds = shifted_predictions(project, tmp_path / "p.jsonl")
    code, out, err = cli(capsys, "eval", "run", "--predictions", preds, cwd=project)
    assert code == 0, err
    (run,) = run_dirs(project)
    assert {"run.yaml", "predictions.jsonl", "scores.jsonl", "metrics.json", "report.md", "report.html"} <= {
        p.name for p in run.iterdir()}
    assert run.name in out and "rougeL" in out and "target" in out
    meta = yaml.safe_load((run / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["kind"] == "eval"
    assert meta["eval"]["source"].startswith("predictions:") and len(meta["eval"]["eval_key"]) == 16
    assert meta["dataset"]["sha256"] and meta["eval"]["dataset_sha256"] == meta["dataset"]["sha256"]

    doc = json.loads((run / "metrics.json").read_text())
    data = rows(project)
    assert doc["n"] == len(data)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    want = [scorer.score(r["summary"], json.loads(line)["prediction"])["rougeL"].fmeasure
            for r, line in zip(data, preds.read_text().splitlines())]
    m = doc["metrics"]["rougeL"]
    assert abs(m["value"] - np.mean(want)) < 1e-9
    assert m["ci"][0] <= m["value"] <= m["ci"][1] and m["ci"][0] < m["ci"][1]
    assert m["higher_is_better"] is True and m["aggregation"] == "mean" and m["n"] == len(data)
    assert {"pred_words", "ref_words", "length_ratio"} <= set(doc["metrics"])
    per = [json.loads(x) for x in (run / "scores.jsonl").read_text().splitlines()]
    assert [p["id"] for p in per] == [r["id"] for r in data]
    np.testing.assert_allclose([p["rougeL"] for p in per], want, atol=1e-12)
    html = (run / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 2 and "<script" not in html
    assert "## Metrics" in (run / "report.md").read_text()


def test_strict_exits_one_when_the_lower_bound_misses_the_target(project, tmp_path, capsys):
    weak = shifted_predictions(project, tmp_path / "weak.jsonl")
    code, out, _ = cli(capsys, "eval", "run", "--predictions", weak, "--strict", cwd=project)
    assert code == 1 and "MISSED" in out
    code, out, _ = cli(capsys, "eval", "run", "--predictions", weak, cwd=project)
    assert code == 0  # without --strict a miss is reported, not fatal
    good = perfect_predictions(project, tmp_path / "good.jsonl")
    code, out, err = cli(capsys, "eval", "run", "--predictions", good, "--strict", cwd=project)
    assert code == 0, out + err
    assert "MET" in out


def test_rescore_writes_a_new_run_with_the_same_numbers(project, tmp_path, capsys):
    preds = shifted_predictions(project, tmp_path / "p.jsonl")
    assert cli(capsys, "eval", "run", "--predictions", preds, "--no-report", cwd=project)[0] == 0
    (first,) = run_dirs(project)
    code, _, err = cli(capsys, "eval", "run", "--rescore", first.name, "--json", cwd=project)
    assert code == 0, err
    second = [p for p in run_dirs(project) if p != first][0]
    a = json.loads((first / "metrics.json").read_text())["metrics"]
    b = json.loads((second / "metrics.json").read_text())["metrics"]
    assert a == b
    meta = yaml.safe_load((second / "run.yaml").read_text())
    assert meta["eval"]["source"] == f"rescore:{first.name}"


# bad input: one clear error, exit != 0, no run folder ---------------------------------------------
def _refused(project, capsys, *args, match: str):
    before = run_dirs(project)
    code, out, err = cli(capsys, "eval", "run", *args, cwd=project)
    assert code != 0
    assert err.startswith("error: ") and match in err, err
    assert "Traceback" not in err
    assert run_dirs(project) == before
    return err


def test_missing_and_unknown_ids_are_refused(project, tmp_path, capsys):
    data = rows(project)
    short = write_predictions(tmp_path / "short.jsonl", [{"id": r["id"], "prediction": "x"} for r in data[:-2]])
    err = _refused(project, capsys, "--predictions", short, match="have no prediction")
    assert data[-1]["id"] in err
    extra = write_predictions(tmp_path / "extra.jsonl",
                              [{"id": r["id"], "prediction": "x"} for r in data] + [{"id": "nope", "prediction": "x"}])
    _refused(project, capsys, "--predictions", extra, match="not in the eval set (nope)")


def test_empty_predictions_file_is_refused(project, tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    _refused(project, capsys, "--predictions", empty, match="no predictions")


def test_malformed_prediction_line_names_file_and_line(project, tmp_path, capsys):
    data = rows(project)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": data[0]["id"], "prediction": "x"}) + "\n{not json\n")
    _refused(project, capsys, "--predictions", bad, match=f"{bad}:2: not valid JSON")
    missing = tmp_path / "nofield.jsonl"
    missing.write_text(json.dumps({"id": data[0]["id"], "answer": "x"}) + "\n")
    _refused(project, capsys, "--predictions", missing, match=f"{missing}:1: no 'prediction' field")


def test_empty_eval_set_is_refused(project, tmp_path, capsys):
    preds = shifted_predictions(project, tmp_path / "p.jsonl")
    (project / "data" / "sample.jsonl").write_text("")
    _refused(project, capsys, "--predictions", preds, match="eval set is empty")


def test_unknown_metric_says_did_you_mean(project, tmp_path, capsys):
    preds = shifted_predictions(project, tmp_path / "p.jsonl")
    cfg = project / "configs" / "eval.yaml"
    cfg.write_text(cfg.read_text().replace("name: rougeL\n", "name: rougel\n"))
    _refused(project, capsys, "--predictions", preds, match="unknown metric 'rougel'; did you mean 'rougeL'")


def test_unknown_metric_argument_is_refused(project, tmp_path, capsys):
    preds = shifted_predictions(project, tmp_path / "p.jsonl")
    cfg = project / "configs" / "eval.yaml"
    cfg.write_text(cfg.read_text().replace("- name: rouge1\n", "- name: rouge1\n  args: {use_stemer: false}\n"))
    _refused(project, capsys, "--predictions", preds, match="did you mean 'use_stemmer'")


def test_a_metric_direction_contradicting_the_registry_is_refused(project, tmp_path, capsys):
    preds = shifted_predictions(project, tmp_path / "p.jsonl")
    cfg = project / "configs" / "eval.yaml"
    text = cfg.read_text()
    assert "- name: rouge2\n" in text  # the project states no direction: the registry's is used
    cfg.write_text(text.replace("- name: rouge2\n", "- name: rouge2\n  higher_is_better: false\n"))
    _refused(project, capsys, "--predictions", preds, match="rouge2: higher_is_better: false contradicts the metric")
