"""`lifecycle upgrade` wall time against a fresh `lifecycle new`, and the upgrade matrix counts.

    python benchmarks/bench_upgrade.py [--runs 5] [--no-matrix]

1. CLI, interleaved (A, B, A, B, ...) so machine load hits both alike; median wall time:
     A `lifecycle upgrade --force` of a project made by template 1 with user edits (README prose,
       a config value, a custom metric, an added dependency, a decision in lifecycle.yaml, a deleted
       file) to the shipped latest
     B `lifecycle new demo --no-input --task summarization` (the baseline: rendering from scratch)
   The upgrade renders the template twice (old and new) and merges file by file, so a ratio near 2
   is the cost of doing it right; the goal is < 3.
2. The must-show matrix (tests/upgrade/upgrade_matrix.py): every user edit against every template
   change, counts of edits kept, changes applied and overlaps reported as conflicts; then the same
   matrix merged line by line only (the baseline before lifecycle.yaml and configs were merged key
   by key), to count the false conflicts the YAML merge removes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "upgrade"))


def _time(cmd: list[str], cwd: Path, env: dict, out: list | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if out is not None:
        out.append(proc.stdout)
    return elapsed


def _v1_project(pristine: Path, dest: Path) -> Path:
    from upgrade_matrix import PKG, USER_EDITS

    shutil.copytree(pristine, dest, symlinks=True)
    for edit in USER_EDITS:
        edit.apply(dest, PKG)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-matrix", action="store_true", help="skip the matrix counts")
    args = parser.parse_args()

    from lifecycle.scaffold.answers import Answers
    from lifecycle.scaffold.render import NewProject, render_project
    from upgrade_matrix import NAME, PKG, V1

    lifecycle = [sys.executable, "-m", "lifecycle"]
    with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "HOME": str(tmp)}
        pristine = tmp / "pristine" / NAME
        pristine.parent.mkdir()
        render_project(NewProject(Answers(name=NAME, use_case="summarize support chats", task="summarization"),
                                  pristine, template=V1))
        from upgrade_matrix import USER_EDITS

        upgrade, new, outputs = [], [], []
        for i in range(args.runs):
            root = _v1_project(pristine, tmp / f"up-{i}")
            upgrade.append(_time([*lifecycle, "upgrade", "--force", "-p", str(root)], tmp, env, outputs))
            (tmp / f"new-{i}").mkdir()
            new.append(_time([*lifecycle, "new", "demo", "--no-input", "--task", "summarization"], tmp / f"new-{i}", env))
        u, n = statistics.median(upgrade), statistics.median(new)
        merged = [line.strip() for line in outputs[0].splitlines() if line.strip().startswith(("merged", "conflict"))]
        print(f"lifecycle upgrade (1 -> latest, {len(USER_EDITS)} user edits): median {u:.3f}s over {args.runs}")
        print(f"lifecycle new (baseline):                      median {n:.3f}s over {args.runs}")
        print(f"ratio upgrade / new: {u / n:.2f}  (goal < 3)")
        print("files changed on both sides in that upgrade:" + "".join(f"\n  {line}" for line in merged))

        if not args.no_matrix:
            from upgrade_matrix import counts, run_matrix

            (tmp / "matrix").mkdir()
            start = time.perf_counter()
            cells = run_matrix(tmp / "matrix", pristine, PKG)
            took = time.perf_counter() - start
            print(f"matrix: {len(cells)} cells in {took:.1f}s ({took / len(cells) * 1000:.0f} ms per upgrade, in process)")
            for name, (ok, total) in counts(cells).items():
                print(f"  {name}: {ok}/{total} ({100 * ok / total:.0f}%)" if total else f"  {name}: 0/0")
            (tmp / "matrix-lines").mkdir()
            lines = run_matrix(tmp / "matrix-lines", pristine, PKG, by_key=False)
            ok, total = counts(lines)["clean cells without a false conflict"]
            ok_yaml, _ = counts(cells)["clean cells without a false conflict"]
            print(f"baseline, the same matrix merged line by line only: {ok}/{total} clean cells without a false "
                  f"conflict ({total - ok} false conflict(s); key by key: {total - ok_yaml})")


if __name__ == "__main__":
    main()
