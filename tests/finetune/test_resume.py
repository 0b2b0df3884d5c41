"""Crash-safe resume: SIGKILL mid-run (and a torn newest checkpoint), then --resume ends with the
same weights as an uninterrupted run; changed inputs are refused; a full disk keeps the previous
checkpoint."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lifecycle.errors import FinetuneError
from lifecycle.finetune.pipeline import FinetuneRequest, finetune
from lifecycle.project import Project
from tests.finetune.conftest import finetune_runs, write_finetune_config

RESUME_CFG = dict(method="lora", peft={"r": 4, "alpha": 8, "dropout": 0.1},
                  training={"max_steps": 6, "save_steps": 2, "save_total_limit": 3, "logging_steps": 1,
                            "batch_size": 2})


def _train(root, **req):
    lines: list[str] = []
    run = finetune(Project(root), FinetuneRequest(evaluate=False, echo=lines.append, argv=["test"], **req))
    return run, "\n".join(lines)


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def _assert_same(a: dict, b: dict) -> None:
    import torch

    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(root: Path, *args, preexec=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lifecycle", "finetune", "--no-eval", *args], cwd=root,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=preexec)


def _kill_when(proc: subprocess.Popen, path_glob: str, root: Path, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if list(root.glob(path_glob)):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        if proc.poll() is not None:
            pytest.fail("training ended before it could be killed:\n" + proc.stdout.read())
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"{path_glob} never appeared")


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_uninterrupted_run(ft_project, run_cli):
    reference = ft_project(name="reference", **RESUME_CFG)
    ref_run, ref_out = _train(reference)
    ref_trainable = yaml.safe_load((ref_run.path / "run.yaml").read_text())["training"]["trainable_params"]

    root = ft_project(name="crashed", **RESUME_CFG)
    proc = _start(root)
    _kill_when(proc, "runs/*-finetune-*/checkpoints/checkpoint-4", root)
    assert proc.returncode == -signal.SIGKILL
    run_dir = finetune_runs(root)[-1]
    assert yaml.safe_load((run_dir / "run.yaml").read_text())["status"] == "running"
    # The kill may have landed mid-save; make sure the newest checkpoint is torn, as after a kill
    # during the weights write: the resume must fall back to checkpoint-2 with a warning.
    newest = run_dir / "checkpoints" / "checkpoint-4"
    newest.mkdir(exist_ok=True)
    (newest / "adapter_model.safetensors").write_bytes(b"\x00" * 10)
    (newest / "trainer_state.json").unlink(missing_ok=True)

    res = run_cli("finetune", "--resume", "--no-eval", cwd=root, env={"PYTHONPATH": _env()["PYTHONPATH"]})
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert "skipped incomplete checkpoint(s) checkpoint-4" in out and "resuming from checkpoint-2" in out
    assert f"trainable params {ref_trainable:,}" in out  # the resumed adapter is trainable
    meta = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["training"]["global_step"] == 6
    assert meta["resumed_from"] == "checkpoint-2"
    assert (run_dir / "checkpoints" / "torn-checkpoint-4").is_dir()
    _assert_same(_weights(ref_run.path / "adapter"), _weights(run_dir / "adapter"))


@pytest.mark.slow
def test_disk_full_while_saving_keeps_the_previous_checkpoint(ft_project):
    import resource

    # r=32: the adapter file is ~96 KiB, far above the 16 KiB file-size limit set below, while
    # run.yaml (written when the failure is recorded) stays under it.
    root = ft_project(name="diskfull", **{**RESUME_CFG, "peft": {"r": 32}})
    proc = _start(root, preexec=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN))  # EFBIG, not death
    deadline = time.time() + 300
    while not list(root.glob("runs/*-finetune-*/checkpoints/checkpoint-2/trainer_state.json")):
        assert proc.poll() is None and time.time() < deadline, proc.stdout.read() if proc.poll() is not None else ""
        time.sleep(0.02)
    # From now on every write past 16 KiB fails, as on a full disk.
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 1, out
    assert "error: saving checkpoint-4 failed (the disk is full); the previous checkpoint checkpoint-2 is intact" in out
    run_dir = finetune_runs(root)[-1]
    from lifecycle.finetune.checkpoints import check_checkpoint, last_complete_checkpoint

    assert check_checkpoint(run_dir / "checkpoints" / "checkpoint-2").ok
    assert not check_checkpoint(run_dir / "checkpoints" / "checkpoint-4").ok
    assert last_complete_checkpoint(run_dir / "checkpoints", warn=lambda _m: None).name == "checkpoint-2"
    assert yaml.safe_load((run_dir / "run.yaml").read_text())["status"] == "failed"


def test_resume_without_any_run_or_checkpoint_is_a_clear_error(ft_project):
    root = ft_project(training={"max_steps": 1, "save_strategy": "no"})
    with pytest.raises(FinetuneError, match="no finetune run to resume"):
        _train(root, resume=True)
    project = Project(root)
    from lifecycle.finetune.runs import create_run

    model_cfg, prompt_cfg, ft = project.model_config(), project.prompt_config(), project.finetune_config()
    run = create_run(project, model_cfg=model_cfg, ft=ft, prompt_cfg=prompt_cfg, argv=["test"])
    with pytest.raises(FinetuneError, match="no finetune run to resume"):  # its writer (this test) is alive
        _train(root, resume=True)
    run.release()  # as if the process that created it had died
    with pytest.raises(FinetuneError, match="no checkpoint to resume from"):
        _train(root, resume=True)
    torn = run.path / "checkpoints" / "checkpoint-2"
    torn.mkdir(parents=True)
    (torn / "trainer_state.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(FinetuneError, match="no complete checkpoint in .*checkpoint-2: trainer_state.json does not parse"):
        _train(root, resume=True)


def test_resume_with_changed_data_model_or_method_is_refused_unless_forced(ft_project, tiny_gpt2):
    root = ft_project(training={"max_steps": 2, "save_steps": 2})
    run, _ = _train(root)
    meta = dict(run.meta)  # pretend it died after its checkpoint, before the final save
    meta.pop("training")
    run.write_meta({**meta, "status": "failed"})
    shutil.rmtree(run.path / "adapter")
    data = root / "data" / "sample.jsonl"
    data.write_text(data.read_text(encoding="utf-8").replace("lamp", "lantern"), encoding="utf-8")
    with pytest.raises(FinetuneError, match=r"changed since it started: data \(train_sha256\)"):
        _train(root, resume=True)
    with pytest.raises(FinetuneError, match=r"; method \(method\)"):
        _train(root, resume=True, method="ia3")
    model_yaml = root / "configs" / "model.yaml"
    original = model_yaml.read_text(encoding="utf-8")
    model_yaml.write_text(original.replace(str(Project(root).model_config().model), str(tiny_gpt2)), encoding="utf-8")
    with pytest.raises(FinetuneError, match=r"changed since it started: model \(config_sha256, id, weights_sha256\)"):
        _train(root, resume=True)
    model_yaml.write_text(original, encoding="utf-8")
    resumed, out = _train(root, resume=True, force=True, max_steps=3)
    assert "--force: resuming run" in out
    meta = yaml.safe_load((resumed.path / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["training"]["global_step"] == 3


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def test_a_complete_run_is_never_resumed_or_changed(ft_project, run_cli):
    """`--resume --run <complete run>` once trained a step past max_steps and overwrote the adapter."""
    root = ft_project(training={"max_steps": 2, "save_steps": 1})
    run, _ = _train(root)
    before = _tree(run.path)
    for args in (("--resume", "--run", run.id), ("--resume",), ("--resume", "--run", run.id, "--force", "--max-steps", "4")):
        res = run_cli("finetune", *args, "--no-eval", cwd=root)
        assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
        assert "complete" in res.stderr.splitlines()[0] and "lifecycle finetune" in res.stderr
    assert _tree(run.path) == before


def test_changed_hyperparameters_are_refused_and_a_forced_resume_is_recorded(ft_project):
    root = ft_project(training={"max_steps": 2, "save_steps": 2})
    run, _ = _train(root)
    meta = dict(run.meta)
    meta.pop("training")
    run.write_meta({**meta, "status": "interrupted"})
    shutil.rmtree(run.path / "adapter")
    write_finetune_config(root, training={"max_steps": 2, "save_steps": 2, "learning_rate": 0.5})
    with pytest.raises(FinetuneError, match=r"changed since it started: training \(learning_rate\)"):
        _train(root, resume=True)
    resumed, out = _train(root, resume=True, force=True)
    meta = yaml.safe_load((resumed.path / "run.yaml").read_text())
    assert meta["status"] == "complete"
    assert meta["forced_resumes"][0]["changes"] == ["training (learning_rate)"]


@pytest.mark.slow
def test_sigterm_marks_the_run_interrupted_and_a_second_resumer_is_refused(ft_project):
    # many steps: the first trainer is certainly still running when the second resumer starts
    root = ft_project(name="term", **{**RESUME_CFG, "training": {**RESUME_CFG["training"], "max_steps": 2000}})
    proc = _start(root)
    deadline = time.time() + 300
    while not list(root.glob("runs/*-finetune-*/checkpoints/checkpoint-2/trainer_state.json")):
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.02)
    run_dir = finetune_runs(root)[-1]
    # while it trains, a second writer on the same run gets one line, not a second trainer
    second = subprocess.run([sys.executable, "-m", "lifecycle", "finetune", "--no-eval", "--resume", "--run",
                             run_dir.name], cwd=root, env=_env(), capture_output=True, text=True, timeout=120)
    assert second.returncode == 1 and "being written by another process" in second.stderr, second.stderr
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert f"lifecycle finetune --resume --run {run_dir.name}" in out and "Traceback" not in out
    meta = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert meta["status"] == "interrupted"
    from lifecycle.finetune.checkpoints import last_complete_checkpoint

    step = int(last_complete_checkpoint(run_dir / "checkpoints", warn=lambda _m: None).name.split("-")[1])
    resumed = subprocess.run([sys.executable, "-m", "lifecycle", "finetune", "--no-eval", "--resume",
                              "--max-steps", str(step + 2)], cwd=root, env=_env(), capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert yaml.safe_load((run_dir / "run.yaml").read_text())["status"] == "complete"
