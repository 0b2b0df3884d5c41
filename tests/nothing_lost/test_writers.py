"""Nothing lost: parallel writers, kills at any instant, hostile notes, full disks.

Every fault here is real: parallel processes, SIGKILL/SIGTERM sent to real processes, a real tmpfs
that fills up. Nothing is mocked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lifecycle.locking import append_line
from lifecycle.runs.store import RunStore

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _lifecycle(*args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lifecycle", *map(str, args)], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def tmpfs(tmp_path):
    """tmpfs(size_kib) -> a folder on a real, tiny filesystem that fills up for real."""
    mounts = []

    def make(size_kib: int) -> Path:
        where = tmp_path / f"tmpfs{len(mounts)}"
        where.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"CI must be able to mount a tmpfs (runs as root): {proc.stderr}")
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        mounts.append(where)
        return where

    yield make
    for where in mounts:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(folder: Path, leave_bytes: int) -> None:
    """Take all free space of folder's filesystem but `leave_bytes`."""
    import shutil

    free = shutil.disk_usage(folder).free
    with (folder / "filler.bin").open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave_bytes))


def test_ten_parallel_attestations_all_survive(make_project):
    """10 parallel `check --attest` once all said "attested" and left 4 records."""
    root = make_project("summarization")
    procs = [_lifecycle("check", "--attest", "adapt.human_review", "--note", f"reviewer {i} read 50 outputs", cwd=root)
             for i in range(10)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, [o[1] for o in outs]
    records = yaml.safe_load((root / ".lifecycle" / "attestations.yaml").read_text())["attestations"]
    assert sorted(r["note"] for r in records) == sorted(f"reviewer {i} read 50 outputs" for i in range(10))


def test_an_attestation_note_never_replays_terminal_escapes(make_project, run_cli):
    root = make_project("summarization")
    hostile = "ok \x1b[2J\x1b]0;pwned\x07 done \x7f"
    res = run_cli("check", "--attest", "adapt.human_review", "--note", hostile, cwd=root)
    assert res.returncode == 0, res.stderr
    stored = yaml.safe_load((root / ".lifecycle" / "attestations.yaml").read_text())["attestations"][0]["note"]
    assert "\x1b" not in stored and "\x07" not in stored and "\\x1b[2J" in stored
    shown = run_cli("check", "adapt", cwd=root)
    assert "\x1b" not in shown.stdout + shown.stderr
    too_long = run_cli("check", "--attest", "adapt.human_review", "--note", "x" * 5000, cwd=root)
    assert too_long.returncode != 0 and "at most 2000" in too_long.stderr and "Traceback" not in too_long.stderr


def test_parallel_appends_never_interleave_or_lose_a_line(tmp_path):
    target = tmp_path / "shared.jsonl"
    code = ("import sys, json\nfrom lifecycle.locking import append_line\n"
            "w = sys.argv[1]\n"
            "for i in range(200):\n"
            "    append_line(sys.argv[2], json.dumps({'w': w, 'i': i, 'pad': 'x' * 5000}))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(w), str(target)], env=_env()) for w in range(6)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 6
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == 1200 and len({(r["w"], r["i"]) for r in rows}) == 1200


def test_a_killed_writer_leaves_an_interrupted_run_and_a_live_one_refuses_a_second_writer(tmp_path):
    code = ("import sys, time\nfrom lifecycle.runs.store import RunStore\n"
            "with RunStore(sys.argv[1]).new_run('generate', config={}) as run:\n"
            "    print(run.id, flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], env=_env(), stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    run = RunStore(tmp_path).get(run_id)
    assert run.status == "running" and run.is_being_written()
    from lifecycle.errors import LockedError

    with pytest.raises(LockedError, match=f"run {run_id} is being written by another process \\(pid {proc.pid}\\)"):
        RunStore(tmp_path).get(run_id).claim()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    again = RunStore(tmp_path).get(run_id)
    assert again.recorded_status == "running" and again.status == "interrupted"
    again.claim()  # the writer is gone: a resume may take it over
    again.release()


def test_sigterm_records_interrupted_with_how_to_resume(tmp_path):
    code = ("import sys, time\nfrom lifecycle.runs.store import RunStore\n"
            "from lifecycle.errors import RunInterruptedError\n"
            "try:\n"
            "    with RunStore(sys.argv[1]).new_run('generate', config={}, resume_hint='resume me') as run:\n"
            "        print(run.id, flush=True)\n"
            "        time.sleep(60)\n"
            "except RunInterruptedError as err:\n"
            "    print(err, '|', err.hint, flush=True)\n"
            "    sys.exit(err.exit_code)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], env=_env(), stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in out and "resume me" in out
    meta = yaml.safe_load((tmp_path / run_id / "run.yaml").read_text())
    assert meta["status"] == "interrupted" and "SIGTERM" in meta["error"]


def test_two_eval_resumes_at_once_give_one_writer_and_no_duplicate_predictions(make_project, tiny_t5, run_cli):
    """Two `eval run --resume R` at once used to both exit 0 and leave 18 duplicate predictions."""
    root = make_project("summarization", model=tiny_t5)
    first = run_cli("eval", "run", "--shots", "0", "--limit", "8", "--no-report", cwd=root)
    assert first.returncode == 0, first.stderr
    (run_dir,) = [p for p in (root / "runs").iterdir() if "-eval-" in p.name]
    lines = (run_dir / "predictions.jsonl").read_text().splitlines(keepends=True)
    # the state a kill leaves: two predictions kept, no scores, recorded as running, no live writer
    (run_dir / "predictions.jsonl").write_text("".join(lines[:2]))
    for name in ("metrics.json", "scores.jsonl"):
        (run_dir / name).unlink()
    meta = yaml.safe_load((run_dir / "run.yaml").read_text())
    (run_dir / "run.yaml").write_text(yaml.safe_dump({**meta, "status": "running"}))
    procs = [_lifecycle("eval", "run", "--resume", run_dir.name, "--no-report", cwd=root) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes[0] == 0 and codes[1] != 0, outs
    loser = [err for p, (_, err) in zip(procs, outs) if p.returncode != 0][0]
    assert ("being written by another process" in loser or "already complete" in loser) and "Traceback" not in loser
    ids = [json.loads(line)["id"] for line in (run_dir / "predictions.jsonl").read_text().splitlines()]
    assert len(ids) == 8 and len(set(ids)) == 8
    assert yaml.safe_load((run_dir / "run.yaml").read_text())["status"] == "complete"


def test_a_full_disk_during_eval_is_one_line_and_never_leaves_a_running_run(make_project, tiny_t5, tmpfs, run_cli):
    import shutil

    disk = tmpfs(2048)
    src = make_project("summarization", model=tiny_t5)
    root = disk / "demo"
    shutil.copytree(src, root)
    _fill(disk, 24 * 1024)  # room for run.yaml, not for the predictions of 20 examples with their prompts
    res = run_cli("eval", "run", "--shots", "0", cwd=root)
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.count("error:") == 1 and ("disk is full" in res.stderr or "No space" in res.stderr), res.stderr
    for run_dir in (root / "runs").iterdir():
        if (run_dir / "run.yaml").is_file():
            assert RunStore(root / "runs").get(run_dir.name).status in ("failed", "interrupted")


def test_finetune_checks_free_space_before_it_trains(ft_project, tmpfs, run_cli):
    import shutil

    disk = tmpfs(4096)
    src = ft_project(method="lora", peft={"r": 32}, training={"max_steps": 2, "save_steps": 1})
    root = disk / "demo"
    shutil.copytree(src, root)
    _fill(disk, 256 * 1024)  # run.yaml fits; checkpoints + final adapter (+1 MiB margin) do not
    res = run_cli("finetune", "--no-eval", cwd=root)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "not enough free disk space for the checkpoints and final weights: needs about 1" in res.stderr
    assert "MiB, " in res.stderr and "KiB free" in res.stderr  # sizes a person can read, not "0.00 GiB"
    (run_dir,) = [p for p in (root / "runs").iterdir() if "-finetune-" in p.name]
    assert not list(run_dir.glob("checkpoints/checkpoint-*"))
    assert RunStore(root / "runs").get(run_dir.name).status == "failed"
    (disk / "filler.bin").unlink()
    resumed = run_cli("finetune", "--no-eval", "--resume", cwd=root)
    # no checkpoint was written: the resume says so in one line and points at a new run
    assert resumed.returncode == 1 and "no checkpoint to resume from" in resumed.stderr


@pytest.fixture
def ft_project(make_project, tiny_t5):
    from tests.finetune.conftest import write_finetune_config

    def make(**sections) -> Path:
        root = make_project(task="summarization", model=tiny_t5, adaptation="peft")
        write_finetune_config(root, **sections)
        return root

    return make


def test_a_merge_killed_mid_swap_keeps_the_previous_output(tmp_path):
    """The on-disk state of a kill between the two renames of an --overwrite: the next call restores."""
    from lifecycle.outputs import MARKER, clean_stale_staging, staged_output, write_marker

    target = tmp_path / "merged"
    with staged_output(target, "merged_model", overwrite=False) as staging:
        (staging / "weights.bin").write_bytes(b"first")
    assert (target / MARKER).is_file()
    os.rename(target, tmp_path / f".lifecycle-staging-merged-old-{os.getpid()}")  # killed right here
    assert clean_stale_staging(tmp_path) == [] and (target / "weights.bin").read_bytes() == b"first"
    write_marker(target, "merged_model")
    with staged_output(target, "merged_model", overwrite=True) as staging:
        (staging / "weights.bin").write_bytes(b"second")
    assert (target / "weights.bin").read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]


def test_outputs_never_replace_what_the_tool_did_not_write(tmp_path):
    from lifecycle.outputs import OutputError, staged_output

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("user data")
    with pytest.raises(OutputError, match="did not write"):
        with staged_output(mine, "merged_model", overwrite=True) as staging:
            (staging / "x").write_text("x")
    assert (mine / "keep.txt").read_text() == "user data"
    link = tmp_path / "link"
    link.symlink_to(mine, target_is_directory=True)
    with pytest.raises(OutputError, match="symlink"):
        with staged_output(link, "merged_model", overwrite=True):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "mine"]


def test_append_line_is_usable_from_a_single_process(tmp_path):
    target = tmp_path / "one.jsonl"
    for i in range(3):
        append_line(target, json.dumps({"i": i}))
    assert [json.loads(x)["i"] for x in target.read_text().splitlines()] == [0, 1, 2]


def test_a_predictions_symlink_out_of_the_run_is_never_written_through(tmp_path):
    from lifecycle.errors import RunError

    outside = tmp_path / "outside.jsonl"
    outside.write_text("precious\n")
    with RunStore(tmp_path / "runs").new_run("generate", config={}) as run:
        run.predictions_path.symlink_to(outside)
        with pytest.raises(RunError, match="symlink"):
            run.repair_predictions()
        with pytest.raises(RunError, match="symlink"):
            run.prediction_writer()
        run.finish("failed")
    assert outside.read_text() == "precious\n"


def test_a_checkpoint_check_covers_every_file_the_resume_loads(ft_project):
    import shutil

    from lifecycle.finetune.checkpoints import check_checkpoint
    from lifecycle.finetune.pipeline import FinetuneRequest, finetune
    from lifecycle.project import Project

    root = ft_project(method="lora", training={"max_steps": 1, "save_steps": 1})
    run = finetune(Project(root), FinetuneRequest(evaluate=False, echo=lambda _m: None, argv=["test"]))
    good = run.path / "checkpoints" / "checkpoint-1"
    assert check_checkpoint(good).ok, check_checkpoint(good).problem
    for name, torn in (("rng_state.pth", b"torn"), ("adapter_config.json", b"{"), ("scheduler.pt", b"")):
        copy = good.parent / "copy" / "checkpoint-1"
        shutil.copytree(good, copy)
        (copy / name).write_bytes(torn)
        assert name in (check_checkpoint(copy).problem or ""), name
        shutil.rmtree(copy.parent)


def test_an_interrupt_inside_a_nested_run_marks_both_interrupted(tmp_path):
    """The evaluation after fine-tuning is a run inside a run: Ctrl-C there is an interruption of both."""
    from lifecycle.errors import RunInterruptedError

    store = RunStore(tmp_path)
    with pytest.raises(RunInterruptedError) as caught:
        with store.new_run("finetune", config={}, resume_hint="resume outer") as outer:
            with store.new_run("eval", config={}, resume_hint="resume inner") as inner:
                raise KeyboardInterrupt
    assert caught.value.hint == "resume outer" and outer.id in str(caught.value)
    assert RunStore(tmp_path).get(inner.id).status == "interrupted"
    assert RunStore(tmp_path).get(outer.id).status == "interrupted"


def test_a_finished_run_refuses_every_later_write_of_its_record(tmp_path):
    """Finished runs are immutable at the store: run.yaml of a complete run is never rewritten, also
    through a Run object that read the record while the run was still running."""
    from lifecycle.errors import RunError
    from lifecycle.runs.store import Run

    store = RunStore(tmp_path / "runs")
    run = store.create("eval", config={"shots": 0})
    early = Run(run.path)
    assert early.meta["status"] == "running"  # read before the run finished
    run.update_meta(budget={"k": 0})
    run.finish("complete", examples=3)
    before = (run.path / "run.yaml").read_bytes()
    with pytest.raises(RunError, match="never changed; cannot record targets"):
        early.update_meta(targets=[])
    with pytest.raises(RunError, match="never changed"):
        run.finish("failed")
    assert (run.path / "run.yaml").read_bytes() == before
    assert Run(run.path).meta["examples"] == 3
