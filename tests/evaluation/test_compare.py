"""`lifecycle eval compare`: paired differences equal to a direct computation, the comparison saved
as a run, and runs over different eval sets refused unless --force."""

from __future__ import annotations

import json

import pytest

from eval_helpers import cli, perfect_predictions, rows, run_dirs, shifted_predictions


@pytest.fixture
def project(make_project):
    return make_project("summarization")


def _eval_run(project, tmp_path, capsys, preds) -> str:
    before = set(run_dirs(project))
    code, out, err = cli(capsys, "eval", "run", "--predictions", preds, "--no-report", cwd=project)
    assert code == 0, err
    (new,) = set(run_dirs(project)) - before
    return new.name


def test_compare_two_runs_on_the_same_examples(project, tmp_path, capsys):
    from lifecycle.evaluation.metrics.registry import compute_metrics
    from lifecycle.evaluation.statistics.bootstrap import paired_bootstrap, permutation_test

    a = _eval_run(project, tmp_path, capsys, shifted_predictions(project, tmp_path / "a.jsonl"))
    b = _eval_run(project, tmp_path, capsys, perfect_predictions(project, tmp_path / "b.jsonl"))
    code, out, err = cli(capsys, "eval", "compare", a[-7:], b, "--json", cwd=project)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["baseline_run"] == a and doc["runs"] == [b]
    res = doc["comparisons"][b]["metrics"]["rougeL"]
    data = rows(project)
    weak = [json.loads(x)["prediction"] for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    refs = [[r["summary"]] for r in data]
    sa = compute_metrics(["rougeL"], weak, refs)["rougeL"]
    sb = compute_metrics(["rougeL"], [r["summary"] for r in data], refs)["rougeL"]
    assert res["a"] == pytest.approx(sa.value, abs=1e-12) and res["b"] == pytest.approx(1.0)
    assert res["diff"] == pytest.approx(sb.value - sa.value, abs=1e-12)
    assert res["ci"] == pytest.approx(list(paired_bootstrap(sa, sb)), abs=1e-12)
    assert res["p_value"] == pytest.approx(permutation_test(sa, sb), abs=1e-12)
    assert res["p_value"] < 0.05 and res["verdict"] == "B better"

    compare_runs = [p for p in run_dirs(project) if "-compare-" in p.name]
    assert len(compare_runs) == 1
    saved = json.loads((compare_runs[0] / "comparison.json").read_text())
    assert saved["comparisons"][b]["metrics"]["rougeL"]["diff"] == res["diff"]
    html = (compare_runs[0] / "report.html").read_text()
    assert "data:image/png;base64," in html and "B better" in html

    code, out, _ = cli(capsys, "eval", "compare", a, b, cwd=project)
    assert code == 0 and "rougeL" in out and "B - A" in out


def test_different_eval_sets_are_refused_unless_forced(project, tmp_path, capsys):
    a = _eval_run(project, tmp_path, capsys, shifted_predictions(project, tmp_path / "a.jsonl"))
    # same ids, changed references: a different eval set
    data = rows(project)
    data[0]["summary"] = "A different reference."
    (project / "data" / "sample.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data))
    b = _eval_run(project, tmp_path, capsys, shifted_predictions(project, tmp_path / "b.jsonl"))
    before = run_dirs(project)
    code, _, err = cli(capsys, "eval", "compare", a, b, cwd=project)
    assert code != 0 and "different eval sets" in err and "--force" in err
    assert run_dirs(project) == before
    code, out, err = cli(capsys, "eval", "compare", a, b, "--force", cwd=project)
    assert code == 0, err
    assert "warning:" in out


def test_different_prompt_wording_is_a_different_eval_set(project, tmp_path, capsys):
    a = _eval_run(project, tmp_path, capsys, shifted_predictions(project, tmp_path / "a.jsonl"))
    cfg = project / "configs" / "prompt.yaml"
    cfg.write_text(cfg.read_text().replace("Summarize the following conversation.", "Summarize this dialogue."))
    b = _eval_run(project, tmp_path, capsys, shifted_predictions(project, tmp_path / "b.jsonl"))
    code, _, err = cli(capsys, "eval", "compare", a, b, cwd=project)
    assert code != 0 and "prompt wording" in err


def test_compare_needs_two_known_runs(project, tmp_path, capsys):
    a = _eval_run(project, tmp_path, capsys, shifted_predictions(project, tmp_path / "a.jsonl"))
    code, _, err = cli(capsys, "eval", "compare", a, cwd=project)
    assert code != 0 and "at least two runs" in err
    code, _, err = cli(capsys, "eval", "compare", a, "nosuchrun", cwd=project)
    assert code != 0 and "unknown run 'nosuchrun'" in err
