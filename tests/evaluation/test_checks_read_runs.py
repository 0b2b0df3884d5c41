"""The adapt-stage checks read eval runs through the run.yaml contract (eval.eval_key, eval.shots)
and metrics.json: baseline, the shots ladder, and the target by its lower confidence bound."""

from __future__ import annotations


from eval_helpers import cli, perfect_predictions, run_dirs, shifted_predictions


def test_predictions_files_are_shown_never_counted(make_project, tmp_path, capsys):
    """`eval run --predictions FILE` scores a file, not a model: the checks list such runs with the
    reason and never take them as the baseline, a ladder rung or the target's evidence (issue 10:
    copied labels once gave `PASS adapt.target_met`)."""
    from lifecycle.checks import run_checks

    project = make_project("summarization")
    weak = shifted_predictions(project, tmp_path / "weak.jsonl")
    for k in (0, 1, 3):
        assert cli(capsys, "eval", "run", "--predictions", weak, "--shots", str(k), "--no-report", cwd=project)[0] == 0
    good = perfect_predictions(project, tmp_path / "good.jsonl")
    assert cli(capsys, "eval", "run", "--predictions", good, "--shots", "3", "--no-report", cwd=project)[0] == 0
    ids = [d.name for d in run_dirs(project)]
    code, out, err = cli(capsys, "check", "adapt", cwd=project)
    assert "TODO adapt.baseline" in out and "TODO adapt.target_met" in out and "PASS adapt.target_met" not in out
    res = {r.id: r for r in run_checks(project, "adapt")}
    assert set(res["adapt.target_met"].evidence["not_counted"]) == set(ids)
    assert all("external predictions" in why for why in res["adapt.target_met"].evidence["not_counted"].values())
    assert all("role external" in why for why in res["adapt.baseline"].evidence["not_used"].values())
    assert res["adapt.icl_ladder"].status == "todo"


def test_one_predictions_file_is_one_rung(make_project, tmp_path, capsys):
    project = make_project("summarization")
    weak = shifted_predictions(project, tmp_path / "weak.jsonl")
    code, _, err = cli(capsys, "eval", "run", "--predictions", weak, "--shots", "0,1", cwd=project)
    assert code != 0 and "one --shots value" in err and run_dirs(project) == []
