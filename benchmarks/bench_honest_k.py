"""Honest K on real dialogues: the effective-K table of an eval ladder at a 512-token budget, and
classification scores of "Label." answers before and after answer normalisation.

    .venv/bin/python benchmarks/bench_honest_k.py            # 20 DialogSum dev dialogues, K=0,1,3
    .venv/bin/python benchmarks/bench_honest_k.py --n 50 --shots 0,1,2,3

Needs ../shared/data/dialogsum/dev.jsonl (or --data). Builds a tiny T5 (tokenizer trained on the
dialogues) on the fly; no hub. Prints the eval table (K asked, mean K used, how many got K,
truncated) and the ratio mean-K-used / K-asked per rung."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "dialogsum" / "dev.jsonl"


def _rows(path: Path, n: int) -> list[dict]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return rows[:n], rows


def ladder(data: Path, n: int, shots: str, context: int, work: Path) -> None:
    from lifecycle.cli.main import run
    from lifecycle.testing import build_tiny_model
    from lifecycle.testing.project import write_project

    head, rows = _rows(data, n)
    model = build_tiny_model(work / "tiny-t5", "t5", texts=[r["dialogue"] for r in rows[:300]] +
                             [r["summary"] for r in rows[:300]], vocab_size=2000, context=context)
    root = write_project(work / "proj", "summarization", str(model))
    with open(root / "data" / "sample.jsonl", "w", encoding="utf-8") as f:
        for r in head:
            f.write(json.dumps({"id": r["fname"], "dialogue": r["dialogue"], "summary": r["summary"]}) + "\n")
    gen = root / "configs" / "generation.yaml"
    gen.write_text(gen.read_text().replace("max_new_tokens: 16", "max_new_tokens: 8"))
    cfg = root / "configs" / "model.yaml"
    cfg.write_text(cfg.read_text() + f"max_context: {context}\n")
    os.chdir(root)
    try:
        run(["eval", "run", "--shots", shots])
    except SystemExit as exc:
        if exc.code:
            raise
    import yaml

    from lifecycle.project import Project
    from lifecycle.prompting import build_prompts
    from lifecycle.prompting.effective import effective_k
    from lifecycle.prompting.project_inputs import load_prompt_inputs

    # the budget policy alone: today's auto (cut the input to keep shots, then drop them) against the
    # old one (drop shots first, never cut while a shot can go: keep_input 1.0)
    inputs = load_prompt_inputs(Project(root))
    print("\nbudget policy  K  mean K used (auto)  mean K used (old auto)  truncated (auto)")
    for k in [int(x) for x in shots.split(",")]:
        got = {}
        for name, keep in (("auto", inputs.cfg.budget.keep_input), ("old", 1.0)):
            cfg = inputs.cfg.model_copy(update={"budget": inputs.cfg.budget.model_copy(update={"keep_input": keep})})
            got[name] = effective_k(build_prompts(inputs.examples, cfg, inputs.tokenizer, k=k,
                                                  context_window=inputs.context_window,
                                                  encoder_decoder=inputs.encoder_decoder), k)
        print(f"{'':13}  {k}  {got['auto'].k_mean_used:>18.2f}  {got['old'].k_mean_used:>22.2f}  "
              f"{got['auto'].truncated:>16}")

    print("\nrung  K asked  mean K used  got K  truncated  used/asked")
    for d in sorted((root / "runs").iterdir()):
        meta = yaml.safe_load((d / "run.yaml").read_text())
        b = meta.get("budget") or {}
        k = b.get("k_asked")
        ratio = (b["k_mean_used"] / k) if k else 1.0
        print(f"{d.name[-7:]}  {k:>7}  {b['k_mean_used']:>11.2f}  {b['full_k']:>2}/{b['n']:<2}  {b['truncated']:>9}  "
              f"{ratio:>10.2f}")


def labels(data: Path, n: int) -> None:
    from lifecycle.evaluation.metrics.scorers import accuracy, macro_f1, off_label_rate

    _, rows = _rows(data, 10 ** 9)
    top = [t for t, _ in Counter(r["topic"] for r in rows).most_common(5)]
    picked = [r for r in rows if r["topic"] in top][:n]
    true = [r["topic"] for r in picked]
    # a model that answers like an instruction-tuned one: "Label." with a capital, 1 in 4 wrong
    answers = [(top[(top.index(t) + 1) % 5] if i % 4 == 0 else t).capitalize() + "." for i, t in enumerate(true)]
    refs = [[t] for t in true]
    old = [" ".join(a.split()).casefold() for a in answers]  # the old rule: case and whitespace only
    print(f"\nclassification: {len(true)} DialogSum dialogues, 5 topics as labels ({', '.join(top)})")
    print("                 accuracy  macro_f1  off_label_rate")
    for name, preds, norm in (("before (old)", old, False), ("after", answers, True)):
        print(f"{name:<15}  {accuracy(preds, refs, normalize=norm).value:>8.3f}  "
              f"{macro_f1(preds, refs, normalize=norm, labels=top).value:>8.3f}  "
              f"{off_label_rate(preds, refs, normalize=norm, labels=top).value:>14.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--shots", default="0,1,3")
    ap.add_argument("--context", type=int, default=512)
    args = ap.parse_args(argv)
    if not args.data.is_file():
        print(f"no data at {args.data}", file=sys.stderr)
        return 1
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        ladder(args.data, args.n, args.shots, args.context, Path(tmp))
    labels(args.data, max(args.n, 50))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
