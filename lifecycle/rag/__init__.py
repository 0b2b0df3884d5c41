"""Retrieval-augmented generation: documents -> chunks -> BM25 / FAISS indexes -> retrieval,
groundedness metrics and the RAG vs no-RAG evaluation (`lifecycle rag ...`)."""
