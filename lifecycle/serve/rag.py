"""`lifecycle serve --rag`: retrieved context for every prompt, as `generate --rag` builds it.

The project's index (configs/rag.yaml, `lifecycle rag index`) is checked once at start: a missing or
stale index refuses to serve. Per request, the query (the prompt of /v1/completions; the last user
message, or its query field, for chat) is searched, and whole chunks are dropped from the end (least
relevant first) until the prompt with its context fits the model's window less max_tokens: the same
fit_example / format_context as `generate --rag` (lifecycle.rag.augment), so a chat request with an
example's field gets the prompt `generate --rag` builds for it. The response names the chunks it used."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lifecycle.rag.augment import CONTEXT_PREFIX, _query_field, context_template
from lifecycle.rag.evaluate import fit_example, format_context


@dataclass
class Retrieved:
    query: str
    hits: list          # lifecycle.rag.retrieve.Hit, best first
    used: int = 0       # chunks that fit the token budget
    tokens: int = 0     # prompt tokens with those chunks

    def context(self) -> str:
        return format_context(self.hits, self.used)

    def to_dict(self) -> dict:
        return {"query": self.query, "mode": self.hits[0].via if self.hits else None,
                "chunks": [h.to_dict() for h in self.hits[:self.used]],
                "chunks_used": self.used, "chunks_dropped": len(self.hits) - self.used,
                "prompt_tokens": self.tokens}


class ServeRag:
    def __init__(self, project, prompt_cfg, *, k: int | None = None, mode: str | None = None) -> None:
        from lifecycle.rag.project import rag_setup

        setup = rag_setup(project)
        setup.require_fresh("--rag: ")
        self.cfg = setup.cfg
        self.index_dir = setup.index_dir
        self.retriever = setup.retriever()
        self.mode = self.retriever.resolve_mode(mode)
        self.k = k or self.cfg.retrieval.k
        # the template with a {context} field, as generate --rag derives it
        self.template = context_template(prompt_cfg.template)
        self.prompt_cfg = prompt_cfg.model_copy(update={"template": self.template})
        self._lock = threading.Lock()  # searches run in worker threads; one at a time through the index

    def query_field(self) -> str:
        return _query_field(self.template, self.cfg, self.prompt_cfg)

    def search(self, query: str) -> Retrieved:
        """Hits for one query (raises QueryError for an empty or over-long one)."""
        from lifecycle.errors import LifecycleError
        from lifecycle.serve.protocol import APIError

        try:
            with self._lock:
                hits = self.retriever.search_many([query], self.k, self.mode)[0]
        except LifecycleError as err:
            raise APIError(400, f"retrieval: {err}") from None
        return Retrieved(query, hits)

    def fit(self, found: Retrieved, render, count, limit: int) -> str:
        """The prompt `render(context)` with the most chunks whose tokens fit `limit`."""
        used, tokens = fit_example("{text}", {}, found.hits, count, limit,
                                   prepare=lambda values: {"text": render(values["context"])})
        found.used, found.tokens = used, tokens
        return render(found.context())

    def describe(self) -> dict:
        return {"index": str(self.index_dir), "mode": self.mode, "k": self.k,
                "chunks": self.retriever.manifest.get("chunks")}


def completion_prompt(prompt: str, context: str) -> str:
    """/v1/completions: the client's prompt after the retrieved context (generate --rag's prefix)."""
    return CONTEXT_PREFIX.format(context=context) + prompt
