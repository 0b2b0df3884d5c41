"""Recall@k table on the scaffold's QA set (lifecycle/rag/samples: 10 documents of fictional facts,
questions with gold passage ids; unanswerable ones are left out of recall): BM25, dense (a tiny BERT
built on the fly, random weights, tokenizer trained on the documents), hybrid (reciprocal-rank fusion)
and, as the baseline measured in the same run, a random ranking of the same chunks (mean of 20 draws).

    .venv/bin/python benchmarks/bench_rag_recall.py
    .venv/bin/python benchmarks/bench_rag_recall.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

KS = (1, 3, 5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from lifecycle.config.rag import RagConfig
    from lifecycle.evaluation.metrics.grounding import retrieval_scores
    from lifecycle.evaluation.statistics.bootstrap import bootstrap_ci
    from lifecycle.rag.index import build_index, read_chunks
    from lifecycle.rag.project import SAMPLES
    from lifecycle.rag.qa import load_qa
    from lifecycle.rag.retrieve import Retriever
    from lifecycle.testing import build_tiny_model

    qa = load_qa(SAMPLES / "qa.jsonl")
    questions, gold = [q.question for q in qa], [q.gold for q in qa]
    docs = sorted((SAMPLES / "docs").iterdir())
    texts = [p.read_text(encoding="utf-8") for p in docs if p.suffix in (".md", ".txt")]
    rows, k = {}, max(KS)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        enc = build_tiny_model(tmp / "enc", "bert", texts=texts + questions, vocab_size=600)
        cfg = RagConfig.model_validate({"embedding": {"model": str(enc)}})
        build_index(SAMPLES / "docs", tmp / "index", cfg, tokenizer_ref=None)
        r = Retriever(tmp / "index", cfg)
        for mode in ("bm25", "dense", "hybrid"):
            hits = r.search_many(questions, k, mode)
            rows[mode] = retrieval_scores([[h.chunk for h in row] for row in hits], gold, KS)
        chunks = read_chunks(tmp / "index")
        rng = random.Random(0)
        draws = [retrieval_scores([rng.sample(chunks, k) for _ in questions], gold, KS) for _ in range(20)]
        rows["random (baseline)"] = {name: sum(d[name].value for d in draws) / len(draws) for name in draws[0]}

    names = [f"recall_at_{k}" for k in KS] + ["mrr"]
    n = sum(q.answerable for q in qa)
    print(f"scaffold QA set: {len(qa)} questions ({n} answerable, scored), {len(chunks)} chunks")
    print("retriever".ljust(20) + "".join(m.ljust(26) for m in names))
    out = {}
    for mode, scores in rows.items():
        cells, out[mode] = [], {}
        for m in names:
            s = scores[m]
            if isinstance(s, float):
                cells.append(f"{s:.3f}".ljust(26))
                out[mode][m] = {"value": round(s, 4)}
            else:
                lo, hi = bootstrap_ci(s, samples=1000)
                cells.append(f"{s.value:.3f} [{lo:.2f}, {hi:.2f}]".ljust(26))
                out[mode][m] = {"value": round(s.value, 4), "ci": [round(lo, 4), round(hi, 4)]}
        print(mode.ljust(20) + "".join(cells))
    base = rows["random (baseline)"]["recall_at_3"]
    print(f"bm25 recall@3 / random recall@3 = {rows['bm25']['recall_at_3'].value / max(base, 1e-9):.1f}x")
    if args.json:
        print(json.dumps({"questions": len(qa), "answerable": n, "chunks": len(chunks), "table": out}))


if __name__ == "__main__":
    main()
