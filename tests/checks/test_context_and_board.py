"""The measured check (tokens vs context window) on real tiny models, its cache, and the status board."""

from __future__ import annotations

import json

import pytest

from lifecycle.checks import run_checks
from lifecycle.project import Project


def _set(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _ctx_check(root, measure=True):
    return {r.id: r for r in run_checks(root, "select", measure=measure)}["select.context_window"]


def test_prompt_fits_and_then_does_not(make_project, tiny_t5):
    from lifecycle.loading import load_tokenizer
    from lifecycle.prompt_template import render_template

    root = make_project(model=tiny_t5)
    r = _ctx_check(root)
    assert r.status == "pass", r.message
    ev = r.evidence
    assert ev["shots"] == 0 and ev["reserved_for_output"] == 0  # encoder-decoder: output not in the window
    # the longest prompt, counted independently with the same tokenizer
    tok = load_tokenizer(str(tiny_t5))
    template = "Summarize the following conversation.\n\n{dialogue}\n\nSummary:"
    rows = [json.loads(x) for x in (root / "data" / "sample.jsonl").read_text().splitlines() if x.strip()]
    counts = {row["id"]: len(tok(render_template(template, row))["input_ids"]) for row in rows}
    assert ev["longest_prompt_tokens"] == max(counts.values())
    assert counts[ev["longest_example"]] == max(counts.values())

    _set(root / "configs" / "model.yaml", "trust_remote_code: false", "trust_remote_code: false\nmax_context: 16")
    r = _ctx_check(root)
    assert r.status == "fail" and "> context window 16" in r.message and r.evidence["longest_example"] in r.message
    assert "fewer shots" in r.hint


def test_shots_and_decoder_output_reserve_count(make_project, tiny_gpt2):
    root = make_project(model=tiny_gpt2)
    zero = _ctx_check(root)
    assert zero.status == "pass" and zero.evidence["reserved_for_output"] == 16  # max_new_tokens
    _set(root / "configs" / "prompt.yaml", "k: 0", "k: 2")
    two = _ctx_check(root)
    assert two.evidence["shots"] == 2
    assert two.evidence["longest_prompt_tokens"] > zero.evidence["longest_prompt_tokens"]


def test_status_uses_the_cached_measurement_only(make_project, tiny_t5, cli):
    root = make_project(model=tiny_t5)
    r = _ctx_check(root, measure=False)
    assert r.status == "todo" and r.message.startswith("not measured yet")
    measured = _ctx_check(root)
    cached = _ctx_check(root, measure=False)
    assert cached.status == measured.status == "pass" and cached.evidence == measured.evidence
    _set(root / "configs" / "prompt.yaml", "k: 0", "k: 1")  # inputs changed: the cache no longer applies
    assert _ctx_check(root, measure=False).status == "todo"


def test_local_model_path_relative_to_project(make_project, tiny_t5, cli, tmp_path):
    import shutil

    root = make_project(model="models/tiny")
    shutil.copytree(tiny_t5, root / "models" / "tiny")
    code, out, _ = cli("check", "select", "--json", "--project", root)  # run from elsewhere
    res = {r["id"]: r for r in json.loads(out)["results"]}
    assert res["select.context_window"]["status"] == "pass"
    assert res["select.licence"]["status"] == "todo" and "not in the catalog" in res["select.licence"]["message"]


def test_status_board(make_project, add_eval_run, cli):
    root = make_project()
    code, out, err = cli("status", "--project", root)
    assert code == 0 and err == ""
    for label in ("Scope", "Select", "Adapt & align", "Integrate", "Current stage: Scope", "No runs yet"):
        assert label in out
    run = add_eval_run(root, shots=0, value=0.31, ci=(0.3, 0.33))
    code, out, _ = cli("status", "--json", "--project", root)
    board = json.loads(out)
    assert board["current_stage"] == "scope" and board["project"] == "demo"
    assert board["stages"]["adapt"]["pass"] >= 2  # baseline + target (lower bound 0.30 >= 0.30)
    assert board["runs"][0] == {"id": run.id, "kind": "eval", "status": "complete",
                                "headline": "rougeL 0.31 [0.3, 0.33]"}
    code, out, _ = cli("status", "--project", root)
    assert run.id in out and "rougeL 0.31" in out


def test_status_outside_a_project(cli, tmp_path):
    code, _, err = cli("status", "--project", tmp_path)
    assert code == 1 and "no lifecycle.yaml" in err


@pytest.mark.slow
def test_memory_against_declared_hardware(make_project, tiny_t5):
    from lifecycle.catalog import estimate_memory

    root = make_project(model=tiny_t5, gpu_memory_gib=0.001, adaptation="peft")
    r = {r.id: r for r in run_checks(root, "select")}["select.memory"]
    from lifecycle.catalog.memory import MemoryRequest

    ft = Project(root).finetune_config()  # the planned training: input and target lengths, LoRA dropout
    asked = MemoryRequest.for_project(Project(root))  # the one question `select` asks too
    ev = r.evidence
    assert (ev["seq_len"], ev["target_len"], ev["lora_dropout"], ev["device"]) == (
        asked.seq_len, asked.target_len, ft.peft.dropout, "gpu")
    est = estimate_memory(str(tiny_t5), "lora", "bf16", 2, ev["seq_len"], lora_r=32, target_len=ev["target_len"],
                          lora_dropout=ev["lora_dropout"])
    assert ev["estimate_gib"] == round(est.total_gib, 3)
    assert (ev["method"], ev["dtype"], ev["batch_size"]) == ("lora", "bf16", 2)
    assert r.status == "fail" and "> one GPU with 0.001 GiB" in r.message
    _set(root / "lifecycle.yaml", "gpu_memory_gib: 0.001", "gpu_memory_gib: 24")
    r = {r.id: r for r in run_checks(root, "select")}["select.memory"]
    assert r.status == "pass" and "<= one GPU with 24 GiB" in r.message
    assert r.evidence["estimate_gib"] == round(est.total_gib, 3)  # the cached estimate, new verdict
