"""ROUGE speed: our module's scorer against `rouge_score` called in a plain loop (what the Hub
`rouge` module does), on 10,000 prediction/reference pairs built from DialogSum dev.

    python benchmarks/bench_metrics.py [--pairs 10000] [--repeats 3] [--workers N]

Both sides compute ROUGE-1/2/L/Lsum F-measures with Porter stemming; every per-example score is
asserted identical (==, not approximately). Prints each timing and the median ratio.
Ours: each text tokenised once for all four types, each distinct word stemmed once, bit-parallel
LCS, and the pairs split across processes (all cores by default; fork start method)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIALOGSUM = REPO.parent / "shared" / "data" / "dialogsum" / "dev.jsonl"
TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def build_pairs(n: int) -> tuple[list[str], list[str]]:
    """Predictions are other dialogues' summaries or the first turns of a dialogue (several lines,
    so ROUGE-Lsum's summary-level path runs); references are the summaries."""
    rows = [json.loads(x) for x in DIALOGSUM.read_text(encoding="utf-8").splitlines() if x.strip()]
    summaries = [r["summary"] for r in rows]
    dialogues = [r["dialogue"] for r in rows]
    m = len(rows)
    preds, refs = [], []
    shift = 1
    while len(preds) < n:
        for i in range(m):
            if len(preds) == n:
                break
            j = (i + shift) % m
            preds.append(summaries[j] if shift % 2 else "\n".join(dialogues[j].split("\n")[:3]))
            refs.append(summaries[i])
        shift += 1
    return preds, refs


def baseline(preds: list[str], refs: list[str]) -> dict[str, list[float]]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(TYPES, use_stemmer=True)
    out: dict[str, list[float]] = {t: [] for t in TYPES}
    for ref, pred in zip(refs, preds):
        s = scorer.score(ref, pred)
        for t in TYPES:
            out[t].append(s[t].fmeasure)
    return out


def ours(preds: list[str], refs: list[str], workers: int | None) -> dict[str, list[float]]:
    from lifecycle.evaluation.metrics.rouge_fast import rouge_per_example

    return rouge_per_example(preds, [[r] for r in refs], rouge_types=TYPES, use_stemmer=True, workers=workers)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="processes for ours (default: all cores)")
    args = ap.parse_args()
    if not DIALOGSUM.is_file():
        print(f"skipped: {DIALOGSUM} is not present", file=sys.stderr)
        return 0
    preds, refs = build_pairs(args.pairs)
    # import costs (nltk, rouge_score) are paid once, outside the timings, for both sides
    import rouge_score.rouge_scorer  # noqa: F401

    import lifecycle.evaluation.metrics.rouge_fast  # noqa: F401

    t_base, t_ours = [], []
    for rep in range(args.repeats):
        t0 = time.perf_counter()
        want = baseline(preds, refs)
        t_base.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        got = ours(preds, refs, args.workers)
        t_ours.append(time.perf_counter() - t0)
        for t in TYPES:
            assert got[t] == want[t], f"{t}: scores differ"
        print(f"repeat {rep + 1}: rouge_score loop {t_base[-1]:.2f}s, ours {t_ours[-1]:.2f}s "
              f"({t_base[-1] / t_ours[-1]:.2f}x); {len(preds)} pairs, all scores identical")
    ratio = statistics.median(t_base) / statistics.median(t_ours)
    print(f"median: rouge_score {statistics.median(t_base):.2f}s, ours {statistics.median(t_ours):.2f}s -> "
          f"{ratio:.2f}x faster on {os.cpu_count()} cores (workers: {args.workers or 'all'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
