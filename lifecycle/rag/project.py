"""The project's RAG settings and paths: configs/rag.yaml (defaults when absent), the docs folder,
the index folder, and the tokenizer the chunker uses (the model of configs/model.yaml)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from lifecycle.config.rag import RagConfig

CONFIG = "configs/rag.yaml"
SAMPLES = Path(__file__).resolve().parent / "samples"


@dataclass
class RagSetup:
    project: object
    cfg: RagConfig
    docs_dir: Path
    index_dir: Path
    qa_path: Path

    def retriever(self):
        """A Retriever over the project's index, with the project's hooks (configs/rag.yaml `hooks:`)."""
        from lifecycle.rag.hooks import load_hooks
        from lifecycle.rag.retrieve import Retriever

        hooks = load_hooks(self.project, self.cfg) if (self.cfg.hooks.rewrite_query or self.cfg.hooks.filter_chunks) \
            else None
        return Retriever(self.index_dir, self.cfg, hooks=hooks)

    def freshness(self):
        """Whether the index matches the documents (lifecycle.rag.index.freshness)."""
        from lifecycle.rag.index import freshness

        return freshness(self.docs_dir, self.index_dir, self.cfg, self.tokenizer_ref())

    def require_fresh(self, what: str = "") -> None:
        """Refuse, in one line, to use a missing or stale index."""
        from lifecycle.rag.index import IndexError_

        fr = self.freshness()
        if not fr.fresh:
            raise IndexError_(f"{what}{self.index_dir}: {fr.line()}", hint="run `lifecycle rag index` first")

    def tokenizer_ref(self) -> str | None:
        """configs/model.yaml's model (a project-relative folder resolved); None without the file."""
        if self.cfg.chunk.tokenizer:
            local = self.project.path(self.cfg.chunk.tokenizer)
            return str(local) if local.is_dir() else self.cfg.chunk.tokenizer
        if not self.project.path("configs/model.yaml").is_file():
            return None
        ref = self.project.model_config().model
        local = self.project.path(ref)
        return str(local) if local.is_dir() else ref


def rag_setup(project, config: Path | None = None) -> RagSetup:
    from lifecycle.config.yaml_io import load_config

    path = Path(config) if config else project.path(CONFIG)
    cfg = load_config(path, RagConfig) if (config or path.is_file()) else RagConfig()
    if cfg.embedding.model:
        local = project.path(cfg.embedding.model)
        if local.is_dir():
            cfg = cfg.model_copy(update={"embedding": cfg.embedding.model_copy(update={"model": str(local.resolve())})})
    return RagSetup(project, cfg, project.path(cfg.docs), project.path(cfg.index_dir), project.path(cfg.eval.qa))


def install_samples(setup: RagSetup, *, overwrite: bool = False) -> list[Path]:
    """Copy the sample documents (fictional facts) and QA set into the project; returns what was written.
    Existing files are kept unless `overwrite`."""
    written = []
    setup.docs_dir.mkdir(parents=True, exist_ok=True)
    pairs = [(f, setup.docs_dir / f.name) for f in sorted((SAMPLES / "docs").iterdir()) if f.is_file()]
    pairs.append((SAMPLES / "qa.jsonl", setup.qa_path))
    for src, dst in pairs:
        if dst.exists() and not overwrite:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        written.append(dst)
    config = setup.project.path(CONFIG)
    if not config.exists():  # having the file is how a project declares augmentation (checks read it)
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(SAMPLE_CONFIG, encoding="utf-8")
        written.append(config)
    return written


SAMPLE_CONFIG = """\
# Used by: lifecycle rag index / query / eval  (schema: .lifecycle/schemas/rag.schema.json)
# Every key has a default; these are the ones teams change first.
enabled: true        # the project uses retrieval: `lifecycle check integrate` gates on the index and on RAG vs no RAG
docs: data/docs
index_dir: .lifecycle/rag
chunk:
  size: 128          # tokens of the model's tokenizer (whitespace tokens when it does not load offline)
  overlap: 32
embedding:
  model: null        # an encoder folder turns on the dense FAISS index and hybrid retrieval
retrieval:
  mode: auto         # auto | bm25 | dense | hybrid
  k: 3
eval:
  qa: data/rag/qa.jsonl
"""
