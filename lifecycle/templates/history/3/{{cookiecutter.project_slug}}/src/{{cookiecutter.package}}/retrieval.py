"""Retrieval hooks, called by `lifecycle rag query / eval` and `--rag` (configs/rag.yaml `hooks:`).

rewrite_query   the text sent to the retriever: here, polite openings and filler are dropped so that
                BM25 scores the words that name the thing asked about.
filter_chunks   what the model gets to read: here, at most MAX_PER_DOCUMENT chunks of one document, so
                that one long document cannot crowd out the others. Re-rank or filter by source here.

Both are plain functions on plain data (strings, dicts): test them without a model (tests/test_retrieval.py).
"""

from __future__ import annotations

import re

MAX_PER_DOCUMENT = 2
_OPENINGS = re.compile(r"^\s*(please|can you (tell me|say)|could you (tell me|say)|i would like to know|"
                       r"do you know)\b[\s,:]*", re.IGNORECASE)


def rewrite_query(question: str) -> str:
    """The question without a polite opening and extra spaces (never empty: falls back to the question)."""
    text = " ".join(_OPENINGS.sub("", question).split())
    return text or question


def filter_chunks(question: str, chunks: list[dict]) -> list[dict]:
    """Keep the retriever's order, at most MAX_PER_DOCUMENT chunks per document (`doc_id`)."""
    per_doc: dict[str, int] = {}
    kept = []
    for chunk in chunks:
        seen = per_doc.get(chunk["doc_id"], 0)
        if seen < MAX_PER_DOCUMENT:
            kept.append(chunk)
        per_doc[chunk["doc_id"]] = seen + 1
    return kept
