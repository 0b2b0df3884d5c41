"""`lifecycle finetune` end to end: run folder, printed facts, evaluation against the baseline,
and the evidence the adapt-stage check reads."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.finetune.conftest import finetune_runs


def test_help_has_examples_and_does_not_import_heavy_libraries(run_cli, tmp_path):
    res = run_cli("finetune", "--help", cwd=tmp_path)
    assert res.returncode == 0
    assert "lifecycle finetune --resume" in res.stdout and "finetune merge RUN" in res.stdout
    code = ("import sys; from typer.testing import CliRunner; from lifecycle.cli.main import app; "
            "r = CliRunner().invoke(app, ['finetune', '--help']); assert r.exit_code == 0, r.output; "
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'accelerate', 'matplotlib') if m in sys.modules]; "
            "assert not heavy, heavy")
    import subprocess
    import sys

    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0


@pytest.mark.slow
def test_finetune_writes_the_run_and_evaluates_against_the_zero_shot_baseline(ft_project, run_cli):
    root = ft_project(training={"max_steps": 2, "save_steps": 2, "logging_steps": 1})
    res = run_cli("finetune", "--method", "lora", cwd=root)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "method lora on q, v: trainable params" in out and "memory estimate" in out
    assert "peak memory" in out
    run_dir = finetune_runs(root)[-1]
    meta = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["kind"] == "finetune"
    assert meta["config"]["finetune"]["method"] == "lora"
    assert meta["config"]["prompt"]["template"].startswith("Summarize the following conversation.")
    assert meta["dataset"]["sha256"] and meta["training"]["global_step"] == 2
    assert meta["training"]["peak_memory"]["peak_rss_bytes"] > 0 and meta["training"]["memory_estimate"]
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert (run_dir / "plots" / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    log = json.loads((run_dir / "training_log.json").read_text())
    assert [e["step"] for e in log if "loss" in e] == [1, 2]

    comparison = json.loads((run_dir / "comparison.json").read_text())
    tuned_eval = yaml.safe_load((root / "runs" / comparison["finetuned_run"] / "run.yaml").read_text())
    baseline = yaml.safe_load((root / "runs" / comparison["baseline_run"] / "run.yaml").read_text())
    assert tuned_eval["finetune_run"] == run_dir.name and tuned_eval["model"]["adapter"].endswith("adapter")
    assert baseline["eval"]["shots"] == 0 and not baseline.get("finetune_run")
    assert "rougeL" in comparison["metrics"] and comparison["n"] == 8
    assert isinstance(comparison["finetune_beats_baseline"], bool)
    assert f"rougeL: tuned {comparison['metrics']['rougeL']['finetuned']:.4g}" in out
    # the comparison is `lifecycle eval compare`'s own run: same numbers, with its report
    compare_dir = root / "runs" / comparison["compare_run"]
    paired = json.loads((compare_dir / "comparison.json").read_text())
    assert paired["baseline_run"] == comparison["baseline_run"] and paired["runs"] == [comparison["finetuned_run"]]
    rouge = paired["comparisons"][comparison["finetuned_run"]]["metrics"]["rougeL"]
    assert rouge["diff"] == comparison["metrics"]["rougeL"]["difference"]
    assert (compare_dir / "report.html").is_file() and f"runs/{compare_dir.name}/report.html" in out

    check = run_cli("check", "adapt", "--json", cwd=root)
    results = {r["id"]: r for r in json.loads(check.stdout)["results"]}
    verdict = results["adapt.finetune_beats_baseline"]
    assert verdict["status"] == ("pass" if comparison["finetune_beats_baseline"] else "fail"), verdict


def test_bad_method_and_missing_accelerate_config_are_one_line_errors(ft_project, run_cli):
    root = ft_project()
    res = run_cli("finetune", "--method", "loar", cwd=root)
    assert res.returncode == 2 and "did you mean 'lora'" in res.stderr
    res = run_cli("finetune", "--launch", "accelerate", "--config-file", "configs/accelerate/nope.yaml", cwd=root)
    assert res.returncode == 1 and "accelerate config file" in res.stderr and "does not exist" in res.stderr
    assert "Traceback" not in res.stderr
    assert not finetune_runs(root)  # refused before a run folder was made


def test_started_by_a_distributed_launcher_directly_is_refused(ft_project, run_cli):
    root = ft_project()
    res = run_cli("finetune", "--no-eval", cwd=root, env={"WORLD_SIZE": "2", "RANK": "0"})
    assert res.returncode == 1 and "started by a distributed launcher directly" in res.stderr
    assert "--launch accelerate" in res.stderr and not finetune_runs(root)
