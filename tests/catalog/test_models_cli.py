"""`lifecycle models ls|show|estimate` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_ls_filters(run_cli):
    r = run_cli("models", "ls", "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) >= 20
    r = run_cli("models", "ls", "--arch", "encoder-decoder", "--max-params", "1B", "--json")
    rows = json.loads(r.stdout)
    assert rows and all(m["architecture"] == "encoder-decoder" and m["parameters"] <= 1e9 for m in rows)
    assert "google/flan-t5-xl" not in [m["id"] for m in rows]
    r = run_cli("models", "ls", "--task", "chat", "--commercial", "--json")
    ids = [m["id"] for m in json.loads(r.stdout)]
    assert "Qwen/Qwen2.5-7B-Instruct" in ids and "Qwen/Qwen2.5-3B-Instruct" not in ids
    assert all(m["architecture"] == "decoder" for m in json.loads(r.stdout))
    r = run_cli("models", "ls", "--licence", "MIT", "--json")
    assert {m["licence"] for m in json.loads(r.stdout)} == {"mit"}
    r = run_cli("models", "ls", "--task", "summarisation")
    assert r.returncode != 0 and "did you mean 'summarization'" in r.stderr
    r = run_cli("models", "ls", "--max-params", "lots")
    assert r.returncode != 0 and "cannot read parameter count" in r.stderr


def test_show(run_cli):
    r = run_cli("models", "show", "google/flan-t5-base")
    assert r.returncode == 0, r.stderr
    assert "247,577,856" in r.stdout and "apache-2.0" in r.stdout and "config.json" in r.stdout
    r = run_cli("models", "show", "gpt2", "--json")
    assert json.loads(r.stdout)["id"] == "openai-community/gpt2"


def test_show_unknown_id_did_you_mean(run_cli):
    r = run_cli("models", "show", "google/flan-t5-bsae")
    assert r.returncode == 1
    assert "did you mean 'google/flan-t5-base'" in r.stderr
    assert "Traceback" not in r.stderr


def test_estimate_catalog_id_json(run_cli):
    r = run_cli("models", "estimate", "google/flan-t5-small", "--method", "full", "--dtype", "fp32",
                "--batch-size", "2", "--seq-len", "64", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["parameters"] == 76_961_152 and d["trainable_parameters"] == 76_961_152
    assert d["components"]["weights"] == 76_961_152 * 4
    # two fp32 AdamW states per parameter, plus AdamW's 4-byte step counter per tensor
    assert d["components"]["optimizer_states"] == pytest.approx(2 * 76_961_152 * 4, abs=4 * 400)
    assert d["total_bytes"] == sum(d["components"].values())


def test_estimate_table_and_local_folder(run_cli, tiny_t5):
    r = run_cli("models", "estimate", str(tiny_t5), "--method", "lora", "--dtype", "fp32", "--seq-len", "32")
    assert r.returncode == 0, r.stderr
    assert "weights" in r.stdout and "total (peak)" in r.stdout and "trainable" in r.stdout


def test_estimate_cpu_device_shows_allocator_retention(run_cli):
    r = run_cli("models", "estimate", "gpt2", "--method", "lora", "--dtype", "fp32", "--device", "cpu",
                "-b", "2", "-s", "64", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["device"] == "cpu" and d["components"]["allocator_retention"] > 0
    assert d["total_bytes"] == sum(d["components"].values())
    r = run_cli("models", "estimate", "google/flan-t5-small", "--method", "full", "--dtype", "fp32",
                "--seq-len", "64", "--target-len", "16")
    assert r.returncode == 0, r.stderr
    assert "batch 1 x 64+16 tokens" in r.stdout and "decoder 16 tokens" in r.stdout
    r = run_cli("models", "estimate", "gpt2", "--device", "tpu")
    assert r.returncode == 1 and "unknown device 'tpu'" in r.stderr and "Traceback" not in r.stderr


def test_estimate_bad_inputs(run_cli, tmp_path):
    r = run_cli("models", "estimate", "gpt2", "--method", "qlora", "--dtype", "bf16")
    assert r.returncode == 1 and "not quantized" in r.stderr
    r = run_cli("models", "estimate", "gtp2")
    assert r.returncode == 1 and "did you mean" in r.stderr
    r = run_cli("models", "estimate", str(tmp_path / "missing-model"))
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_ls_and_show_do_not_import_torch():
    code = ("import sys\nfrom lifecycle.cli.main import run\n"
            "for argv in (['models', 'ls'], ['models', 'show', 'gpt2']):\n"
            "    try:\n        run(argv)\n    except SystemExit as e:\n        assert e.code == 0, e.code\n"
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'accelerate') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_help_has_worked_examples(run_cli):
    for args in (["models", "ls"], ["models", "show"], ["models", "estimate"], ["select"]):
        r = run_cli(*args, "--help")
        assert r.returncode == 0, r.stderr
        assert "Examples:" in r.stdout and f"lifecycle {' '.join(args)}" in r.stdout
