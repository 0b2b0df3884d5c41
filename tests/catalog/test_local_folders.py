"""Offline model folders are first-class: `select --apply PATH`, a folder declaring its catalog model,
fix hints that keep the offline setup; select's runtime headroom, gated flags, generative-only
architectures; a checkpoint without a trained LM head refused at load."""

from __future__ import annotations

import shutil

import pytest

from lifecycle.checks import run_checks


def _project_with_folder(make_project, tiny, name="tiny-t5", **kw):
    """A project whose configs/model.yaml loads `models/<name>` (the README's offline setup)."""
    root = make_project(**kw)
    shutil.copytree(tiny, root / "models" / name)
    model_yaml = root / "configs" / "model.yaml"
    model_yaml.write_text(model_yaml.read_text(encoding="utf-8").replace("google/flan-t5-base", f"models/{name}"),
                          encoding="utf-8")
    return root


def _check(root, check_id):
    return {r.id: r for r in run_checks(root, "select", measure=False)}[check_id]


def test_folder_fix_hint_keeps_the_offline_setup_then_apply_passes(make_project, tiny_t5, cli):
    root = _project_with_folder(make_project, tiny_t5)
    r = _check(root, "select.model_selected")
    assert r.status == "fail" and "select --apply models/tiny-t5" in r.hint
    assert "--apply google/flan-t5-base" not in r.hint  # never undoes the offline setup
    code, out, err = cli("select", "--apply", "models/tiny-t5", "--project", root)
    assert code == 0, err
    assert out.startswith("selected models/tiny-t5: local folder models/tiny-t5 (declares no base model")
    from lifecycle.manifest import load_manifest

    m = load_manifest(root / "lifecycle.yaml")
    assert m.selection.model == "models/tiny-t5" and "memory" in m.selection.reason
    assert "model: models/tiny-t5" in (root / "configs" / "model.yaml").read_text(encoding="utf-8")
    assert _check(root, "select.model_selected").status == "pass"
    # no catalog model declared: the licence cannot be read from the catalog, so a review is asked
    assert _check(root, "select.licence").status == "todo"


def test_folder_declaring_its_base_model_gets_the_catalog_licence(make_project, tiny_t5):
    root = _project_with_folder(make_project, tiny_t5)
    (root / "models" / "tiny-t5" / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: google/flan-t5-base\n---\n# tiny copy\n", encoding="utf-8")
    r = _check(root, "select.model_selected")  # lifecycle.yaml still says google/flan-t5-base
    assert r.status == "pass" and "a copy of google/flan-t5-base (README.md base_model)" in r.message
    lic = _check(root, "select.licence")
    assert lic.status == "pass" and lic.evidence["licence"] == "apache-2.0"


def test_folder_of_a_non_commercial_base_fails_the_licence(make_project, tiny_gpt2, cli):
    root = _project_with_folder(make_project, tiny_gpt2, name="qwen-copy")
    (root / "models" / "qwen-copy" / "README.md").write_text(
        "---\nbase_model:\n- Qwen/Qwen2.5-3B-Instruct\n---\n", encoding="utf-8")
    code, out, err = cli("select", "--apply", "models/qwen-copy", "--project", root)
    assert code == 0, err
    assert "a copy of Qwen/Qwen2.5-3B-Instruct" in out and "chosen although it fails: licence" in out
    assert _check(root, "select.licence").status == "fail"


def test_apply_refuses_an_encoder_folder_for_generation(make_project, tiny_bert, cli):
    root = _project_with_folder(make_project, tiny_bert, name="tiny-bert", task="classification")
    code, out, err = cli("select", "--apply", "models/tiny-bert", "--project", root)
    assert code == 0, err
    assert "chosen although it fails: architecture" in out


@pytest.mark.slow
def test_select_headroom_gated_and_generative_only(make_project, cli):
    import json

    root = make_project(task="classification", gpu_memory_gib=24.0)
    ids = ["meta-llama/Llama-3.1-8B-Instruct", "google-bert/bert-base-uncased", "Qwen/Qwen2.5-7B-Instruct",
           "google/flan-t5-base"]
    code, out, err = cli("select", "--json", "--project", root, *[a for i in ids for a in ("--candidate", i)])
    assert code == 0, err
    by_id = {c["id"]: c for c in json.loads(out)["candidates"]}
    crit = lambda i, n: next(c for c in by_id[i]["criteria"] if c["name"] == n)  # noqa: E731
    need = by_id["meta-llama/Llama-3.1-8B-Instruct"]["memory_bytes"] / 1024**3
    # a GPU half a GiB larger than the estimate: without headroom it would "fit"; with it, it does not
    code, out, err = cli("select", "--json", "--project", root, "--gpu-memory", f"{need + 0.5:.2f}GiB",
                         "--candidate", "meta-llama/Llama-3.1-8B-Instruct")
    llama = next(c for c in json.loads(out)["candidates"][0]["criteria"] if c["name"] == "memory")
    assert not llama["passed"] and "runtime headroom; does not fit" in llama["reason"], llama
    assert by_id["meta-llama/Llama-3.1-8B-Instruct"]["gated"] and "gated" in by_id[
        "meta-llama/Llama-3.1-8B-Instruct"]["notes"][0]
    assert not by_id["google/flan-t5-base"]["gated"] and not by_id["google/flan-t5-base"]["notes"]
    bert = crit("google-bert/bert-base-uncased", "architecture")
    assert not bert["passed"] and "cannot generate" in bert["reason"]
    assert not by_id["google-bert/bert-base-uncased"]["ok"]


def test_headroom_rule():
    from lifecycle.catalog.memory import MemoryRequest
    from lifecycle.catalog.selection import Budget, memory_verdict, runtime_headroom
    from lifecycle.units import GIB

    assert runtime_headroom(20 * GIB, "gpu") == GIB + GIB  # 1 GiB context + 5% of 20 GiB
    req = MemoryRequest("inference", "bf16", 1, 512, device="gpu")
    ok, reason = memory_verdict(int(23.5 * GIB), req, Budget(24 * GIB, "gpu", "test"))
    assert not ok and "23.5 GiB + 2.2 GiB runtime headroom; does not fit in 24.0 GiB GPU" in reason
    assert memory_verdict(int(20 * GIB), req, Budget(24 * GIB, "gpu", "test"))[0]


def test_encoder_checkpoint_as_an_lm_is_an_error(tiny_bert, tiny_gpt2):
    from lifecycle.errors import ModelLoadError
    from lifecycle.loading import load_model

    with pytest.raises(ModelLoadError) as err:
        load_model(str(tiny_bert), device="cpu", dtype="fp32")
    assert "is not a trained causal LM" in err.value.message and "newly initialised" in err.value.message
    assert "cls.predictions" in err.value.message and "\n" not in err.value.message
    assert load_model(str(tiny_gpt2), device="cpu", dtype="fp32").model is not None


def test_generate_with_an_encoder_writes_nothing(make_project, tiny_bert, cli):
    root = make_project(task="classification", model=tiny_bert)
    code, out, err = cli("generate", "--project", root, "--limit", "2")
    assert code != 0 and "newly initialised" in err and "Traceback" not in err
    assert len([ln for ln in err.strip().splitlines() if ln.startswith("error:")]) == 1
    assert not list((root / "runs").glob("*/predictions.jsonl"))
