"""The promptfoo export reproduces `lifecycle eval run`: its python provider (the file promptfoo calls
as `call_api(prompt, options, context)`) returns our predictions, its assertion scores our metric
without genai-lifecycle installed, and the real promptfoo gives the same outputs where it is installed
(Node >= 22.22 and `promptfoo` on PATH, or LIFECYCLE_PROMPTFOO=/path/to/promptfoo)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from eval_helpers import run_dirs


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run_cli(cwd: Path, *args: str) -> None:
    """`lifecycle ARGS` in this process (module-scoped fixtures cannot use capsys)."""
    from lifecycle.cli.main import run

    old = Path.cwd()
    os.chdir(cwd)
    try:
        run(list(args))
    except SystemExit as exc:
        assert not exc.code, f"lifecycle {' '.join(args)} exited {exc.code}"
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def exported(tiny_t5, tmp_path_factory):
    """One zero-shot eval run of the tiny T5, re-scored against references that half overlap its
    outputs (a random model scores ~0 ROUGE, which would make "metric equal" vacuous), then exported.
    Zero-shot prompts do not contain the references, so the predictions are the run's."""
    from lifecycle.testing.project import write_project

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    project = write_project(tmp_path_factory.mktemp("pf") / "demo", "summarization", str(tiny_t5),
                            fixtures / "summarization.jsonl")
    _run_cli(project, "eval", "run", "--shots", "0", "--no-report")
    (first,) = run_dirs(project)
    preds = {r["id"]: r["prediction"] for r in map(json.loads, (first / "predictions.jsonl").read_text().splitlines())}
    data_path = project / "data" / "sample.jsonl"
    data = [json.loads(x) for x in data_path.read_text().splitlines()]
    for i, row in enumerate(data):
        if i % 2 == 0:
            row["summary"] = preds[row["id"]] + " and the order ships today"
    data_path.write_text("".join(json.dumps(r) + "\n" for r in data))
    _run_cli(project, "eval", "run", "--rescore", first.name, "--no-report")
    run = run_dirs(project)[-1]
    _run_cli(project, "eval", "export", "--to", "promptfoo")
    ours = {r["id"]: r for r in map(json.loads, (run / "predictions.jsonl").read_text().splitlines())}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["metrics"]["rougeL"]["value"] > 0.05
    return project, project / "exports" / "promptfoo", ours, metrics


def test_config_uses_the_local_provider_and_only_our_metric(exported):
    project, folder, ours, _ = exported
    text = (folder / "promptfooconfig.yaml").read_text()
    cfg = yaml.safe_load(text)
    assert cfg["providers"][0]["id"] == "file://lifecycle_provider.py"  # not the hosted HF API
    assert "PROMPTFOO_PYTHON" in text and "Node >= 22" in text
    assert len(cfg["tests"]) == len(ours)
    for t in cfg["tests"]:
        assert [a["type"] for a in t["assert"]] == ["python"] and t["assert"][0]["metric"] == "rougeL"
    assert str(project) not in (folder / "lifecycle_provider.py").read_text()  # relative to the file


def test_provider_file_returns_our_predictions(exported):
    project, folder, ours, _ = exported
    provider = _load(folder / "lifecycle_provider.py", "lifecycle_provider_under_test")
    cfg = yaml.safe_load((folder / "promptfooconfig.yaml").read_text())
    template = cfg["prompts"][0]
    same = 0
    for t in cfg["tests"]:
        prompt = template.replace("{{dialogue}}", t["vars"]["dialogue"])  # what promptfoo renders
        res = provider.call_api(prompt, {}, {"vars": t["vars"]})
        assert res["metadata"]["prompt_as_promptfoo_shows"] is True
        assert prompt == ours[t["vars"]["id"]]["prompt"]
        same += res["output"] == ours[t["vars"]["id"]]["prediction"]
    assert same == len(ours), f"{same}/{len(ours)} predictions equal"


def test_assertion_scores_our_metric_without_lifecycle(exported, tmp_path):
    from lifecycle.evaluation.metrics.registry import compute_metrics

    project, folder, ours, metrics = exported
    cfg = yaml.safe_load((folder / "promptfooconfig.yaml").read_text())
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "lifecycle.py").write_text("raise ImportError('genai-lifecycle is not installed here')\n")
    cases = [(t["vars"]["references"][0], t["vars"]) for t in cfg["tests"]] + \
            [(ours[t["vars"]["id"]]["prediction"], t["vars"]) for t in cfg["tests"]]
    script = ("import json, sys, importlib.util as u\n"
              "s = u.spec_from_file_location('a', sys.argv[1]); m = u.module_from_spec(s); s.loader.exec_module(m)\n"
              "print(json.dumps([m.get_assert(o, {'vars': v}) for o, v in json.loads(sys.stdin.read())]))\n")
    res = subprocess.run([sys.executable, "-c", script, str(folder / "lifecycle_assert.py")],
                         input=json.dumps(cases), capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(blocker)})
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout)
    want = compute_metrics(["rougeL"], [o for o, _ in cases], [v["references"] for _, v in cases])["rougeL"]
    assert [g["score"] for g in got] == pytest.approx(list(want.per_example), abs=1e-12)
    assert all(g["pass"] for g in got[:len(ours)])  # a reference scores 1.0 against itself
    assert all(g["pass"] == (g["score"] >= 0.3) for g in got)


def _promptfoo() -> str | None:
    exe = os.environ.get("LIFECYCLE_PROMPTFOO") or shutil.which("promptfoo")
    if not exe:
        return None
    res = subprocess.run(["node", "--version"], capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{Path(exe).parent}{os.pathsep}{os.environ['PATH']}"})
    major = int(res.stdout.strip().lstrip("v").split(".")[0]) if res.returncode == 0 else 0
    return exe if major >= 22 else None


@pytest.mark.slow
def test_real_promptfoo_gives_our_outputs(exported, tmp_path):
    exe = _promptfoo()
    if exe is None and os.environ.get("CI"):  # .ci/run installs it: in CI a missing tool is a failure
        pytest.fail("promptfoo with Node >= 22 is missing: .ci/run installs it (npm) and sets LIFECYCLE_PROMPTFOO")
    if exe is None:
        pytest.skip("promptfoo with Node >= 22 is not installed (npm install promptfoo@0.123.1 node@22; "
                    "set LIFECYCLE_PROMPTFOO to its bin/promptfoo)")
    project, folder, ours, metrics = exported
    out = tmp_path / "promptfoo.json"
    env = {**os.environ, "PATH": f"{Path(exe).parent}{os.pathsep}{os.environ['PATH']}",
           "PROMPTFOO_PYTHON": sys.executable, "PROMPTFOO_DISABLE_TELEMETRY": "1",
           "PROMPTFOO_DISABLE_UPDATE": "1", "PROMPTFOO_CONFIG_DIR": str(tmp_path / "pf")}
    res = subprocess.run([exe, "eval", "-c", str(folder / "promptfooconfig.yaml"), "--no-cache", "-j", "1",
                          "--no-progress-bar", "-o", str(out)], capture_output=True, text=True, env=env,
                         cwd=project, timeout=900)
    assert out.is_file(), (res.stdout + res.stderr)[-3000:]
    results = json.loads(out.read_text())["results"]["results"]
    assert len(results) == len(ours)
    same = sum(r["response"]["output"] == ours[r["vars"]["id"]]["prediction"] for r in results)
    assert same == len(ours), f"{same}/{len(ours)} outputs equal"
    scores = [r["gradingResult"]["componentResults"][0]["score"] for r in results]
    assert sum(scores) / len(scores) == pytest.approx(metrics["metrics"]["rougeL"]["value"], abs=1e-12)
