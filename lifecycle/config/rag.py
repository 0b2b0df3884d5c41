"""configs/rag.yaml: where the documents are, how they are chunked and indexed, how retrieval
feeds the prompt (`lifecycle rag index / query / eval`). Every key has a default, so a project
without the file indexes data/docs/ with BM25 only."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_RAG_TEMPLATE = (
    "Answer the question using only the context. If the context does not contain the answer, "
    "say \"I don't know\".\n\nContext:\n{context}\n\nQuestion: {question}\n\nAnswer:"
)
DEFAULT_PLAIN_TEMPLATE = (
    "Answer the question. If you do not know the answer, say \"I don't know\".\n\n"
    "Question: {question}\n\nAnswer:"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChunkConfig(Strict):
    size: int = Field(default=128, ge=8, le=8192, description="Tokens per chunk (the project's tokenizer).")
    overlap: int = Field(default=32, ge=0, description="Tokens shared by consecutive chunks of a document.")
    tokenizer: Optional[str] = Field(
        default=None, description="Tokenizer folder or id; default: the model of configs/model.yaml. "
        "Whitespace tokens when none loads offline.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "ChunkConfig":
        if self.overlap >= self.size:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than size ({self.size})")
        return self


class JsonlFields(Strict):
    id_field: str = Field(default="id", description="Field naming each JSONL document (unique).")
    text_field: str = Field(default="text", description="Field holding the document text.")
    title_field: Optional[str] = Field(default="title", description="Optional field prepended to the text.")


class EmbeddingConfig(Strict):
    model: Optional[str] = Field(
        default=None, description="Encoder folder (or id) for the dense FAISS index: mean-pooled hidden "
        "states. None: BM25 only.")
    batch_size: int = Field(default=32, ge=1, le=4096)
    max_length: int = Field(default=256, ge=8, le=8192, description="Tokens per chunk seen by the encoder.")


class RetrievalConfig(Strict):
    mode: Literal["auto", "bm25", "dense", "hybrid"] = Field(
        default="auto", description="auto: hybrid when a dense index exists, else bm25.")
    k: int = Field(default=3, ge=1, le=100, description="Chunks retrieved per question.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant for hybrid.")
    max_query_chars: int = Field(default=4000, ge=16, description="Longer queries are refused.")


class RagEvalConfig(Strict):
    qa: str = Field(default="data/rag/qa.jsonl", description="Questions: id, question, answer, gold, answerable.")
    template: str = Field(default=DEFAULT_RAG_TEMPLATE, description="Prompt with retrieval; needs {context}.")
    plain_template: str = Field(default=DEFAULT_PLAIN_TEMPLATE, description="Prompt without retrieval.")
    citations: bool = Field(default=False, description="Ask for [n] citations and score their validity.")
    support_threshold: float = Field(
        default=0.75, ge=0.0, le=1.0,
        description="An answer is unsupported when less than this share of its content words is in the "
        "retrieved passages, or when it has a number the passages lack.")

    @model_validator(mode="after")
    def _context_field(self) -> "RagEvalConfig":
        if "{context}" not in self.template:
            raise ValueError("template must contain the {context} field")
        if "{question}" not in self.template or "{question}" not in self.plain_template:
            raise ValueError("template and plain_template must contain the {question} field")
        return self


class RagHooks(Strict):
    """Functions of the project's own package (src/<package>/), named 'package.module:function'."""
    rewrite_query: Optional[str] = Field(
        default=None, description="(question: str) -> str: the text sent to the retriever.")
    filter_chunks: Optional[str] = Field(
        default=None, description="(question: str, chunks: list[dict]) -> list[dict]: keep, drop or re-order the "
        "retrieved chunks (dicts with id, doc_id, source, score, rank, text).")


class RagConfig(Strict):
    enabled: bool = Field(
        default=True, description="The project uses retrieval: the integrate checks (rag_index_fresh, grounded) "
        "gate on it. The scaffold ships false; the commands work either way.")
    hooks: "RagHooks" = Field(default_factory=lambda: RagHooks())
    query_field: Optional[str] = Field(
        default=None, description="`--rag` on generate / eval run: the example field searched with (default: "
        "`question` when the prompt reads it, else the prompt's first input field).")
    docs: str = Field(default="data/docs", description="Folder of documents (.txt, .md, .jsonl).")
    index_dir: str = Field(default=".lifecycle/rag", description="Where the index is written.")
    max_doc_mb: float = Field(default=10.0, gt=0, description="Larger documents are refused.")
    chunk: ChunkConfig = Field(default_factory=ChunkConfig)
    jsonl: JsonlFields = Field(default_factory=JsonlFields)
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    eval: RagEvalConfig = Field(default_factory=RagEvalConfig)
