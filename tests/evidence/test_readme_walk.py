"""Every step of the README's path works on a fresh project (issue 10 item 8): the command list of
README.md ("The path, command by command") and the generated project's "Next steps", run as
written with the real CLI in subprocesses, offline, with a tiny local model. The only
substitutions are the ones a reader makes: run ids for RUN_A/RUN_B/RUN, the offline model folder
after `select --apply` (the README's offline note), and fewer fine-tuning steps."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from lifecycle.runs.store import RunStore

REPO = Path(__file__).resolve().parents[2]
# the catalog's memory estimates (fake-tensor simulation of several models) are tested in tests/catalog
SLOW = ("lifecycle models estimate", "lifecycle select --gpu-memory")


def _commands(text: str, first: str) -> list[str]:
    """The lines of the first ```bash block that contains `first`, continuations joined, comments cut."""
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        if first in block:
            joined = block.replace("\\\n", " ")
            lines = [re.sub(r"\s+#.*$", "", line).strip() for line in joined.splitlines()]
            return [line for line in lines if line and not line.startswith("#")]
    raise AssertionError(f"no ```bash block with {first!r} in the README")


def _no_traceback(res) -> None:
    assert "Traceback" not in res.stderr, res.stderr


@pytest.mark.slow
def test_the_readme_path_runs_on_a_fresh_project(tmp_path, tiny_t5, run_cli):
    steps = _commands((REPO / "README.md").read_text(encoding="utf-8"), "lifecycle new support-summarizer")
    root = tmp_path / "support-summarizer"
    ran = []
    for line in steps:
        args = line.split()
        if line == "lifecycle new support-summarizer":
            continue  # the wizard (needs a terminal); the next line is the same with --no-input
        if line.startswith(SLOW):
            continue  # minutes of memory simulation on 2 cores; tests/catalog runs them
        if args[0] == "cd":
            assert (tmp_path / args[1]).resolve() == root and root.is_dir()
            shutil.copytree(tiny_t5, root / "models" / "tiny-t5")  # the offline model folder
            continue
        assert args[0] == "lifecycle", line
        args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line)][1:]
        runs = RunStore(root / "runs") if root.is_dir() else None
        if "RUN_A" in args:
            evals = [r for r in runs.list(kind="eval") if r.meta.get("eval", {}).get("source") == "generated"
                     and "sweep" not in r.meta]  # the `eval run --shots 0,1,3` ladder: 0-shot vs 3-shot
            args = [evals[0].id if a == "RUN_A" else evals[-1].id if a == "RUN_B" else a for a in args]
        if args[:2] == ["finetune", "merge"]:
            args = ["finetune", "merge", runs.list(kind="finetune")[-1].id]
        if args[:1] == ["finetune"] and "--max-steps" in args:
            args[args.index("--max-steps") + 1] = "4"
        cwd = tmp_path if args[0] == "new" else root
        started = time.perf_counter()
        res = run_cli(*args, cwd=cwd)
        print(f"{time.perf_counter() - started:6.1f} s  lifecycle {' '.join(args)}")
        _no_traceback(res)
        ran.append(" ".join(args))
        if args[:2] == ["finetune", "--resume"]:
            # the README runs it "after a crash"; with nothing interrupted it says so in one line
            assert res.returncode != 0 and "resum" in res.stderr.lower() and len(res.stderr.strip().splitlines()) <= 2
            continue
        if args[:2] == ["check", "scope"]:
            assert res.returncode in (0, 1), res.stderr  # --strict: 1 while the use case is TODO
            continue
        assert res.returncode == 0, f"`lifecycle {' '.join(args)}` failed:\n{res.stdout}\n{res.stderr}"
        if args[:2] == ["select", "--apply"] and args[2] != "models/tiny-t5":
            res = run_cli("select", "--apply", "models/tiny-t5", cwd=root)  # the README's offline note
            assert res.returncode == 0, res.stderr
    assert len(ran) >= 17  # every line but the wizard and the three memory-simulation lines
    # the evidence the path leaves behind is readable by the board and the checks
    for cmd in (["status"], ["validate"], ["check", "adapt"]):
        res = run_cli(*cmd, cwd=root)
        _no_traceback(res)
        assert res.returncode in (0, 1), res.stderr
    # the README's fine-tune trained on data/train.jsonl, held out from the eval set
    from lifecycle.checks import run_checks

    disjoint = {r.id: r for r in run_checks(root, "adapt")}["adapt.train_eval_disjoint"]
    assert disjoint.status == "pass" and disjoint.evidence["train"] == "data/train.jsonl", disjoint.message
    # and the project's own tests still pass
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=root,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:]
