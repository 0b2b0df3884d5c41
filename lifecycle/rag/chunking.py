"""Token-window chunking with overlap, by the project's tokenizer (character offsets from the fast
tokenizer's offset mapping) or by whitespace tokens when no tokenizer loads offline."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WS = re.compile(r"\S+")


@dataclass
class Chunk:
    id: str
    doc_id: str
    source: str
    line: int | None
    start: int  # character offsets into the document text
    end: int
    text: str

    def to_dict(self) -> dict:
        return {"id": self.id, "doc_id": self.doc_id, "source": self.source, "line": self.line,
                "start": self.start, "end": self.end, "text": self.text}


class Splitter:
    """Token spans (start, end character offsets) of a text."""

    def __init__(self, tokenizer=None, name: str = "whitespace") -> None:
        self.tokenizer = tokenizer
        self.name = name

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.tokenizer is None:
            return [(m.start(), m.end()) for m in _WS.finditer(text)]
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [(a, b) for a, b in enc["offset_mapping"] if b > a]


def load_splitter(ref: str | None) -> tuple[Splitter, str | None]:
    """(splitter, warning). A tokenizer that cannot load offline falls back to whitespace tokens."""
    if not ref:
        return Splitter(), "no tokenizer configured: chunking by whitespace tokens"
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(ref, local_files_only=True)
    except Exception as err:  # offline hub id, missing folder, broken files: all mean "fall back"
        return Splitter(), f"tokenizer '{ref}' did not load offline ({type(err).__name__}): chunking by whitespace tokens"
    if not getattr(tok, "is_fast", False):
        return Splitter(), f"tokenizer '{ref}' has no offset mapping (not a fast tokenizer): chunking by whitespace tokens"
    return Splitter(tok, str(ref)), None


def chunk_document(doc, splitter: Splitter, size: int, overlap: int) -> list[Chunk]:
    spans = splitter.spans(doc.text)
    if not spans:
        return []
    step = size - overlap
    chunks = []
    for n, first in enumerate(range(0, max(1, len(spans) - overlap), step)):
        window = spans[first:first + size]
        start, end = window[0][0], window[-1][1]
        chunks.append(Chunk(f"{doc.id}#{n}", doc.id, doc.source, doc.line, start, end, doc.text[start:end]))
        if first + size >= len(spans):
            break
    return chunks
