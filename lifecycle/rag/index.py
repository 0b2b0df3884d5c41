"""The embedded index under the project (default .lifecycle/rag/):

    manifest.json   documents (path -> sha256), chunking/embedding settings, counts, build time
    chunks.jsonl    one chunk a line: id, doc_id, source, line, start/end offsets, text, sha
    bm25/           the bm25s index
    dense.faiss + embeddings.npy   when an embedding model is configured (rows in chunk order)

Incremental: a file whose sha256 and the chunk settings are unchanged keeps its chunks without being
re-read; a chunk whose text and encoder are unchanged keeps its vector (no re-embedding). The
manifest is written last, so an index is either complete or detected as stale."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lifecycle.config.rag import RagConfig
from lifecycle.config.yaml_io import atomic_write_bytes, atomic_write_text
from lifecycle.errors import LifecycleError, RunError
from lifecycle.hashing import stable_hash
from lifecycle.runs.store import utc_now
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
FORMAT = 1


class IndexError_(LifecycleError):
    """The retrieval index is missing, stale or inconsistent."""


@dataclass
class BuildReport:
    documents: int
    chunks: int
    files_reused: int
    files_chunked: int
    embedded: int
    vectors_reused: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None


@dataclass
class Freshness:
    fresh: bool
    exists: bool
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    settings_changed: bool = False

    def line(self) -> str:
        if not self.exists:
            return "no index yet"
        if self.fresh:
            return "index matches the documents"
        parts = [f"{len(v)} {k} ({', '.join(v[:3])}{' ...' if len(v) > 3 else ''})"
                 for k, v in (("changed", self.changed), ("added", self.added), ("removed", self.removed)) if v]
        if self.settings_changed:
            parts.append("chunk/embedding settings changed")
        return "index is stale: " + "; ".join(parts)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def chunk_settings(cfg: RagConfig, tokenizer_ref: str | None) -> dict:
    """What chunks depend on. The configured tokenizer is recorded (not the one that loaded), so that
    freshness is decided without loading a tokenizer."""
    return {"size": cfg.chunk.size, "overlap": cfg.chunk.overlap, "tokenizer": cfg.chunk.tokenizer or tokenizer_ref,
            "jsonl": cfg.jsonl.model_dump(mode="json"), "format": FORMAT}


def read_manifest(index_dir: Path) -> dict | None:
    f = index_dir / MANIFEST
    if not f.is_file():
        return None
    from lifecycle.paths import safe_path
    from lifecycle.textio import read_json

    rebuild = "rebuild it with `lifecycle rag index --rebuild`"
    try:
        manifest = read_json(safe_path(f, what="index manifest"), kind="index manifest", error=IndexError_)
    except IndexError_ as err:  # size cap, bad UTF-8, bad JSON: located, with the way out
        raise IndexError_(err.message, hint=rebuild) from None
    if not isinstance(manifest, dict):
        raise IndexError_(f"{f}: unreadable index manifest (not a JSON object)", hint=rebuild)
    return manifest


def read_chunks(index_dir: Path) -> list[dict]:
    f = index_dir / CHUNKS
    if not f.is_file():
        return []
    from lifecycle.paths import safe_path
    from lifecycle.textio import MAX_PREDICTION_LINE_BYTES, iter_jsonl

    out = []
    for lineno, obj in iter_jsonl(safe_path(f, what="index chunks"), max_line=MAX_PREDICTION_LINE_BYTES,
                                  kind="index chunks file", error=IndexError_):
        if not isinstance(obj, dict):
            raise IndexError_(f"{f}:{lineno}: not a chunk record (a JSON object)",
                              hint="rebuild it with `lifecycle rag index --rebuild`")
        out.append(obj)
    return out


def freshness(docs_dir: Path, index_dir: Path, cfg: RagConfig, tokenizer_ref: str | None = None) -> Freshness:
    """Compare the documents' hashes (and the settings) with the manifest."""
    from lifecycle.rag.documents import scan_docs

    manifest = read_manifest(index_dir)
    if manifest is None:
        return Freshness(False, False)
    now = {f.rel: f.sha256 for f in scan_docs(docs_dir, max_bytes=int(cfg.max_doc_mb * 1e6)).files}
    old = manifest.get("files", {})
    fr = Freshness(True, True)
    fr.changed = sorted(k for k in now if k in old and old[k] != now[k])
    fr.added = sorted(k for k in now if k not in old)
    fr.removed = sorted(k for k in old if k not in now)
    settings = manifest.get("chunking", {})
    if settings != chunk_settings(cfg, tokenizer_ref):
        fr.settings_changed = True
    emb = (manifest.get("embedding") or {}).get("model")
    if emb != cfg.embedding.model:
        fr.settings_changed = True
    fr.fresh = not (fr.changed or fr.added or fr.removed or fr.settings_changed)
    return fr


def build_index(docs_dir: Path, index_dir: Path, cfg: RagConfig, *, tokenizer_ref: str | None,
                rebuild: bool = False, progress=None) -> BuildReport:
    from lifecycle.locking import FileLock
    from lifecycle.rag.chunking import chunk_document, load_splitter
    from lifecycle.rag.documents import load_documents, scan_docs

    t0 = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(index_dir).acquire(timeout=0, what=f"the index {index_dir}")
    try:
        scan = scan_docs(docs_dir, max_bytes=int(cfg.max_doc_mb * 1e6))
        warnings = list(scan.warnings)
        splitter, warn = load_splitter(cfg.chunk.tokenizer or tokenizer_ref)
        if warn:
            warnings.append(warn)
        settings = chunk_settings(cfg, tokenizer_ref)
        old = None if rebuild else read_manifest(index_dir)
        reuse_chunks = old is not None and old.get("chunking") == settings
        old_files = old.get("files", {}) if reuse_chunks else {}
        old_chunks = read_chunks(index_dir) if reuse_chunks else []
        by_source: dict[str, list[dict]] = {}
        for c in old_chunks:
            by_source.setdefault(c["source"], []).append(c)

        keep = [f for f in scan.files if old_files.get(f.rel) == f.sha256 and f.rel in by_source]
        redo = [f for f in scan.files if f not in keep]
        docs, doc_warnings = load_documents(scan, cfg.jsonl, files=redo)
        warnings += doc_warnings
        new_by_source: dict[str, list[dict]] = {}
        for d in docs:
            for c in chunk_document(d, splitter, cfg.chunk.size, cfg.chunk.overlap):
                row = c.to_dict()
                row["sha"] = _sha(c.text)
                new_by_source.setdefault(c.source, []).append(row)
        chunks: list[dict] = []
        for f in scan.files:  # file order, so the index does not depend on what was redone
            chunks.extend(by_source[f.rel] if f in keep else new_by_source.get(f.rel, []))
        _check_unique(chunks, keep, by_source)
        if not chunks:
            raise IndexError_(f"{docs_dir}: no text to index (no non-empty .txt/.md/.jsonl documents)",
                              hint="add documents, or `lifecycle rag samples` for an example set")

        embedded, reused, emb_meta = _dense(index_dir, cfg, chunks, old if not rebuild else None)
        _write_bm25(index_dir, chunks)
        atomic_write_text(index_dir / CHUNKS, "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in chunks))
        manifest = {
            "format": FORMAT, "built": utc_now(), "docs_dir": str(docs_dir),
            "files": {f.rel: f.sha256 for f in scan.files}, "chunking": settings, "tokenizer_used": splitter.name,
            "embedding": emb_meta, "documents": len({c["doc_id"] for c in chunks}), "chunks": len(chunks),
            "chunks_sha256": stable_hash([c["sha"] for c in chunks]), "warnings": warnings,
        }
        atomic_write_text(index_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    finally:
        lock.release()
    return BuildReport(manifest["documents"], len(chunks), len(keep), len(redo), embedded, reused,
                       time.perf_counter() - t0, warnings, index_dir)


def _check_unique(chunks: list[dict], keep, by_source) -> None:
    """Document ids must be unique across files too (a kept file can clash with a changed one)."""
    from lifecycle.errors import DataError, located

    first: dict[str, dict] = {}
    for c in chunks:
        seen = first.setdefault(c["doc_id"], c)
        if seen["source"] != c["source"] or seen.get("line") != c.get("line"):
            raise DataError(located(c["source"], c.get("line"), "id",
                                    f"duplicate document id '{c['doc_id']}' (first at "
                                    f"{located(seen['source'], seen.get('line'), None, '')[:-2]})"),
                            hint="give every document a unique id")


def _write_bm25(index_dir: Path, chunks: list[dict]) -> None:
    import bm25s

    from lifecycle.evaluation.metrics.lexical import index_tokens

    retriever = bm25s.BM25()
    retriever.index([index_tokens(c["text"]) or ["<empty>"] for c in chunks], show_progress=False)
    retriever.save(str(index_dir / "bm25"), show_progress=False)


def _dense(index_dir: Path, cfg: RagConfig, chunks: list[dict], old: dict | None) -> tuple[int, int, dict | None]:
    """(embedded, reused, manifest entry). Vectors of unchanged chunk texts are reused."""
    ref = cfg.embedding.model
    for name in ("dense.faiss", "embeddings.npy"):
        if ref is None and (index_dir / name).exists():
            (index_dir / name).unlink()  # the project turned dense retrieval off
    if ref is None:
        return 0, 0, None
    import faiss

    from lifecycle.rag.dense import Encoder, build_faiss, model_fingerprint

    fp = model_fingerprint(ref)
    cache: dict[str, np.ndarray] = {}
    old_emb = (old or {}).get("embedding") or {}
    if old_emb.get("fingerprint") == fp and (index_dir / "embeddings.npy").is_file():
        vecs = np.load(index_dir / "embeddings.npy")
        old_chunks = read_chunks(index_dir)
        if len(old_chunks) == len(vecs):
            cache = {c["sha"]: vecs[i] for i, c in enumerate(old_chunks)}
    todo = [i for i, c in enumerate(chunks) if c["sha"] not in cache]
    dim = next(iter(cache.values())).shape[0] if cache else None
    vectors = None
    if todo:
        enc = Encoder(ref, max_length=cfg.embedding.max_length, batch_size=cfg.embedding.batch_size)
        fresh = enc.encode([chunks[i]["text"] for i in todo])
        dim = enc.dim
        vectors = np.zeros((len(chunks), dim), dtype=np.float32)
        vectors[todo] = fresh
    else:
        vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    todo_set = set(todo)
    for i, c in enumerate(chunks):
        if i not in todo_set:
            vectors[i] = cache[c["sha"]]
    import io

    buf = io.BytesIO()
    np.save(buf, vectors)
    atomic_write_bytes(index_dir / "embeddings.npy", buf.getvalue())
    faiss.write_index(build_faiss(vectors), str(index_dir / "dense.faiss"))
    return len(todo), len(chunks) - len(todo), {"model": ref, "fingerprint": fp, "dim": int(dim),
                                                 "max_length": cfg.embedding.max_length}


def require_index(index_dir: Path) -> dict:
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexError_(f"{index_dir}: no retrieval index yet", hint="build it with `lifecycle rag index`")
    if manifest.get("format") != FORMAT:
        raise RunError(f"{index_dir / MANIFEST}: index format {manifest.get('format')} is not {FORMAT}",
                       hint="rebuild it with `lifecycle rag index --rebuild`")
    return manifest
