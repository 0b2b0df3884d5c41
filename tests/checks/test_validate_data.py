"""`lifecycle validate` resolves what the configs name: metric names against the registry (with
did-you-mean), template fields against the data's fields (naming both files), in any data format;
and `eval run` reads a parquet eval set through the one loader."""

from __future__ import annotations

import json

from lifecycle.checks.validate import validate_project


def _replace(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path, needle) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_valid_project_reports_its_data(make_project):
    report = validate_project(make_project())
    assert report.ok, report.problems
    assert [d.describe() for d in report.data] == [
        "sample data/sample.jsonl (lifecycle.yaml data.sample): jsonl, 8 rows, fields id, dialogue, summary",
        "eval set data/sample.jsonl (configs/eval.yaml dataset.path): jsonl, 8 rows, fields id, dialogue, summary"]


def test_unknown_metric_names_are_located_with_did_you_mean(make_project, cli):
    root = make_project()
    ev, manifest = root / "configs" / "eval.yaml", root / "lifecycle.yaml"
    _replace(ev, "- name: rouge2", "- name: rogue2")
    _replace(ev, "- metric: rougeL", "- metric: rougel")
    _replace(manifest, "metric: rougeL", "metric: bleu4")
    code, out, err = cli("validate", "--project", root)
    assert code == 2, (out, err)
    assert (f"configs/eval.yaml:{_line_of(ev, 'rogue2')}: metrics.1.name: unknown metric 'rogue2'; did you mean "
            "'rouge2'") in err
    assert f"configs/eval.yaml:{_line_of(ev, 'rougel')}: targets.0.metric: unknown metric 'rougel'; did you mean " \
           "'rougeL'?" in err
    assert f"lifecycle.yaml:{_line_of(manifest, 'bleu4')}: scope.success.metric: unknown metric 'bleu4'" in err


def test_template_field_missing_from_the_data_names_both_files(make_project, cli):
    root = make_project()
    prompt = root / "configs" / "prompt.yaml"
    _replace(prompt, "{dialogue}", "{dialog}")
    code, out, err = cli("validate", "--project", root)
    assert code == 2
    line = _line_of(prompt, "template")
    assert (f"configs/prompt.yaml:{line}: template field {{dialog}}: 'dialog' is not a field of data/sample.jsonl "
            "(its fields: id, dialogue, summary)") in err


def test_parquet_data_with_a_field_mapping_validates_and_evaluates(make_project, tiny_t5, cli):
    import datasets

    root = make_project(model=tiny_t5)
    rows = [json.loads(line) for line in (root / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()]
    datasets.Dataset.from_list([{"id": r["id"], "text": r["dialogue"], "highlights": r["summary"]}
                                for r in rows]).to_parquet(str(root / "data" / "eval.parquet"))
    _replace(root / "configs" / "eval.yaml", "path: data/sample.jsonl", "path: data/eval.parquet")
    report = validate_project(root)
    assert not report.ok and "'dialogue' is not a field of data/eval.parquet" in report.problems[0]
    with (root / "configs" / "prompt.yaml").open("a", encoding="utf-8") as fh:
        fh.write("fields: {dialogue: text, summary: highlights}\n")
    # the sample (JSONL, other column names) now lacks the mapped columns: located, naming the mapping
    report = validate_project(root)
    assert [p for p in report.problems if "data/sample.jsonl" in p and "column 'text'" in p]
    (root / "data" / "sample.jsonl").write_text("".join(
        json.dumps({"id": r["id"], "text": r["dialogue"], "highlights": r["summary"]}) + "\n" for r in rows),
        encoding="utf-8")
    report = validate_project(root)
    assert report.ok, report.problems
    assert report.data[1].describe().startswith("eval set data/eval.parquet (configs/eval.yaml dataset.path): "
                                                "parquet, 8 rows, fields id, dialogue, summary")
    code, out, err = cli("eval", "run", "--project", root, "--limit", "2", "--no-report")
    assert code == 0, err
    run = next(p for p in (root / "runs").iterdir() if (p / "predictions.jsonl").is_file())
    preds = [json.loads(line) for line in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in preds] == [r["id"] for r in rows[:2]]
    assert preds[0]["references"] == [rows[0]["summary"]]


def test_corrupt_parquet_eval_set_is_one_line_and_no_run_left_running(make_project, tiny_t5, cli):
    root = make_project(model=tiny_t5)
    (root / "data" / "eval.parquet").write_bytes(b"PAR1\x00\xff not parquet")
    _replace(root / "configs" / "eval.yaml", "path: data/sample.jsonl", "path: data/eval.parquet")
    code, out, err = cli("eval", "run", "--project", root, "--limit", "2")
    assert code != 0 and "Traceback" not in err and "UnicodeDecodeError" not in err
    assert "data/eval.parquet: cannot read it as parquet" in err
    for run_yaml in (root / "runs").glob("*/run.yaml"):
        assert "status: running" not in run_yaml.read_text(encoding="utf-8")
