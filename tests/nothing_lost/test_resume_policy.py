"""One resume policy (lifecycle.runs.resume) for `lifecycle generate --resume` and
`lifecycle eval run --resume`: a complete run, a changed dataset file and another model in
configs/model.yaml are each refused in one line with a non-zero exit and the run left as it was;
with the inputs put back, the same interrupted run finishes in place.

Real runs on a tiny model, interrupted the way a kill leaves them (a torn predictions file, no
scores, `running`/`interrupted` in run.yaml)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from lifecycle.runs.store import RunStore

START = {"generate": ("generate", "--limit", "3", "--show", "0", "--no-progress"),
         "eval": ("eval", "run", "--shots", "0", "--limit", "3", "--no-report")}
RESUME = {"generate": ("generate", "--resume", "{id}", "--show", "0", "--no-progress"),
          "eval": ("eval", "run", "--resume", "{id}", "--no-report")}


@pytest.fixture
def lifecycle(monkeypatch, capsys):
    """lifecycle(*args, cwd=...) -> exit code, stdout, stderr of the real entry point, in this process."""
    from lifecycle.cli.main import run

    def invoke(*args, cwd: Path):
        argv = [str(a) for a in args]
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["lifecycle", *argv])
        capsys.readouterr()
        try:
            run(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

    return invoke


def _one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip() and not x.lstrip().startswith(("hint", "→"))]
    assert "Traceback" not in err, err
    return lines[0] if lines else ""


def _interrupt(run_path: Path, status: str) -> str:
    """The state a kill leaves: one full prediction, a torn second one, no scores."""
    preds = run_path / "predictions.jsonl"
    lines = preds.read_text(encoding="utf-8").splitlines(keepends=True)
    preds.write_text(lines[0] + lines[1][:15], encoding="utf-8")
    for name in ("metrics.json", "scores.jsonl"):
        (run_path / name).unlink(missing_ok=True)
    meta = yaml.safe_load((run_path / "run.yaml").read_text(encoding="utf-8"))
    (run_path / "run.yaml").write_text(yaml.safe_dump({**meta, "status": status}), encoding="utf-8")
    return preds.read_text(encoding="utf-8")


def _files(run_path: Path) -> dict:
    return {p.name: p.read_bytes() for p in run_path.iterdir() if p.is_file() and not p.name.startswith(".")}


def _refused(lifecycle, command: str, run_path: Path, root: Path, *needles: str) -> None:
    before = _files(run_path)
    r = lifecycle(*(a.format(id=run_path.name) for a in RESUME[command]), cwd=root)
    line = _one_line(r.stderr)
    assert r.returncode != 0, r.stdout + r.stderr
    for needle in needles:
        assert needle in line, r.stderr
    assert _files(run_path) == before  # a refused resume writes nothing
    assert len(RunStore(root / "runs").list(status=None)) == 1  # and starts no run


@pytest.mark.slow
@pytest.mark.parametrize("command", ["generate", "eval"])
def test_resume_refuses_a_complete_run_a_changed_dataset_and_another_model(command, make_project, tiny_t5,
                                                                           lifecycle):
    root = make_project("summarization", model=tiny_t5)
    r = lifecycle(*START[command], cwd=root)
    assert r.returncode == 0, r.stderr
    (run,) = RunStore(root / "runs").list(status=None)
    complete = {json.loads(x)["id"]: json.loads(x)["prediction"]
                for x in run.predictions_path.read_text(encoding="utf-8").splitlines()}

    # finished runs are never changed
    _refused(lifecycle, command, run.path, root, "already complete", "finished runs are never changed")

    kept = _interrupt(run.path, "interrupted" if command == "generate" else "running")

    # the dataset file the run recorded changed (one example more): sha256 differs
    data = Path(run.meta["dataset"]["path"])
    original_data = data.read_text(encoding="utf-8")
    first = json.loads(original_data.splitlines()[0])
    data.write_text(original_data + json.dumps({**first, "id": "added-later"}) + "\n", encoding="utf-8")
    _refused(lifecycle, command, run.path, root, f"the dataset {data} changed since run {run.id} started",
             "sha256 differs")
    data.write_text(original_data, encoding="utf-8")

    # another model in configs/model.yaml
    model_yaml = root / "configs" / "model.yaml"
    original_model = model_yaml.read_text(encoding="utf-8")
    model_yaml.write_text(original_model.replace(f"model: {tiny_t5}", "model: someone/another-model"),
                          encoding="utf-8")
    _refused(lifecycle, command, run.path, root, f"run {run.id} was started with model {tiny_t5}",
             f"model: '{tiny_t5}' -> 'someone/another-model'", "resuming would mix two models' predictions")
    model_yaml.write_text(original_model, encoding="utf-8")

    # inputs as recorded: the same run finishes in place, the finished example kept
    assert run.predictions_path.read_text(encoding="utf-8") == kept
    r = lifecycle(*(a.format(id=run.id) for a in RESUME[command]), cwd=root)
    assert r.returncode == 0, r.stderr
    lines = run.predictions_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == kept.splitlines()[0]
    assert {json.loads(x)["id"]: json.loads(x)["prediction"] for x in lines} == complete  # greedy: same outputs
    assert RunStore(root / "runs").get(run.id).meta["status"] == "complete"
    assert len(RunStore(root / "runs").list(status=None)) == 1


def test_a_run_of_another_kind_is_refused_by_both_commands(make_project, lifecycle, tmp_path):
    """The policy's kind check, on run folders as each command leaves them (no model needed)."""
    root = make_project("summarization")
    store = RunStore(root / "runs")
    gen = store.create("generate", config={"shots": 0})
    scored = store.create("eval", config={}, extra={"eval": {"source": "predictions:x.jsonl"}})
    for command, run, needle in (("eval", gen, "is a 'generate' run, not a generated eval run"),
                                 ("eval", scored, "is not a generated eval run"),
                                 ("generate", scored, "is a 'eval' run, not a 'generate' run")):
        r = lifecycle(*(a.format(id=run.id) for a in RESUME[command]), cwd=root)
        assert r.returncode != 0 and needle in _one_line(r.stderr), r.stderr
        assert run.meta["status"] == RunStore(root / "runs").get(run.id).meta["status"]


@pytest.mark.slow
def test_a_generate_run_started_with_model_resumes_against_that_model(make_project, tiny_t5, lifecycle):
    """`--model` is what the run's model is compared with (configs/model.yaml names another one)."""
    root = make_project("summarization")  # configs/model.yaml: a hub id, never loaded here
    r = lifecycle("generate", "--model", tiny_t5, "--limit", "3", "--show", "0", "--no-progress", cwd=root)
    assert r.returncode == 0, r.stderr
    (run,) = RunStore(root / "runs").list(status=None)
    assert run.meta["config"]["model_option"] == str(tiny_t5)
    _interrupt(run.path, "interrupted")
    r = lifecycle(*(a.format(id=run.id) for a in RESUME["generate"]), cwd=root)
    assert r.returncode == 0, r.stderr
    assert "2 generated, 1 already done" in r.stdout
    assert RunStore(root / "runs").get(run.id).meta["status"] == "complete"
