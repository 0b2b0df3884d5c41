"""`lifecycle rag`: index the project's documents, query the index, measure whether retrieval makes
answers better and better grounded. Thin: parse -> call lifecycle.rag -> print."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

rag_app = sub_app(
    help="Retrieval-augmented generation: index data/docs/, query it, RAG vs no-RAG with groundedness metrics.",
    epilog="Examples:\n\n"
    "  lifecycle rag samples                 # example documents (fictional facts) + data/rag/qa.jsonl\n\n"
    "  lifecycle rag index                   # chunk, BM25 (+ FAISS when embedding.model is set)\n\n"
    '  lifecycle rag query "Who founded Ostrel Harbour?" -k 3\n\n'
    "  lifecycle rag status                  # is the index stale?\n\n"
    "  lifecycle rag eval -k 3               # two runs (no RAG, RAG) + paired comparison",
)
_CONFIG = typer.Option(None, "--config", "-c", help="RAG config (default: configs/rag.yaml; defaults without it).")
_MODE = typer.Option(None, "--mode", help="auto | bm25 | dense | hybrid (default: retrieval.mode).")


def _setup(project, config):
    from lifecycle.project import Project
    from lifecycle.rag.project import rag_setup

    return rag_setup(Project.find(project), config)


@rag_app.command("samples", epilog="Examples:\n\n  lifecycle rag samples\n\n  lifecycle rag samples --overwrite\n\n"
                 "Writes documents of fictional facts (a base model cannot know them) into the docs folder and "
                 "22 questions with gold passage ids (5 unanswerable) into eval.qa.")
def samples_cmd(overwrite: bool = typer.Option(False, "--overwrite", help="Replace files that exist."),
                config: Optional[Path] = _CONFIG, project: Optional[Path] = PROJECT_OPTION) -> None:
    """Write the sample documents and QA set into the project."""
    from lifecycle.rag.project import install_samples

    written = install_samples(_setup(project, config), overwrite=overwrite)
    for p in written:
        typer.echo(f"wrote {p}")
    if not written:
        typer.echo("nothing written: the sample files exist (--overwrite replaces them)")


@rag_app.command("index", epilog="Examples:\n\n  lifecycle rag index\n\n  lifecycle rag index --rebuild\n\n"
                 "Unchanged documents keep their chunks and vectors; the manifest records every document's sha256 "
                 "so `lifecycle rag status` and `lifecycle check integrate` detect a stale index.")
def index_cmd(rebuild: bool = typer.Option(False, "--rebuild", help="Ignore the existing index and redo everything."),
              config: Optional[Path] = _CONFIG, project: Optional[Path] = PROJECT_OPTION) -> None:
    """Chunk data/docs/ and build the BM25 (and dense) index."""
    from lifecycle.rag.index import build_index

    s = _setup(project, config)
    rep = build_index(s.docs_dir, s.index_dir, s.cfg, tokenizer_ref=s.tokenizer_ref(), rebuild=rebuild)
    for w in rep.warnings:
        typer.echo(f"warning: {w}", err=True)
    dense = f"; dense: {rep.embedded} embedded, {rep.vectors_reused} reused" if s.cfg.embedding.model else ""
    typer.echo(f"indexed {rep.documents} documents into {rep.chunks} chunks ({rep.files_chunked} files chunked, "
               f"{rep.files_reused} unchanged{dense}) in {rep.seconds:.2f}s -> {rep.path}")


@rag_app.command("status", epilog="Examples:\n\n  lifecycle rag status\n\n  lifecycle rag status --json\n\n"
                 "Exit code 1 when the index is missing or stale.")
def status_cmd(as_json: bool = typer.Option(False, "--json"), config: Optional[Path] = _CONFIG,
               project: Optional[Path] = PROJECT_OPTION) -> None:
    """Whether the index matches the documents."""

    s = _setup(project, config)
    fr = s.freshness()
    if as_json:
        typer.echo(json.dumps({"fresh": fr.fresh, "exists": fr.exists, "changed": fr.changed, "added": fr.added,
                               "removed": fr.removed, "settings_changed": fr.settings_changed}))
    else:
        typer.echo(f"{s.index_dir}: {fr.line()}")
    if not fr.fresh:
        raise typer.Exit(1)


@rag_app.command("query", epilog="Examples:\n\n"
                 '  lifecycle rag query "Who founded Ostrel Harbour?"\n\n'
                 '  lifecycle rag query "How tall is the lighthouse?" -k 5 --mode bm25 --json\n\n'
                 "Refuses to answer from a stale index (rebuild with `lifecycle rag index`).")
def query_cmd(question: str = typer.Argument(..., help="The question (1 to retrieval.max_query_chars characters)."),
              k: Optional[int] = typer.Option(None, "-k", "--k", min=1, max=100, help="Chunks to return (default: retrieval.k)."),
              mode: Optional[str] = _MODE, as_json: bool = typer.Option(False, "--json", help="One JSON object per hit."),
              allow_stale: bool = typer.Option(False, "--allow-stale", help="Query an index older than the documents."),
              config: Optional[Path] = _CONFIG, project: Optional[Path] = PROJECT_OPTION) -> None:
    """The chunks retrieved for a question, with scores and sources."""
    from lifecycle.rag.index import IndexError_
    from lifecycle.rag.retrieve import check_query

    s = _setup(project, config)
    check_query(question, s.cfg.retrieval.max_query_chars)
    fr = s.freshness()
    if fr.exists and not fr.fresh and not allow_stale:
        raise IndexError_(f"{s.index_dir}: {fr.line()}", hint="run `lifecycle rag index` (or pass --allow-stale)")
    hits = s.retriever().search(question, k, mode)
    if not hits:
        typer.echo("no chunk matches the question", err=True)
    for h in hits:
        if as_json:
            typer.echo(json.dumps({**h.to_dict(), "text": h.chunk["text"]}, ensure_ascii=False))
            continue
        where = h.chunk["source"] + (f":{h.chunk['line']}" if h.chunk.get("line") else "")
        text = " ".join(h.chunk["text"].split())
        typer.echo(f"{h.rank}. {h.score:.4f}  {h.id}  ({where}, chars {h.chunk['start']}-{h.chunk['end']}, {h.via})")
        typer.echo(f"   {text[:300]}{' ...' if len(text) > 300 else ''}")


@rag_app.command("eval", epilog="Examples:\n\n  lifecycle rag eval\n\n  lifecycle rag eval -k 5 --mode bm25 --limit 10\n\n"
                 "Generates answers to eval.qa without and with retrieved context (the prompt's {context} field; "
                 "chunks are dropped, least relevant first, until the prompt fits), writes two rag_eval runs whose "
                 "predictions record retrieved chunk ids and scores, and prints the paired comparison.")
def eval_cmd(k: Optional[int] = typer.Option(None, "-k", "--k", min=1, max=100, help="Chunks retrieved per question."),
             mode: Optional[str] = _MODE,
             limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="Only the first N questions."),
             samples: int = typer.Option(1000, "--samples", min=10, help="Bootstrap resamples."),
             config: Optional[Path] = _CONFIG, project: Optional[Path] = PROJECT_OPTION) -> None:
    """RAG vs no-RAG on the QA set: exact match, F1, groundedness; paired tests."""
    from lifecycle.rag.evaluate import comparison_table, run_rag_eval

    s = _setup(project, config)
    res = run_rag_eval(s, k=k, mode=mode, limit=limit, samples=samples, argv=sys.argv)
    typer.echo(f"no RAG: {res.plain.id}\nRAG:    {res.rag.id}")
    m = res.rag.metrics()["metrics"]
    shown = [f"{n}={m[n]['value']:.3f}" for n in m if n.startswith(("recall_at_", "mrr")) and m[n]["value"] is not None]
    typer.echo("retrieval: " + ", ".join(shown))
    used = res.rag.metrics().get("chunks_used") or {}
    typer.echo(f"context: {used.get('mean', 0):.2f} chunks per prompt, {used.get('dropped_total', 0)} dropped "
               "to fit the token budget")
    typer.echo(comparison_table(res))


@rag_app.command("export", epilog="Examples:\n\n  lifecycle rag export RUN --to ragas --out rag.jsonl\n\n"
                 "  lifecycle rag export RUN --to promptfoo --out promptfooconfig.tests.yaml\n\n"
                 "ragas/deepeval JSONL: question, answer, contexts, ground_truth. promptfoo: vars.query and "
                 "vars.context with context-faithfulness and context-recall assertions.")
def export_cmd(run: str = typer.Argument(..., help="The RAG run of `lifecycle rag eval` (id, prefix or folder)."),
               to: str = typer.Option(..., "--to", help="ragas | promptfoo"),
               out: Path = typer.Option(..., "--out", "-o", help="Output file."),
               project: Optional[Path] = PROJECT_OPTION) -> None:
    """Export a RAG run's questions, answers and contexts for ragas/deepeval or promptfoo."""
    from lifecycle.project import Project
    from lifecycle.rag.export import export_run
    from lifecycle.runs.store import RunStore

    proj = Project.find(project)
    n = export_run(RunStore(proj.runs_dir).get(run), to, out)
    typer.echo(f"wrote {n} questions to {out}")
