"""`lifecycle generate` end to end on a tiny model: run folders per K, run.yaml evidence,
predictions, side-by-side output, resume, and the bad inputs that are generation's.

Commands run in-process through the console script's entry point (`cli` fixture); the --help test
runs a fresh interpreter to check that nothing heavy is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from lifecycle.hashing import file_sha256
from lifecycle.runs.store import RunStore
def _runs(root):
    return RunStore(root / "runs").list(kind="generate", status=None)


def test_shots_ladder_makes_one_complete_run_per_k(make_project, cli, lively_t5):
    root = make_project(model=lively_t5)
    r = cli("generate", "--shots", "0,1", "--limit", "3", "--no-progress", cwd=root)
    assert r.returncode == 0, r.stderr
    runs = _runs(root)
    assert [run.meta["shots"] for run in runs] == [0, 1]
    data = root / "data" / "sample.jsonl"
    for run in runs:
        meta = run.meta
        assert meta["status"] == "complete" and meta["wall_time_s"] > 0
        assert meta["model"]["id"] == str(lively_t5)
        assert meta["dataset"]["sha256"] == file_sha256(data)
        assert meta["seed"] == 42 and meta["versions"]["torch"] and meta["versions"]["transformers"]
        assert "generate" in meta["command"] and "0,1" in meta["command"]
        gen = meta["config"]["generation"]
        assert gen["preset"] == "greedy" and gen["do_sample"] is False and gen["max_new_tokens"] == 16
        assert meta["config"]["prompt"]["template"].startswith("Summarize")
        records = run.read_predictions()
        assert len(records) == 3
        for rec in records:
            assert rec["shots_used"] == meta["shots"] and len(rec["shot_ids"]) == meta["shots"]
            assert rec["references"] and rec["tokens_in"] > 0 and rec["tokens_out"] >= 1
            assert rec["id"] not in rec["shot_ids"]  # the pool never holds the example asked about
    k0, k1 = (run.read_predictions() for run in runs)
    assert all(len(b["prompt"]) > len(a["prompt"]) for a, b in zip(k0, k1))
    assert "reference" in r.stdout and "K=0" in r.stdout and "K=1" in r.stdout
    first = json.loads((root / "data" / "sample.jsonl").read_text().splitlines()[0])
    assert first["summary"][:12] in r.stdout  # the reference is shown beside the outputs
    assert "budget:" in r.stdout and "all fit as asked" in r.stdout


def test_sampling_runs_are_reproducible_and_record_the_resolved_preset(make_project, cli, lively_t5):
    root = make_project(model=lively_t5)
    for _ in range(2):
        r = cli("generate", "--preset", "sampling", "--seed", "7", "--limit", "4", "--show", "0",
                    "--no-progress", cwd=root)
        assert r.returncode == 0, r.stderr
    a, b = _runs(root)
    assert [x["prediction"] for x in a.read_predictions()] == [x["prediction"] for x in b.read_predictions()]
    gen = a.meta["config"]["generation"]
    assert (gen["preset"], gen["do_sample"], gen["temperature"], gen["top_k"], gen["top_p"], gen["seed"]) == \
        ("sampling", True, 1.0, 50, 1.0, 7)
    assert a.meta["generation_config"]["do_sample"] is True


def test_resume_finishes_an_interrupted_run(make_project, cli, lively_t5):
    root = make_project(model=lively_t5)
    assert cli("generate", "--limit", "5", "--show", "0", "--no-progress", cwd=root).returncode == 0
    (run,) = _runs(root)
    lines = run.predictions_path.read_text(encoding="utf-8").splitlines()
    complete = {json.loads(x)["id"]: json.loads(x)["prediction"] for x in lines}
    # as if the process had been killed after two examples, in the middle of writing the third
    run.predictions_path.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][:15], encoding="utf-8")
    run.write_meta({**run.meta, "status": "interrupted"})
    r = cli("generate", "--resume", run.id, "--show", "0", "--no-progress", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "3 generated, 2 already done" in r.stdout
    new_lines = run.predictions_path.read_text(encoding="utf-8").splitlines()
    assert new_lines[:2] == lines[:2]  # kept, not recomputed
    assert {json.loads(x)["id"]: json.loads(x)["prediction"] for x in new_lines} == complete
    assert run.__class__(run.path).meta["status"] == "complete"
    assert len(_runs(root)) == 1  # resumed in place, no new run


def test_resume_refuses_flags_that_would_change_the_run(make_project, cli, lively_t5):
    root = make_project(model=lively_t5)
    r = cli("generate", "--resume", "x", "--shots", "2", cwd=root)
    assert r.returncode == 2 and "--shots" in r.stderr


def test_out_of_range_generation_value_names_file_line_field(make_project, cli, lively_t5):
    root = make_project(model=lively_t5)
    cfg = root / "configs" / "generation.yaml"
    cfg.write_text("# Used by: lifecycle generate\npreset: sampling\ntemperature: 0\nmax_new_tokens: 8\n", encoding="utf-8")
    r = cli("generate", "--limit", "2", cwd=root)
    assert r.returncode == 2
    assert f"{cfg}:3" in r.stderr and "temperature" in r.stderr
    assert "Traceback" not in r.stderr
    assert not _runs(root)


def test_unknown_generation_preset_flag(make_project, cli, lively_t5):
    root = make_project(model=lively_t5)
    r = cli("generate", "--preset", "nucleus", cwd=root)
    assert r.returncode == 2 and "greedy, sampling, beam" in r.stderr


def test_model_id_not_resolvable_offline(make_project, cli):
    root = make_project(model="google/flan-t5-base")
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # set for the session by tests/conftest.py
    r = cli("generate", "--limit", "1", "--model", "nobody-here/not-a-model", cwd=root)
    assert r.returncode == 1
    assert "HF_HUB_OFFLINE" in r.stderr and "local path" in r.stderr and "nobody-here/not-a-model" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 2


def test_model_needing_remote_code_is_refused_without_the_flag(make_project, cli, tiny_gpt2, tmp_path):
    import shutil

    remote = tmp_path / "remote-model"
    shutil.copytree(tiny_gpt2, remote)
    config = json.loads((remote / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_custom.CustomModel"}
    (remote / "config.json").write_text(json.dumps(config))
    root = make_project(model=remote)
    r = cli("generate", "--limit", "1", cwd=root)
    assert r.returncode == 1
    assert "remote code" in r.stderr and "trust_remote_code" in r.stderr
    assert not _runs(root)


def test_dataset_line_that_is_not_json_names_file_and_line(make_project, cli, lively_t5, tmp_path):
    root = make_project(model=lively_t5)
    bad = tmp_path / "bad.jsonl"
    good = (root / "data" / "sample.jsonl").read_text().splitlines()[0]
    bad.write_text(good + "\n{not json\n", encoding="utf-8")
    r = cli("generate", "--data", bad, cwd=root)
    assert r.returncode == 1 and f"{bad}:2" in r.stderr


def test_decoder_only_model_through_the_command(make_project, cli, lively_gpt2):
    root = make_project(model=lively_gpt2)
    r = cli("generate", "--limit", "3", "--shots", "1", "--show", "1", "--no-progress", cwd=root)
    assert r.returncode == 0, r.stderr
    (run,) = _runs(root)
    for rec in run.read_predictions():
        assert rec["shots_used"] == 1 and not rec["prediction"].startswith("Summarize")
    assert run.meta["model"]["encoder_decoder"] is False


def test_help_has_examples_and_imports_nothing_heavy():
    code = ("import sys; from typer.testing import CliRunner; from lifecycle.cli.main import app; "
            "r = CliRunner().invoke(app, ['generate', '--help']); print(r.output); "
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'evaluate', 'datasets') if m in sys.modules]; "
            "sys.exit(3 if heavy else r.exit_code)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Examples" in r.stdout and "--shots 0,1,3" in r.stdout and "--resume" in r.stdout
