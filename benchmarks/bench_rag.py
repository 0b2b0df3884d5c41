"""Retrieval benchmark: index build time and query latency for N chunks (default 10k), BM25 (bm25s)
and dense (tiny BERT encoder + FAISS), each against a baseline measured in the same run:

  BM25 query   lifecycle Retriever (bm25s sparse index)  vs  brute-force BM25 over every document
               (rank_bm25-style: per query term, a numpy array of term frequencies over all docs)
  dense query  FAISS IndexFlatIP                          vs  numpy matmul + argpartition
  build        `lifecycle rag index` end to end (chunking, BM25, embedding, FAISS), and a rebuild
               with nothing changed (incremental: nothing re-embedded) vs the first build

    .venv/bin/python benchmarks/bench_rag.py                 # 10k chunks, 200 queries
    .venv/bin/python benchmarks/bench_rag.py --chunks 50000 --queries 500 --no-dense
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SYLLABLES = ["var", "row", "mere", "quil", "lon", "dyn", "wren", "let", "tes", "sal", "glim", "mer", "sor", "rel",
             "au", "re", "lian", "moss", "ot", "ter", "pel", "lisk", "zeph", "yr", "ine", "hal", "vard", "kes", "trel"]


def fake_corpus(n: int, seed: int = 0) -> tuple[list[dict], list[str]]:
    rng = random.Random(seed)
    vocab = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) for _ in range(6000)})
    # Zipf-like word frequencies, as in real text
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(vocab))]
    docs = []
    for i in range(n):
        words = rng.choices(vocab, weights=weights, k=rng.randint(30, 60))
        docs.append({"id": f"d{i}", "text": " ".join(words) + f". Fact {i}: {rng.randint(10, 99999)}."})
    queries = [" ".join(rng.sample(docs[rng.randrange(n)]["text"].split()[:20], 4)) for _ in range(2000)]
    return docs, queries


class BruteBM25:
    """BM25 (Lucene idf, k1=1.5, b=0.75) scored over every document for every query term."""

    def __init__(self, corpus: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.freqs = [Counter(d) for d in corpus]
        self.lens = np.array([len(d) for d in corpus], dtype=float)
        self.avg = self.lens.mean()
        df = Counter(t for f in self.freqs for t in f)
        n = len(corpus)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.k1, self.b = k1, b

    def top(self, query: list[str], k: int) -> np.ndarray:
        scores = np.zeros(len(self.freqs))
        norm = self.k1 * (1 - self.b + self.b * self.lens / self.avg)
        for q in query:
            if q not in self.idf:
                continue
            tf = np.array([f.get(q, 0) for f in self.freqs], dtype=float)
            scores += self.idf[q] * tf * (self.k1 + 1) / (tf + norm)
        return np.argsort(-scores)[:k]


def timed(fn, *args, repeat: int = 1, **kwargs):
    t = time.perf_counter()
    for _ in range(repeat):
        out = fn(*args, **kwargs)
    return (time.perf_counter() - t) / repeat, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--no-dense", action="store_true", help="BM25 only (no encoder, no FAISS).")
    ap.add_argument("--json", action="store_true", help="Also print the results as one JSON object.")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)  # tiny encoder: latency-bound; on a shared machine more threads only spin
    from lifecycle.config.rag import RagConfig
    from lifecycle.rag.index import build_index
    from lifecycle.rag.retrieve import Retriever
    from lifecycle.evaluation.metrics.lexical import index_tokens
    from lifecycle.testing import build_tiny_model

    docs, queries = fake_corpus(args.chunks)
    queries = queries[:args.queries]
    results: dict = {"chunks": args.chunks, "queries": len(queries), "k": args.k}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "docs").mkdir()
        (tmp / "docs" / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        emb = None
        if not args.no_dense:
            emb = str(build_tiny_model(tmp / "enc", "bert", texts=[d["text"] for d in docs[:2000]], vocab_size=1024))
        cfg = RagConfig.model_validate({"chunk": {"size": 256, "overlap": 16},
                                        "embedding": {"model": emb, "batch_size": 128, "max_length": 96}})
        t_build, rep = timed(build_index, tmp / "docs", tmp / "index", cfg, tokenizer_ref=None)
        assert rep.chunks == args.chunks, rep.chunks
        t_rebuild, rep2 = timed(build_index, tmp / "docs", tmp / "index", cfg, tokenizer_ref=None)
        t_bm25_only = None
        if emb:
            t_bm25_only, _ = timed(build_index, tmp / "docs", tmp / "index_bm25", RagConfig.model_validate(
                {"chunk": {"size": 256, "overlap": 16}}), tokenizer_ref=None)
        results["build_s"] = {"full": round(t_build, 3), "unchanged_rebuild": round(t_rebuild, 3),
                              "bm25_only": round(t_bm25_only, 3) if t_bm25_only else round(t_build, 3),
                              "embedded_first": rep.embedded, "embedded_rebuild": rep2.embedded}

        r = Retriever(tmp / "index", cfg)
        t_q, hits = timed(lambda: [r.search(q, args.k, "bm25") for q in queries])
        t_brute_build, brute = timed(BruteBM25, [index_tokens(d["text"]) for d in docs])
        sub = queries[: max(10, len(queries) // 10)]  # the baseline is slow: time a tenth of the queries
        t_b, brute_hits = timed(lambda: [brute.top(index_tokens(q), args.k) for q in sub])
        agree = np.mean([int(h[0].chunk["doc_id"] == docs[int(b[0])]["id"]) for h, b in zip(hits, brute_hits)])
        results["bm25_query_ms"] = {"lifecycle": round(1000 * t_q / len(queries), 3),
                                    "brute_force": round(1000 * t_b / len(sub), 3),
                                    "speedup": round((t_b / len(sub)) / (t_q / len(queries)), 1),
                                    "top1_agreement": round(float(agree), 3)}
        if emb:
            r.search(queries[0], args.k, "dense")  # load the encoder outside the timing
            qv = r.encoder.encode(queries)
            vecs = np.load(tmp / "index" / "embeddings.npy")
            t_f, (_, fi) = timed(lambda: r.faiss.search(qv, args.k), repeat=3)

            def numpy_top():
                s = qv @ vecs.T
                part = np.argpartition(-s, args.k, axis=1)[:, :args.k]
                return np.take_along_axis(part, np.argsort(-np.take_along_axis(s, part, 1), 1), 1)

            t_n, ni = timed(numpy_top, repeat=3)
            t_e, _ = timed(r.encoder.encode, queries)
            t_end, _ = timed(lambda: [r.search(q, args.k, "dense") for q in queries[:50]])
            t_hyb, _ = timed(lambda: [r.search(q, args.k, "hybrid") for q in queries[:50]])
            results["dense_query_ms"] = {
                "faiss_search": round(1000 * t_f / len(queries), 4), "numpy_brute": round(1000 * t_n / len(queries), 4),
                "speedup": round(t_n / t_f, 2), "same_top1": round(float(np.mean(fi[:, 0] == ni[:, 0])), 3),
                "encode_query": round(1000 * t_e / len(queries), 3),
                "end_to_end_dense": round(1000 * t_end / 50, 3), "end_to_end_hybrid": round(1000 * t_hyb / 50, 3)}

    b = results["build_s"]
    print(f"{args.chunks} chunks, {len(queries)} queries, k={args.k}")
    print(f"build: full {b['full']:.2f}s (bm25 only {b['bm25_only']:.2f}s, embedded {b['embedded_first']}), "
          f"unchanged rebuild {b['unchanged_rebuild']:.2f}s (embedded {b['embedded_rebuild']}): "
          f"{b['full'] / max(b['unchanged_rebuild'], 1e-9):.1f}x faster")
    q = results["bm25_query_ms"]
    print(f"bm25 query: {q['lifecycle']:.3f} ms vs brute force {q['brute_force']:.3f} ms -> {q['speedup']}x "
          f"(top-1 agreement {q['top1_agreement']:.2f})")
    if "dense_query_ms" in results:
        d = results["dense_query_ms"]
        print(f"dense search: faiss {d['faiss_search']:.4f} ms vs numpy {d['numpy_brute']:.4f} ms per query -> "
              f"{d['speedup']}x (same top-1 {d['same_top1']:.2f}); query encoding {d['encode_query']:.3f} ms; "
              f"end to end dense {d['end_to_end_dense']:.2f} ms, hybrid {d['end_to_end_hybrid']:.2f} ms")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
