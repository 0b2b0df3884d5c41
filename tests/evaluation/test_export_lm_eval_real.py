"""The lm-eval export reproduces `lifecycle eval run`: the real lm-evaluation-harness (python API,
offline, a tiny local T5 folder) gives the same prompts, the same predictions and the same metrics.

lm_eval is in the `test` extra (pyproject) and co-installs with our pins; where it is absent the test
says so (and fails under CI=true, where .ci/run installs the test extra)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from eval_helpers import cli, run_dirs, shifted_predictions


def _lm_eval():
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("lm_eval is not installed (pip install 'genai-lifecycle[test]' installs lm_eval>=0.4.13)")
        pytest.skip("lm_eval is not installed: pip install 'lm_eval>=0.4.13' (it co-installs with our pins)")
    import lm_eval

    return lm_eval


def _set_shots(project: Path, ladder: list[int]) -> None:
    path = project / "configs" / "eval.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["shots"] = ladder
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def _predictions(run: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (run / "predictions.jsonl").read_text().splitlines())}


@pytest.fixture
def scored_project(make_project, tiny_t5, capsys):
    """A summarization project on the tiny T5 whose references overlap its outputs (a random model
    scores ~0 ROUGE, which would make "metrics equal" vacuous): a first run's predictions, extended,
    become half of the references; then the ladder K=0,1 is run for real."""
    project = make_project("summarization", model=tiny_t5)
    code, _, err = cli(capsys, "eval", "run", "--shots", "0", "--no-report", cwd=project)
    assert code == 0, err
    first = _predictions(run_dirs(project)[0])
    data_path = project / "data" / "sample.jsonl"
    data = [json.loads(x) for x in data_path.read_text().splitlines()]
    for i, row in enumerate(data):
        if i % 2 == 0:
            row["summary"] = first[row["id"]]["prediction"] + " and the order ships today"
    data_path.write_text("".join(json.dumps(r) + "\n" for r in data))
    _set_shots(project, [0, 1])
    code, _, err = cli(capsys, "eval", "run", "--shots", "0,1", "--no-report", cwd=project)
    assert code == 0, err
    runs = {yaml.safe_load((r / "run.yaml").read_text())["eval"]["shots"]: r for r in run_dirs(project)[1:]}
    return project, runs


def _evaluate(lm_eval, folder: Path, task: str, model: Path, num_fewshot: int | None):
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(folder), include_defaults=False)
    return lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={model},max_length=512", tasks=[task],
                                   task_manager=tm, device="cpu", batch_size=8, log_samples=True,
                                   num_fewshot=num_fewshot)


@pytest.mark.slow
def test_lm_eval_reproduces_eval_run_predictions_and_metrics(scored_project, tiny_t5, capsys):
    lm_eval = _lm_eval()
    project, runs = scored_project
    code, out, err = cli(capsys, "eval", "export", "--to", "lm-eval", cwd=project)
    assert code == 0, err
    folder = project / "exports" / "lm-eval"
    task_name = "lifecycle_demo"
    spec = yaml.safe_load((folder / f"{task_name}.yaml").read_text().replace("!function", ""))
    # the exporter measured our budget: both rungs fit whole, so it exports the top of the ladder
    assert spec["num_fewshot"] == 1 and spec["fewshot_config"] == {"sampler": "first_n"}
    assert spec["generation_kwargs"]["max_length"] == 16 + 1  # max_new_tokens + the decoder start token
    # relative paths only, and a utils.py that never needs genai-lifecycle
    utils = (folder / "utils.py").read_text()
    assert "import lifecycle" not in utils and "from lifecycle" not in utils
    assert str(project) not in utils and str(project) not in (folder / f"{task_name}.yaml").read_text()

    for k, num_fewshot in ((1, None), (0, 0)):  # None: the export's own num_fewshot
        ours = _predictions(runs[k])
        res = _evaluate(lm_eval, folder, task_name, tiny_t5, num_fewshot)
        samples = res["samples"][task_name]
        assert len(samples) == len(ours) == 8
        same_prompt = sum(s["arguments"][0][0] == ours[s["doc"]["id"]]["prompt"] for s in samples)
        same_pred = sum(s["filtered_resps"][0].strip() == ours[s["doc"]["id"]]["prediction"] for s in samples)
        assert (same_prompt, same_pred) == (8, 8), f"K={k}: prompts {same_prompt}/8, predictions {same_pred}/8"
        metrics = json.loads((runs[k] / "metrics.json").read_text())["metrics"]
        got = res["results"][task_name]
        assert metrics["rougeL"]["value"] > 0.05  # not a vacuous 0 == 0
        for name in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            assert got[f"{name},none"] == pytest.approx(metrics[name]["value"], abs=1e-12), (k, name)


def test_exported_utils_runs_without_lifecycle(make_project, capsys, tmp_path):
    """utils.py in a Python where `import lifecycle` fails: it loads the data and scores like we do."""
    project = make_project("summarization")
    code, _, err = cli(capsys, "eval", "run", "--predictions", shifted_predictions(project, tmp_path / "p.jsonl"),
                       "--no-report", cwd=project)
    assert code == 0, err
    (run,) = run_dirs(project)
    assert cli(capsys, "eval", "export", "--to", "lm-eval", cwd=project)[0] == 0
    folder = project / "exports" / "lm-eval"
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "lifecycle.py").write_text("raise ImportError('genai-lifecycle is not installed here')\n")
    ours = _predictions(run)
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    assert metrics["rougeL"]["value"] > 0.05
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import utils\n"
        "docs = utils.load_docs()['test']\n"
        "ours = json.loads(sys.argv[2])\n"
        "rows = [utils.process_results(d, [ours[d['id']]]) for d in docs]\n"
        "print(json.dumps({m: sum(r[m] for r in rows) / len(rows) for m in rows[0]}))\n")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    res = subprocess.run([sys.executable, "-c", script, str(folder),
                          json.dumps({i: r["prediction"] for i, r in ours.items()})],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    for name in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert got[name] == pytest.approx(metrics[name]["value"], abs=1e-12)
