"""Retrieval hooks: functions of the project's own package (configs/rag.yaml `hooks:`) that rewrite
the query before retrieval and filter or re-order the chunks after it. Only modules of the
project's package under src/ are loaded, so a config cannot run code from anywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from lifecycle.errors import ConfigError

FIELD = "configs/rag.yaml: hooks.{}"


@dataclass
class Hooks:
    rewrite_query: Optional[Callable] = None
    filter_chunks: Optional[Callable] = None

    def query(self, question: str) -> str:
        if self.rewrite_query is None:
            return question
        out = self.rewrite_query(question)
        if not isinstance(out, str):
            raise ConfigError(f"{FIELD.format('rewrite_query')}: returned {type(out).__name__}, expected text",
                              hint="return the query text")
        return out

    def chunks(self, question: str, hits: list) -> list:
        if self.filter_chunks is None:
            return hits
        by_id = {h.id: h for h in hits}
        rows = [{**h.to_dict(), "text": h.chunk["text"]} for h in hits]
        kept = self.filter_chunks(question, rows)
        if not isinstance(kept, list) or not all(isinstance(r, dict) and r.get("id") in by_id for r in kept):
            raise ConfigError(f"{FIELD.format('filter_chunks')}: must return a list of the chunk dicts it was given",
                              hint="return a subset of `chunks` (in the order you want)")
        out = []
        for rank, r in enumerate(kept, start=1):
            h = by_id[r["id"]]
            out.append(type(h)(h.chunk, float(r.get("score", h.score)), rank, h.via))
        return out


def _load(project, ref: str, field: str) -> Callable:
    from lifecycle.hooks import load_function

    return load_function(project.root, project.manifest.project.package, ref, where=FIELD.format(field))


def load_hooks(project, cfg) -> Hooks:
    refs = cfg.hooks
    return Hooks(*(_load(project, getattr(refs, f), f) if getattr(refs, f) else None
                   for f in ("rewrite_query", "filter_chunks")))
