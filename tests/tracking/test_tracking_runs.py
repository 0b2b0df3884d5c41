"""`lifecycle runs ls / rm`: listing with the key metric, and guarded removal."""

from __future__ import annotations

import os


def test_ls_shows_kind_status_and_the_success_metric_with_its_interval(make_project, add_eval_run, cli):
    root = make_project()
    run = add_eval_run(root, value=0.312, ci=(0.28, 0.34))
    code, out, _ = cli("runs", "ls", "-p", root)
    assert code == 0
    [line] = [l for l in out.splitlines() if l.startswith(run.id)]
    assert "eval" in line and "complete" in line and "rougeL 0.312 [0.28, 0.34]" in line
    code, out, _ = cli("runs", "ls", "--kind", "finetune", "-p", root)
    assert run.id not in out


def test_rm_refuses_evidence_and_running_runs_unless_forced(make_project, add_eval_run, cli):
    root = make_project()
    baseline = add_eval_run(root, shots=0)            # the zero-shot baseline checks read
    code, _, err = cli("runs", "rm", baseline.id, "-p", root)
    assert code == 1 and "evidence for" in err and "adapt." in err and baseline.path.is_dir()
    code, out, _ = cli("runs", "rm", baseline.id, "--force", "-p", root)
    assert code == 0 and "removed" in out and not baseline.path.exists()
    live = add_eval_run(root, shots=1, finish=False)  # this process still writes it
    code, _, err = cli("runs", "rm", live.id, "-p", root)
    assert code == 1 and "is running" in err and live.path.is_dir()
    live.finish()


def test_rm_never_leaves_runs_and_never_follows_symlinks(make_project, add_eval_run, cli, tmp_path):
    root = make_project()
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "run.yaml").write_text("kind: eval\nstatus: complete\n")
    code, _, err = cli("runs", "rm", str(outside), "-p", root)
    assert code == 1 and "not a run folder of this project" in err and outside.is_dir()
    link = root / "runs" / "20990101T000000000000Z-eval-link000"
    os.symlink(outside, link)
    code, _, err = cli("runs", "rm", str(link), "-p", root)
    assert code == 1 and "symlink" in err and (outside / "run.yaml").is_file()
    (root / "runs" / "not-a-run").mkdir()
    code, _, err = cli("runs", "rm", str(root / "runs" / "not-a-run"), "-p", root)
    assert code == 1 and "no run.yaml" in err and (root / "runs" / "not-a-run").is_dir()
    code, _, err = cli("runs", "rm", "nope", "-p", root)
    assert code == 1
