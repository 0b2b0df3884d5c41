"""`lifecycle optimize export`: a vLLM-ready folder for decoder-only models, a clear refusal for T5."""

from __future__ import annotations

import json


def test_export_decoder_only_for_vllm(opt_gpt2, make_project, cli):
    import torch
    import yaml
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = make_project("summarization", model=opt_gpt2, name="p-export")
    res = cli("optimize", "export", "--name", "support-bot", cwd=root)
    assert res.returncode == 0, res.stderr
    (run,) = [p for p in (root / "runs").iterdir() if "-export-" in p.name]
    meta = yaml.safe_load((run / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["export"]["target"] == "vllm"
    # the folder loads with plain transformers and holds the same weights
    exported = AutoModelForCausalLM.from_pretrained(run / "model")
    original = AutoModelForCausalLM.from_pretrained(opt_gpt2)
    for (name, a), (_, b) in zip(original.state_dict().items(), exported.state_dict().items()):
        assert torch.equal(a, b), name
    assert AutoTokenizer.from_pretrained(run / "model").pad_token is not None
    script = (run / "serve_vllm.sh").read_text()
    assert f"vllm serve {run / 'model'} --served-model-name support-bot --max-model-len 512" in script
    docker = (run / "Dockerfile").read_text().splitlines()
    assert docker[2].startswith("FROM vllm/vllm-openai:")
    assert "COPY model /models/support-bot" in docker
    cmd = json.loads(next(x for x in docker if x.startswith("CMD "))[4:])
    assert cmd[:3] == ["/models/support-bot", "--served-model-name", "support-bot"]
    assert any(x.startswith("HEALTHCHECK") and "/health" in x for x in docker)
    assert meta["export"]["weights_sha256"]


def test_export_refuses_encoder_decoder_with_the_supported_path(opt_t5, make_project, cli):
    root = make_project("summarization", model=opt_t5, name="p-export-t5")
    res = cli("optimize", "export", cwd=root)
    assert res.returncode == 1
    assert "encoder-decoder" in res.stderr and "vLLM serves decoder-only" in res.stderr
    assert "lifecycle serve" in res.stderr
    assert not list((root / "runs").iterdir())
