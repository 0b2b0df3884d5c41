"""`lifecycle select`: ranking with reasons, --apply keeping comments, bad input."""

from __future__ import annotations

import json

import pytest

from lifecycle.catalog.selection import data_lengths, parse_memory

FEW = ["google/flan-t5-small", "google/flan-t5-xl", "bert-base-uncased", "Qwen/Qwen2.5-3B-Instruct",
       "meta-llama/Llama-3.1-8B-Instruct"]


def _args(*ids):
    return [a for i in ids for a in ("--candidate", i)]


@pytest.mark.parametrize("text, expected", [("24GiB", 24 * 1024**3), ("16", 16 * 1024**3), ("80GB", 80 * 1024**3),
                                            ("512MiB", 512 * 1024**2), ("1.5g", int(1.5 * 1024**3))])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.slow
def test_select_ranks_with_reasons(make_project, run_cli):
    root = make_project(task="summarization", commercial_use=True, gpu_memory_gib=8.0)
    r = run_cli("select", "--json", *_args(*FEW), cwd=root)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    by_id = {c["id"]: c for c in d["candidates"]}
    crit = lambda i, n: next(c for c in by_id[i]["criteria"] if c["name"] == n)  # noqa: E731
    assert not crit("google-bert/bert-base-uncased", "architecture")["passed"]  # cannot generate summaries
    assert not crit("Qwen/Qwen2.5-3B-Instruct", "licence")["passed"]  # research licence, commercial scope
    assert not crit("meta-llama/Llama-3.1-8B-Instruct", "memory")["passed"]  # 16 GB of bf16 weights > 8 GiB
    assert crit("google/flan-t5-xl", "memory")["passed"]
    assert d["candidates"][0]["id"] == "google/flan-t5-xl"  # the largest model that passes everything
    assert d["candidates"][0]["ok"] and not d["candidates"][-1]["ok"]
    assert "no tokenizer offline" in d["data_note"]


@pytest.mark.slow
def test_gpu_memory_override_and_text_output(make_project, run_cli):
    root = make_project(task="summarization", gpu_memory_gib=8.0)
    r = run_cli("select", "--gpu-memory", "40GiB", *_args("meta-llama/Llama-3.1-8B-Instruct"), cwd=root)
    assert r.returncode == 0, r.stderr
    assert "pass memory" in r.stdout and "--gpu-memory" in r.stdout
    assert "next: lifecycle select --apply meta-llama/Llama-3.1-8B-Instruct" in r.stdout


@pytest.mark.slow
def test_estimates_are_cached_per_question(make_project, run_cli):
    """A repeated select reads the project's cache; a different question (longer data) or a damaged
    cache file simulates again and gives the same answer as a fresh estimate."""
    from lifecycle.catalog.memory import estimate_memory

    root = make_project(task="summarization", gpu_memory_gib=None)  # CPU: fp32, allocator retention
    cache = root / ".lifecycle" / "cache" / "estimates.json"
    first = json.loads(run_cli("select", "--json", *_args("gpt2"), cwd=root).stdout)["candidates"][0]
    stored = json.loads(cache.read_text())["estimate:openai-community/gpt2"]
    assert stored["value"] == first["memory_bytes"]
    seq_len = max(128, data_lengths(root / "data" / "sample.jsonl")[0])
    assert first["memory_bytes"] == estimate_memory("gpt2", "inference", "fp32", 1, seq_len, device="cpu").total_bytes
    # a planted value under the same key is what the next run reports: the cache is really read
    stored["value"] = 123 * 1024**3
    cache.write_text(json.dumps({"estimate:openai-community/gpt2": stored}))
    again = json.loads(run_cli("select", "--json", *_args("gpt2"), cwd=root).stdout)["candidates"][0]
    assert again["memory_bytes"] == 123 * 1024**3
    assert not next(c for c in again["criteria"] if c["name"] == "memory")["passed"]
    # longer data is another question (the sequence length grows)
    with (root / "data" / "sample.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "long", "dialogue": "word " * 400, "summary": "x"}) + "\n")
    longer = json.loads(run_cli("select", "--json", *_args("gpt2"), cwd=root).stdout)["candidates"][0]
    assert first["memory_bytes"] < longer["memory_bytes"] < 123 * 1024**3
    cache.write_text("{not json")
    r = run_cli("select", "--json", *_args("gpt2"), cwd=root)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["candidates"][0]["memory_bytes"] == longer["memory_bytes"]


@pytest.mark.slow
def test_training_estimate_splits_input_and_target(make_project, run_cli):
    """PEFT on a seq2seq model: the decoder's length is the longest summary, not the whole example."""
    from lifecycle.catalog.memory import estimate_memory
    from lifecycle.project import Project

    root = make_project(task="summarization", adaptation="peft", gpu_memory_gib=8.0)
    tokens, target, note = data_lengths(root / "data" / "sample.jsonl", "summary")
    assert 0 < target < tokens and "longest summary" in note
    r = run_cli("select", "--json", *_args("google/flan-t5-small"), cwd=root)
    assert r.returncode == 0, r.stderr
    cand = json.loads(r.stdout)["candidates"][0]
    seq = max(128, tokens - target)
    mem = next(c for c in cand["criteria"] if c["name"] == "memory")
    assert f"{seq}+{target} tokens" in mem["reason"]
    batch = int(mem["reason"].split("(batch ")[1].split(",")[0])
    ft = Project(root).finetune_config()  # the project's LoRA rank and dropout (MemoryRequest.for_project)
    assert cand["memory_bytes"] == estimate_memory("google/flan-t5-small", "lora", "bf16", batch, seq,
                                                   target_len=target, lora_r=ft.peft.r,
                                                   lora_dropout=ft.peft.dropout).total_bytes


@pytest.mark.slow
def test_context_window_against_data(make_project, run_cli):
    root = make_project(task="summarization")
    long = "word " * 3000  # ~3,800 tokens by chars/4: beyond FLAN-T5's 512
    with (root / "data" / "sample.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "long", "dialogue": long, "summary": "x"}) + "\n")
    r = run_cli("select", "--json", *_args("google/flan-t5-small"), cwd=root)
    c = json.loads(r.stdout)["candidates"][0]
    ctx = next(x for x in c["criteria"] if x["name"] == "context")
    assert not ctx["passed"] and "512" in ctx["reason"]


@pytest.mark.slow
def test_apply_keeps_comments_and_order(make_project, run_cli):
    root = make_project(task="summarization")
    manifest = root / "lifecycle.yaml"
    text = manifest.read_text(encoding="utf-8")
    text = text.replace("scope:\n", "# the team's decisions, keep this comment\nscope:\n", 1)
    manifest.write_text(text.replace("  task: summarization\n", "  task: summarization  # agreed with support\n"),
                        encoding="utf-8")
    model_yaml = root / "configs" / "model.yaml"
    model_yaml.write_text("# our model choice\n" + model_yaml.read_text(encoding="utf-8"), encoding="utf-8")
    keys_before = [line.split(":")[0] for line in manifest.read_text().splitlines() if line and line[0].isalpha()]
    r = run_cli("select", "--apply", "google/flan-t5-large", cwd=root)
    assert r.returncode == 0, r.stderr
    after = manifest.read_text(encoding="utf-8")
    assert "# the team's decisions, keep this comment" in after and "# agreed with support" in after
    assert [line.split(":")[0] for line in after.splitlines() if line and line[0].isalpha()] == keys_before
    from lifecycle.manifest import load_manifest

    m = load_manifest(manifest)
    assert m.selection.model == "google/flan-t5-large"
    assert "passes task, architecture, licence, context and memory" in m.selection.reason
    mtext = model_yaml.read_text(encoding="utf-8")
    assert mtext.startswith("# our model choice") and "model: google/flan-t5-large" in mtext


def test_apply_unknown_id(make_project, run_cli):
    root = make_project(task="summarization")
    before = (root / "lifecycle.yaml").read_text(encoding="utf-8")
    r = run_cli("select", "--apply", "google/flan-t5-lrage", cwd=root)
    assert r.returncode == 1 and "did you mean 'google/flan-t5-large'" in r.stderr
    assert (root / "lifecycle.yaml").read_text(encoding="utf-8") == before


def test_select_outside_a_project(run_cli, tmp_path):
    r = run_cli("select", cwd=tmp_path)
    assert r.returncode != 0 and "lifecycle.yaml" in r.stderr


@pytest.mark.slow
def test_library_helpers_for_checks():
    from lifecycle.catalog import fits_memory, licence_ok, lookup
    from lifecycle.manifest import Hardware

    e = lookup("Qwen/Qwen2.5-3B-Instruct")
    assert licence_ok(e, True)[0] is False and licence_ok(e, False)[0] is True
    # under 1 GiB of estimate, but a 1 GiB GPU cannot also hold the runtime (1 GiB reserved: CUDA context)
    ok, reason, est = fits_memory("google/flan-t5-small", "inference", Hardware(device="gpu", gpu_memory_gib=1.0),
                                  seq_len=128)
    assert not ok and "runtime headroom; does not fit" in reason and est.total_bytes < 1024**3
    ok, reason, est = fits_memory("google/flan-t5-small", "inference", Hardware(device="gpu", gpu_memory_gib=2.5),
                                  seq_len=128)
    assert ok and "fits" in reason
    ok, reason, _ = fits_memory("google/flan-t5-small", "full", Hardware(device="gpu", gpu_memory_gib=0.5), seq_len=128)
    assert not ok and "does not fit" in reason
