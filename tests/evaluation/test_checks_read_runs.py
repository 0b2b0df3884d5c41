"""The adapt-stage checks read eval runs through the run.yaml contract (eval.eval_key, eval.shots)
and metrics.json: baseline, the shots ladder, and the target by its lower confidence bound."""

from __future__ import annotations

import json

from eval_helpers import cli, perfect_predictions, run_dirs, shifted_predictions, write_predictions


def test_checks_name_the_runs_they_used(make_project, tmp_path, capsys):
    project = make_project("summarization")
    weak = shifted_predictions(project, tmp_path / "weak.jsonl")
    for k in (0, 1, 3):
        assert cli(capsys, "eval", "run", "--predictions", weak, "--shots", str(k), "--no-report", cwd=project)[0] == 0
    code, out, err = cli(capsys, "check", "adapt", cwd=project)
    zero = run_dirs(project)[0].name
    assert "PASS adapt.baseline" in out and zero in out
    # a predictions file that does not record the shots each example got cannot make a ladder
    assert "TODO adapt.icl_ladder: cannot tell what K the runs used" in out
    for k in (1, 3):  # records saying every example got its K (as `lifecycle generate` writes them)
        recs = [json.loads(x) for x in weak.read_text().splitlines()]
        rungs = write_predictions(tmp_path / f"weak-{k}.jsonl", [{**r, "shots_requested": k, "shots_used": k}
                                                                 for r in recs])
        assert cli(capsys, "eval", "run", "--predictions", rungs, "--shots", str(k), "--no-report", cwd=project)[0] == 0
    code, out, err = cli(capsys, "check", "adapt", cwd=project)
    assert "PASS adapt.icl_ladder" in out
    assert "FAIL adapt.target_met" in out and "bound" in out

    good = perfect_predictions(project, tmp_path / "good.jsonl")
    assert cli(capsys, "eval", "run", "--predictions", good, "--shots", "3", "--no-report", cwd=project)[0] == 0
    best = run_dirs(project)[-1].name
    code, out, err = cli(capsys, "check", "adapt", cwd=project)
    line = [x for x in out.splitlines() if "adapt.target_met" in x][0]
    assert "PASS" in line and best in line


def test_one_predictions_file_is_one_rung(make_project, tmp_path, capsys):
    project = make_project("summarization")
    weak = shifted_predictions(project, tmp_path / "weak.jsonl")
    code, _, err = cli(capsys, "eval", "run", "--predictions", weak, "--shots", "0,1", cwd=project)
    assert code != 0 and "one --shots value" in err and run_dirs(project) == []
