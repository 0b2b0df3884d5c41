"""`lifecycle rag eval`: the same questions answered without and with retrieved context, through the
project's model, generation settings, Engine and prompt builder; two run folders (kind rag_eval) and
a paired comparison (lifecycle/evaluation/statistics/bootstrap.py) written into the RAG run.

The token budget counts the context: when a prompt does not fit, whole chunks are dropped from the
end (least relevant first) before anything else; each prediction records the chunks used and dropped.
Both runs score groundedness against the same retrieved passages, so the no-RAG run's unsupported
rate says how often the bare model states what the documents do not support."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text
from lifecycle.errors import PromptError
from lifecycle.evaluation.statistics.intervals import metrics_doc
from lifecycle.rag.project import RagSetup
from lifecycle.hashing import file_sha256
from lifecycle.runs.store import Run, RunStore
KIND = "rag_eval"
COMPARISON = "comparison.json"
NO_PASSAGES = "(no passages)"
ABSTAIN_REFERENCE = "I don't know"


@dataclass
class RagEvalResult:
    plain: Run
    rag: Run
    comparison: dict


def format_context(hits, n: int) -> str:
    if n == 0:
        return NO_PASSAGES
    return "\n".join(f"[{i}] {h.chunk['text']}" for i, h in enumerate(hits[:n], start=1))


def fit_context(template: str, question: str, hits, count, limit: int) -> tuple[int, int]:
    """(chunks used, tokens) for the most chunks whose prompt fits `limit` tokens."""
    return fit_example(template, {"question": question}, hits, count, limit)


def fit_example(template: str, example: dict, hits, count, limit: int, prepare=None) -> tuple[int, int]:
    """fit_context for a template reading any of the example's fields plus {context}; `prepare` (the
    project's preprocess function, example -> example) is applied before counting, as the prompt will be."""
    from lifecycle.prompt_template import render_template

    n = len(hits)
    while True:
        values = {**example, "context": format_context(hits, n)}
        tokens = count(render_template(template, prepare(values) if prepare else values))
        if tokens <= limit or n == 0:
            return n, tokens
        n -= 1


def _model(project):
    from lifecycle.loading import load_model_from_config

    cfg = project.model_config()
    local = project.path(cfg.model)
    if local.is_dir():
        cfg = cfg.model_copy(update={"model": str(local.resolve())})
    return cfg, load_model_from_config(cfg)


def _settings(project):
    from lifecycle.config.generation import GenerationSettings

    try:
        gen_file = project.path(project.manifest.adaptation.generation)
    except Exception:  # a project without a readable manifest entry: defaults
        gen_file = project.path("configs/generation.yaml")
    return project.generation_config() if gen_file.is_file() else GenerationSettings()


def run_rag_eval(setup: RagSetup, *, k: int | None = None, mode: str | None = None, limit: int | None = None,
                 samples: int = 1000, permutations: int = 2000, argv: list[str] | None = None) -> RagEvalResult:
    from lifecycle.generation.engine import Engine
    from lifecycle.rag.qa import load_qa

    project, cfg = setup.project, setup.cfg
    setup.require_fresh()
    questions = load_qa(setup.qa_path, limit)
    from lifecycle.rag.retrieve import check_queries

    check_queries([q.question for q in questions], [q.id for q in questions], cfg.retrieval.max_query_chars,
                  str(setup.qa_path))
    retriever = setup.retriever()
    mode = retriever.resolve_mode(mode)
    k = k or cfg.retrieval.k
    hits = retriever.search_many([q.question for q in questions], k, mode)

    model_cfg, loaded = _model(project)
    settings = _settings(project)
    tok = loaded.tokenizer
    reserve = 0 if loaded.encoder_decoder else settings.max_new_tokens
    limit_tokens = loaded.context_window - reserve

    def count(text: str) -> int:
        return len(tok(text, verbose=False)["input_ids"])

    # The project's prompt pipeline: its preprocess function sees each example (with its context),
    # its chat template / system message / stop sequences apply, as in `eval run`.
    from lifecycle.rag.task_prompt import prepared, render, task_prompt_config

    rag_pc = task_prompt_config(project, cfg.eval.template, "reference", budget={"policy": "error"})
    plain_pc = task_prompt_config(project, cfg.eval.plain_template, "reference", budget={"policy": "error"})

    engine = Engine(loaded, settings, stop=rag_pc.stop)  # the project's stop sequences, as in `eval run`

    def prepare_one(example: dict) -> dict:
        return prepared(project, rag_pc, [example])[0]

    rag_examples, plain_examples, used = [], [], []
    for q, h in zip(questions, hits):
        ref = q.answers[0] if q.answers else ABSTAIN_REFERENCE
        base = {"id": q.id, "question": q.question, "reference": ref}
        n, _ = fit_example(cfg.eval.template, base, h, count, limit_tokens, prepare=prepare_one)
        used.append(n)
        rag_examples.append({**base, "context": format_context(h, n)})
        plain_examples.append(base)

    try:
        rag_prompts = render(rag_pc, prepared(project, rag_pc, rag_examples), setup.qa_path, loaded, settings)
        plain_prompts = render(plain_pc, prepared(project, plain_pc, plain_examples), setup.qa_path, loaded, settings)
    except PromptError as err:
        raise PromptError(f"{err.message} (even with no retrieved chunks)", hint=err.hint) from err

    manifest = retriever.manifest
    dataset = {"path": str(setup.qa_path), "sha256": file_sha256(setup.qa_path), "examples": len(questions)}
    index_meta = {"dir": str(setup.index_dir), "chunks": manifest["chunks"], "chunks_sha256": manifest["chunks_sha256"],
                  "built": manifest["built"], "fresh": True}
    common = {"k": k, "retrieval_mode": mode, "index": index_meta}
    config = {"rag": cfg.model_dump(mode="json"), "generation": settings.resolved().model_dump(mode="json"),
              "model": model_cfg.model_dump(mode="json"), "k": k, "mode": mode, "limit": limit}
    store = RunStore(project.runs_dir)
    scores = {}
    runs = {}
    for role, ps in (("no_rag", plain_prompts), ("rag", rag_prompts)):
        extra = {"role": role, "rag": {**common, "with_context": role == "rag"}}
        if role == "rag":
            extra["rag"]["paired_with"] = runs["no_rag"].id
        with store.new_run(KIND, config={**config, "role": role}, model=loaded.describe(), dataset=dataset,
                           seed=settings.seed, extra=extra, argv=argv) as run:
            records = _generate(engine, ps, questions, hits, used, role == "rag", run)
            scores[role], doc = _score(records, questions, hits, cfg, k, samples)
            run.write_metrics(doc)
            if role == "rag":
                comparison = _compare(scores["no_rag"], scores["rag"], runs["no_rag"].id, run.id, samples, permutations)
                atomic_write_text(run.path / COMPARISON, json.dumps(comparison, indent=2) + "\n")
                run.update_meta(rag={**run.meta["rag"], "comparison": {
                    m: {"diff": r["diff"], "p_value": r["p_value"], "verdict": r["verdict"]}
                    for m, r in comparison["metrics"].items()}})
            run.finish("complete", examples=len(records))
        runs[role] = run
    return RagEvalResult(runs["no_rag"], runs["rag"], comparison)


def _generate(engine, prompts, questions, hits, used, with_context: bool, run: Run) -> list[dict]:
    from lifecycle.generation.runner import prediction_record

    records: list[dict | None] = [None] * len(prompts)
    with run.prediction_writer() as writer:
        for index, gen in engine.iter_generate(prompts):
            q, h = questions[index], hits[index]
            rec = prediction_record(prompts[index], gen, q.id)
            rec.update({
                "question": q.question, "answerable": q.answerable, "gold": q.gold,
                "retrieved": [x.to_dict() for x in h],
                "passages": [x.chunk["text"] for x in h],  # what groundedness is scored against
                "chunks_used": used[index] if with_context else 0,
                "chunks_dropped": len(h) - used[index] if with_context else 0,
                "with_context": with_context,
            })
            writer.write(rec)
            records[index] = rec
    return records  # type: ignore[return-value]


def _score(records, questions, hits, cfg, k: int, samples: int):
    from lifecycle.evaluation.metrics.registry import compute_metrics
    from lifecycle.evaluation.metrics.scorers import mean_scores

    answers = [r["prediction"] for r in records]
    refs = [q.answers or [ABSTAIN_REFERENCE] for q in questions]
    context = {"passages": [[x.chunk["text"] for x in h] for h in hits], "answerable": [q.answerable for q in questions],
               "retrieved": [[x.chunk for x in h] for h in hits], "gold": [q.gold for q in questions]}
    names = ["exact_match", "token_f1", "support_precision",
             ("unsupported_answer_rate", {"threshold": cfg.eval.support_threshold}), "abstention_rate",
             *(["citation_validity"] if cfg.eval.citations else []), *(f"recall_at_{n}" for n in sorted({1, k})), "mrr"]
    scores = dict(compute_metrics(names, answers, refs, context=context))
    doc = metrics_doc(scores, samples=samples)
    doc["n"] = len(records)
    doc["chunks_used"] = {"mean": float(mean_scores([r["chunks_used"] for r in records]).value),
                          "dropped_total": int(sum(r["chunks_dropped"] for r in records))}
    return scores, doc


PAIRED = {"exact_match": True, "token_f1": True, "unsupported_answer_rate": False, "abstention_rate": True}


def _compare(a: dict, b: dict, a_id: str, b_id: str, samples: int, permutations: int) -> dict:
    """Paired bootstrap + permutation test, B (RAG) - A (no RAG), per metric defined on the same questions."""
    from lifecycle.evaluation.statistics.bootstrap import compare_scores

    out = {"baseline_run": a_id, "run": b_id, "metrics": {}}
    for name, hib in PAIRED.items():
        if name in a and name in b and len(a[name].per_example) and a[name].stats.shape == b[name].stats.shape:
            out["metrics"][name] = compare_scores(name, a[name], b[name], higher_is_better=hib, samples=samples,
                                                  permutations=permutations).as_dict()
    return out


def comparison_table(result: RagEvalResult) -> str:
    rows = [["metric", "no RAG", "RAG", "RAG - no RAG", "95% CI", "p", "verdict"]]
    for m, r in result.comparison["metrics"].items():
        verdict = r["verdict"].replace("B better", "RAG better").replace("A better", "no-RAG better")
        rows.append([m, f"{r['a']:.4f}", f"{r['b']:.4f}", f"{r['diff']:+.4f}",
                     f"[{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]", f"{r['p_value']:.4f}", verdict])
    widths = [max(len(x[i]) for x in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows)


def read_comparison(run: Run) -> dict | None:
    f = Path(run.path) / COMPARISON
    if not f.is_file():
        return None
    from lifecycle.errors import RunError
    from lifecycle.paths import safe_path
    from lifecycle.textio import read_json

    return read_json(safe_path(f, what="comparison file"), kind="comparison file", error=RunError)
