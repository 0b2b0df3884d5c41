"""CLI start-up and scaffolding speed against cookiecutter, in one process tree and the same run.

    python benchmarks/bench_cli.py [--runs 9]

Pairs, run interleaved (A, B, A, B, ...) so that machine load hits both alike; median wall time:
  1. `lifecycle --help`                vs `cookiecutter --help`
  2. `lifecycle new demo --no-input`   vs `cookiecutter lifecycle/templates/project --no-input` with the same
     answers (name=demo task=summarization), both rendering the same template.
`lifecycle new` does more (validates answers with pydantic, checks every generated config against
its model, writes schemas and .lifecycle/template.yaml, stages and moves), yet the goal is a ratio
<= 1.0. HOME points at a temporary folder so cookiecutter's replay file stays out of yours.
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
BIN = Path(sys.executable).parent


def _time(cmd: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def _pair(name: str, ours, theirs, runs: int) -> float:
    a, b = [], []
    ours(), theirs()  # warm the file cache once
    for _ in range(runs):
        a.append(ours())
        b.append(theirs())
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{name:<44} lifecycle {ma * 1000:7.1f} ms   cookiecutter {mb * 1000:7.1f} ms   ratio {ma / mb:.2f}")
    return ma / mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    lifecycle, cookiecutter = BIN / "lifecycle", BIN / "cookiecutter"
    for exe in (lifecycle, cookiecutter):
        if not exe.exists():
            raise SystemExit(f"{exe} not found: run with the venv's python")
    template = REPO / "lifecycle" / "templates" / "project"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "HOME": str(tmp / "home")}
        (tmp / "home").mkdir()
        counter = iter(range(10**6))

        def fresh() -> Path:
            out = tmp / f"out{next(counter)}"
            out.mkdir()
            return out

        def new_ours() -> float:
            out = fresh()
            t = _time([str(lifecycle), "new", "demo", "--no-input", "--task", "summarization", "-o", str(out)], env, tmp)
            shutil.rmtree(out)
            return t

        def new_theirs() -> float:
            out = fresh()
            t = _time([str(cookiecutter), str(template), "--no-input", "-o", str(out),
                       "name=demo", "task=summarization"], env, tmp)
            shutil.rmtree(out)
            return t

        help_ratio = _pair("--help", lambda: _time([str(lifecycle), "--help"], env, tmp),
                           lambda: _time([str(cookiecutter), "--help"], env, tmp), args.runs)
        new_ratio = _pair("new --no-input (same template, same answers)", new_ours, new_theirs, args.runs)
    print(f"median ratios (goal <= 1.0): help {help_ratio:.2f}, new {new_ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
