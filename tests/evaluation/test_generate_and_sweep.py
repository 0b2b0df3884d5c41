"""Generation through the engine: the shots ladder in one command, and a sweep over generation
settings; plus sweep grids with invalid values refused before anything runs."""

from __future__ import annotations

import json

import pytest
import yaml

from eval_helpers import cli, run_dirs


def _grid(project, text: str):
    path = project / "configs" / "sweep.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def project(make_project):
    return make_project("summarization")


@pytest.mark.parametrize("text,message", [
    ("grid:\n  - preset: sampling\n    temperature: [0.7, -1]\n", "sweep.yaml:3: grid.0.temperature: Input should be greater than 0"),
    ("grid:\n  - preset: sampling\n    top_p: 1.5\n", "grid.0.top_p: Input should be less than or equal to 1"),
    ("grid:\n  - preset: greedy\n    temperature: 0.7\n", "another preset"),
    ("grid:\n  - preset: sampling\n    temprature: 0.7\n", "sweep.yaml:3: grid.0.temprature: not a generation setting"),
    ("grid:\n  - preset: sampling\n    seed: 3\n", "seeds are set by `seeds:`"),
    ("grid: []\n", "grid: List should have at least 1 item"),
    ("seeds: []\ngrid:\n  - preset: greedy\n", "seeds: List should have at least 1 item"),
    ("grid:\n  - preset: sampling\n    top_k: []\n", "an empty list sweeps nothing"),
    ("grids:\n  - preset: greedy\n", "grids: unknown key"),
])
def test_invalid_grids_are_refused_with_file_and_line(project, capsys, text, message):
    _grid(project, text)
    code, out, err = cli(capsys, "eval", "sweep", "--grid", "configs/sweep.yaml", cwd=project)
    assert code != 0 and message in err, err
    assert "Traceback" not in err
    assert run_dirs(project) == []


def test_grid_check_lists_points(project, capsys):
    _grid(project, "seeds: [1, 2]\ngrid:\n  - preset: greedy\n  - preset: sampling\n"
                   "    temperature: [0.7, 1.0]\n    top_p: [0.9, 1.0]\n")
    code, out, err = cli(capsys, "eval", "sweep", "--grid", "configs/sweep.yaml", "--check", cwd=project)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 5 and "preset=greedy (1 run)" in lines[0] and "(2 runs)" in lines[1]
    assert run_dirs(project) == []


@pytest.mark.slow
def test_shots_ladder_generates_one_run_per_rung(make_project, tiny_t5, capsys):
    from lifecycle.evaluation.metrics.registry import compute_metrics

    project = make_project("summarization", model=tiny_t5)
    code, out, err = cli(capsys, "eval", "run", "--shots", "0,1", "--limit", "3", cwd=project)
    assert code == 0, err
    runs = [p for p in run_dirs(project) if "-eval-" in p.name]
    assert len(runs) == 2
    metas = [yaml.safe_load((r / "run.yaml").read_text()) for r in runs]
    assert [m["eval"]["shots"] for m in metas] == [0, 1]
    assert metas[0]["eval"]["eval_key"] == metas[1]["eval"]["eval_key"]
    assert all(m["status"] == "complete" and m["eval"]["source"] == "generated" for m in metas)
    assert metas[0]["model"]["id"] == str(tiny_t5)
    for r in runs:
        preds = [json.loads(x) for x in (r / "predictions.jsonl").read_text().splitlines()]
        assert len(preds) == 3 and all("prompt" in p and "tokens_out" in p for p in preds)
        doc = json.loads((r / "metrics.json").read_text())
        want = compute_metrics(["rougeL"], [p["prediction"] for p in preds], [p["references"] for p in preds])
        order = [json.loads(x)["id"] for x in (r / "scores.jsonl").read_text().splitlines()]
        assert sorted(order) == sorted(p["id"] for p in preds)
        assert doc["metrics"]["rougeL"]["value"] == pytest.approx(want["rougeL"].value, abs=1e-12)
        assert (r / "plots" / "shots.png").is_file()  # the ladder plot, in every rung's report
    one_shot = [json.loads(x) for x in (runs[1] / "predictions.jsonl").read_text().splitlines()]
    assert all(p["shots_used"] == 1 for p in one_shot)
    assert "0" in out and "1" in out and runs[0].name in out


@pytest.mark.slow
def test_sweep_runs_every_point_and_ranks_them(make_project, tiny_t5, capsys):
    project = make_project("summarization", model=tiny_t5)
    success = yaml.safe_load((project / "lifecycle.yaml").read_text())["scope"]["success"]
    metric = success["metric"]  # the scope's metric: its target is drawn on the report's plot
    _grid(project, f"shots: 0\nlimit: 3\nmetric: {metric}\nseeds: [1, 2]\ngrid:\n  - preset: greedy\n"
                   "  - preset: sampling\n    temperature: [0.7, 1.3]\n    top_k: 5\n")
    code, out, err = cli(capsys, "eval", "sweep", "--grid", "configs/sweep.yaml", cwd=project)
    assert code == 0, err
    sweeps = [p for p in run_dirs(project) if "-sweep-" in p.name]
    evals = [p for p in run_dirs(project) if "-eval-" in p.name]
    assert len(sweeps) == 1 and len(evals) == 1 + 2 * 2  # greedy once, 2 sampling points x 2 seeds
    doc = json.loads((sweeps[0] / "sweep.json").read_text())
    means = [p["mean"] for p in doc["points"]]
    assert means == sorted(means, reverse=True) and len(means) == 3
    for p in doc["points"]:
        vals = [json.loads((project / "runs" / r / "metrics.json").read_text())["metrics"][metric]["value"]
                for r in p["runs"]]
        assert p["values"] == vals and p["mean"] == pytest.approx(sum(vals) / len(vals))
    seeds = {yaml.safe_load((e / "run.yaml").read_text())["config"]["generation"]["seed"] for e in evals}
    assert seeds == {1, 2}
    html = (sweeps[0] / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2
    assert doc["target"] == success["target"]
    assert f"target: {success['target']}" in html and f"dashed line: the target {success['target']:g}" in html
    assert f"mean {metric}" in out


@pytest.mark.slow
def test_an_interrupted_run_resumes_without_redoing_finished_examples(make_project, tiny_t5, capsys):
    project = make_project("summarization", model=tiny_t5)
    code, _, err = cli(capsys, "eval", "run", "--shots", "0", "--limit", "3", "--no-report", cwd=project)
    assert code == 0, err
    (run,) = run_dirs(project)
    full = (run / "predictions.jsonl").read_text().splitlines(keepends=True)
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    # simulate a crash after one example: one full line, a torn second line, no scores yet
    (run / "predictions.jsonl").write_text(full[0] + full[1][:20])
    for name in ("metrics.json", "scores.jsonl"):
        (run / name).unlink()
    meta = yaml.safe_load((run / "run.yaml").read_text())
    meta["status"] = "running"
    (run / "run.yaml").write_text(yaml.safe_dump(meta))
    assert meta["config"]["model"]["model"] == str(tiny_t5)  # what a resume loads again

    # one resume policy (lifecycle.runs.resume): finished with what it recorded; another model is refused
    model_yaml = project / "configs" / "model.yaml"
    original = model_yaml.read_text()
    model_yaml.write_text(original.replace("dtype: auto", "dtype: fp32"))
    code, _, err = cli(capsys, "eval", "run", "--resume", run.name[-7:], cwd=project)
    assert code != 0 and "resuming would mix two models' predictions" in err and "dtype: 'auto' -> 'fp32'" in err
    assert (run / "predictions.jsonl").read_text() == full[0] + full[1][:20]  # nothing written
    model_yaml.write_text(original)

    code, out, err = cli(capsys, "eval", "run", "--resume", run.name[-7:], cwd=project)
    assert code == 0, err
    assert "1 of 3 examples already done" in err
    assert run_dirs(project) == [run]  # same folder, no new run
    lines = (run / "predictions.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) == 3 and lines[0] == full[0]
    assert sorted(json.loads(x)["id"] for x in lines) == sorted(json.loads(x)["id"] for x in full)
    assert json.loads((run / "metrics.json").read_text())["metrics"] == metrics  # greedy: same outputs
    assert yaml.safe_load((run / "run.yaml").read_text())["status"] == "complete"
    code, _, err = cli(capsys, "eval", "run", "--resume", run.name, cwd=project)
    assert code != 0 and "already complete" in err
