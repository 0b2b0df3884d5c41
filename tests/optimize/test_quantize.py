"""`lifecycle optimize quantize`: int8 dynamic quantization into a quantize run, measured against fp32."""

from __future__ import annotations

import json

import pytest


def _run(root, kind):
    (run,) = [p for p in (root / "runs").iterdir() if f"-{kind}-" in p.name]
    return run


def test_quantize_measures_size_speed_and_quality_then_serves(opt_t5, make_project, cli, start_server):
    from dataclasses import replace

    import torch
    import yaml
    from openai import OpenAI

    from lifecycle.generation.engine import Engine
    from lifecycle.optimize.quantize import quantize_int8
    from lifecycle.project import Project
    from lifecycle.serve.model import load_served

    root = make_project("summarization", model=opt_t5, name="p-q")
    res = cli("optimize", "quantize", "--threads", "1", cwd=root)
    assert res.returncode == 0, res.stderr
    run = _run(root, "quantize")
    meta = yaml.safe_load((run / "run.yaml").read_text())
    assert meta["status"] == "complete"
    result = json.loads((run / "quantize.json").read_text())
    # int8 weights are smaller: Linear weights go from 4 bytes to 1 (embeddings and norms stay fp32)
    assert result["size"]["int8_bytes"] < result["size"]["fp32_bytes"]
    assert (run / "model_int8.pt").stat().st_size == result["size"]["int8_bytes"]
    assert result["speed"]["fp32"]["tokens_per_s"] > 0 and result["speed"]["int8"]["tokens_per_s"] > 0
    assert result["n"] == 8
    # the quality delta is the `eval compare` of two eval runs scored on the same eval set
    fp32_eval, int8_eval = result["eval_runs"]["fp32"], result["eval_runs"]["int8"]
    comparison = json.loads((root / "runs" / result["compare_run"] / "comparison.json").read_text())
    assert comparison["baseline_run"] == fp32_eval and comparison["runs"] == [int8_eval]
    for metric, q in result["quality"].items():
        ref = comparison["comparisons"][int8_eval]["metrics"][metric]
        assert q["delta"] == pytest.approx(ref["diff"]) and q["ci"] == pytest.approx(ref["ci"])
        assert q["ci"][0] <= q["delta"] <= q["ci"][1]
    for name, eval_id in (("fp32", fp32_eval), ("int8", int8_eval)):
        eval_meta = yaml.safe_load((root / "runs" / eval_id / "run.yaml").read_text())
        assert eval_meta["kind"] == "eval" and eval_meta["quantize_run"] == run.name and eval_meta["precision"] == name
    assert "paired bootstrap" in (run / "report.md").read_text()

    # the integrate check reads the quality delta of the success metric (rougeL here) from the run record
    from lifecycle.checks import run_checks

    check = lambda: {r.id: r for r in run_checks(root, "integrate", measure=False)}["integrate.quantization_quality"]  # noqa: E731
    r = check()
    assert r.status == "todo" and "no tolerance" in r.message and r.evidence["run"] == run.name
    manifest = (root / "lifecycle.yaml").read_text()
    (root / "lifecycle.yaml").write_text(manifest + "integration:\n  quantization_tolerance: 1.0\n")
    r = check()
    assert r.status == "pass" and r.evidence["delta"] == result["quality"][r.evidence["metric"]]["delta"]

    # serving the quantize run serves the int8 model: same text as the int8 model called directly
    served = load_served(Project(root), run=run.name)
    assert served.run_id == run.name and served.run_kind == "quantize"
    assert served.weights_sha256 == result["weights_sha256"]
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in served.loaded.model.modules())
    prompt = "Summarize the following conversation.\n\n#Person1#: My lamp is broken.\n\nSummary:"
    fp32 = load_served(Project(root))
    direct = Engine(replace(fp32.loaded, model=quantize_int8(fp32.loaded.model)), fp32.settings).generate([prompt])[0].text
    url, _ = start_server(root, run=run.name)
    client = OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
    (model,) = client.models.list().data
    assert model.id == run.name and model.lifecycle["run_kind"] == "quantize"
    out = client.completions.create(model=run.name, prompt=prompt, max_tokens=16, temperature=0)
    assert out.choices[0].text == direct


def test_four_bit_is_refused_on_cpu(opt_t5, make_project, cli):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    root = make_project("summarization", model=opt_t5, name="p-q4")
    res = cli("optimize", "quantize", "--bits", "4", cwd=root)
    assert res.returncode == 1
    assert "needs a CUDA GPU" in res.stderr and "--bits 8" in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert "needs a CUDA GPU" in lines[0] and len(lines) <= 2 and "Traceback" not in res.stderr  # the reason, a hint
    assert not list((root / "runs").iterdir())  # refused before anything was written
