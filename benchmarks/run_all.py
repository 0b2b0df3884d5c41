"""Run every benchmark in this folder, one after another (`make bench`).

    python benchmarks/run_all.py                 # all of them, each with its defaults
    python benchmarks/run_all.py --only cli,serve

Each benchmark prints its own ratio against a baseline measured in the same run; this runner only
runs them in turn (never in parallel: they measure time and memory) and lists which failed."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated names, e.g. cli,serve (bench_<name>.py)")
    args = parser.parse_args()
    benches = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {n.strip() for n in args.only.split(",") if n.strip()}
        unknown = wanted - {b.stem[len("bench_"):] for b in benches}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}; have "
                         + ", ".join(b.stem[len('bench_'):] for b in benches))
        benches = [b for b in benches if b.stem[len("bench_"):] in wanted]
    failed = []
    for bench in benches:
        print(f"\n=== {bench.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(bench)], cwd=HERE.parent)
        print(f"=== {bench.name}: exit {code}, {time.perf_counter() - start:.0f} s", flush=True)
        if code != 0:
            failed.append(bench.name)
    print(f"\n{len(benches) - len(failed)} of {len(benches)} benchmarks ran" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
