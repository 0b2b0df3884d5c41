"""Retrieval over a built index: BM25, dense (FAISS inner product on normalised vectors), or hybrid
by reciprocal-rank fusion (score = sum over retrievers of 1 / (rrf_k + rank))."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifecycle.config.rag import RagConfig
from lifecycle.errors import LifecycleError
from lifecycle.rag.index import IndexError_, read_chunks, require_index


class QueryError(LifecycleError):
    """A query that cannot be run (empty, too long)."""


@dataclass
class Hit:
    chunk: dict
    score: float
    rank: int  # 1-based
    via: str   # bm25 | dense | hybrid

    @property
    def id(self) -> str:
        return self.chunk["id"]

    def to_dict(self) -> dict:
        c = self.chunk
        return {"id": c["id"], "doc_id": c["doc_id"], "source": c["source"], "line": c.get("line"),
                "start": c["start"], "end": c["end"], "score": round(float(self.score), 6), "rank": self.rank,
                "via": self.via}


def check_query(query: str, max_chars: int) -> str:
    if not isinstance(query, str) or not query.strip():
        raise QueryError("the query is empty", hint='ask a question, e.g. lifecycle rag query "Who founded X?"')
    if len(query) > max_chars:
        raise QueryError(f"the query has {len(query):,} characters; the limit is {max_chars:,} "
                         "(retrieval.max_query_chars in configs/rag.yaml)",
                         hint="ask a shorter question; to index a text, put it under data/docs/")
    return query


def check_queries(queries: list[str], ids: list[str], max_chars: int, where: str) -> None:
    """check_query for each query of a data file, the error naming the file and the example's id."""
    for q, ex_id in zip(queries, ids):
        try:
            check_query(q, max_chars)
        except QueryError as err:
            raise QueryError(f"{where}: example {ex_id}: {err.message}", hint=err.hint) from None


class Retriever:
    def __init__(self, index_dir: Path, cfg: RagConfig, hooks=None) -> None:
        import bm25s

        self.hooks = hooks  # lifecycle.rag.hooks.Hooks: the project's query rewrite / chunk filter
        self.index_dir = index_dir
        self.cfg = cfg
        self.manifest = require_index(index_dir)
        self.chunks = read_chunks(index_dir)
        if len(self.chunks) != self.manifest.get("chunks"):
            raise IndexError_(f"{index_dir}: {len(self.chunks)} chunks but the manifest records "
                              f"{self.manifest.get('chunks')}", hint="rebuild with `lifecycle rag index --rebuild`")
        self.bm25 = bm25s.BM25.load(str(index_dir / "bm25"), show_progress=False) if (index_dir / "bm25").is_dir() else None
        self.faiss = None
        self.encoder = None
        if self.manifest.get("embedding") and (index_dir / "dense.faiss").is_file():
            import faiss

            self.faiss = faiss.read_index(str(index_dir / "dense.faiss"))

    @property
    def modes(self) -> list[str]:
        return ["bm25"] + (["dense", "hybrid"] if self.faiss is not None else [])

    def resolve_mode(self, mode: str | None) -> str:
        mode = mode or self.cfg.retrieval.mode
        if mode == "auto":
            return "hybrid" if self.faiss is not None else "bm25"
        if mode in ("dense", "hybrid") and self.faiss is None:
            raise IndexError_(f"retrieval mode '{mode}' needs a dense index, and this index has none",
                              hint="set `embedding.model` in configs/rag.yaml and run `lifecycle rag index`")
        return mode

    # ------------------------------------------------------------------ retrievers
    def _bm25(self, queries: list[str], k: int) -> list[list[tuple[int, float]]]:
        from lifecycle.evaluation.metrics.lexical import index_tokens

        k = min(k, len(self.chunks))
        toks = [index_tokens(q) or ["<empty>"] for q in queries]
        docs, scores = self.bm25.retrieve(toks, k=k, show_progress=False)
        return [[(int(d), float(s)) for d, s in zip(drow, srow) if s > 0] for drow, srow in zip(docs, scores)]

    def _dense(self, queries: list[str], k: int) -> list[list[tuple[int, float]]]:
        if self.encoder is None:
            from lifecycle.rag.dense import Encoder

            emb = self.manifest["embedding"]
            self.encoder = Encoder(emb["model"], max_length=emb.get("max_length", 256),
                                   batch_size=self.cfg.embedding.batch_size)
        few = len(queries) < 8  # a handful of queries is latency-bound: extra OpenMP threads only spin
        q = self.encoder.encode(queries, threads=1 if few else None)
        import faiss

        before = faiss.omp_get_max_threads()
        if few:
            faiss.omp_set_num_threads(1)
        try:
            scores, ids = self.faiss.search(np.ascontiguousarray(q), min(k, len(self.chunks)))
        finally:
            faiss.omp_set_num_threads(before)
        return [[(int(i), float(s)) for i, s in zip(irow, srow) if i >= 0] for irow, srow in zip(ids, scores)]

    def search_many(self, queries: list[str], k: int | None = None, mode: str | None = None) -> list[list[Hit]]:
        k = k or self.cfg.retrieval.k
        for q in queries:
            check_query(q, self.cfg.retrieval.max_query_chars)
        asked = queries
        if self.hooks is not None:
            queries = [check_query(self.hooks.query(q), self.cfg.retrieval.max_query_chars) for q in queries]
        hits = self._search(queries, k, self.resolve_mode(mode))
        if self.hooks is not None:
            hits = [self.hooks.chunks(q, h) for q, h in zip(asked, hits)]
        return hits

    def _search(self, queries: list[str], k: int, mode: str) -> list[list[Hit]]:
        if mode == "bm25":
            return [self._hits(r, "bm25") for r in self._bm25(queries, k)]
        if mode == "dense":
            return [self._hits(r, "dense") for r in self._dense(queries, k)]
        depth = max(k, 4 * k)  # fuse deeper lists than we return
        fused = [rrf([a, b], self.cfg.retrieval.rrf_k)[:k]
                 for a, b in zip(self._bm25(queries, depth), self._dense(queries, depth))]
        return [self._hits(r, "hybrid") for r in fused]

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        return self.search_many([query], k, mode)[0]

    def _hits(self, rows: list[tuple[int, float]], via: str) -> list[Hit]:
        return [Hit(self.chunks[i], s, r, via) for r, (i, s) in enumerate(rows, start=1)]


def rrf(rankings: list[list[tuple[int, float]]], rrf_k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of ranked (item, score) lists; ties broken by item id for determinism."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (item, _) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
