"""`--rag` on `lifecycle generate` and `lifecycle eval run`: the dataset's examples with a `context`
field filled by retrieval, written as a derived dataset that the one generation pipeline reads.

    .lifecycle/rag/augmented/<stem>-<hash>.jsonl            the examples, `context` = "[1] chunk ..."
    .lifecycle/rag/augmented/<stem>-<hash>.retrieval.jsonl  per example id: query, retrieved chunk ids,
                                                            scores, sources, chunks used and dropped
    .lifecycle/rag/augmented/prompt-<hash>.yaml             the prompt config with a {context} field,
                                                            when the project's template has none

The token budget counts the context: for each example, whole chunks are dropped from the end (least
relevant first) until the zero-shot prompt fits the model's window, before the pipeline's own
budget would cut anything; the numbers dropped are returned and recorded. Files are named by their
content hash, so a re-run with the same inputs reuses them and nothing is overwritten."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text
from lifecycle.errors import PromptError
from lifecycle.rag.evaluate import fit_example, format_context
from lifecycle.rag.project import rag_setup
from lifecycle.hashing import file_sha256, stable_hash
CONTEXT_PREFIX = "Context:\n{context}\n\n"
OUT = "augmented"


def context_template(template: str) -> str:
    """The prompt template with a {context} field: the project's own, or the context put before it."""
    return template if "{context}" in template else CONTEXT_PREFIX + template


@dataclass
class Augmented:
    data: Path                    # the derived dataset (examples with `context`)
    retrieval: Path               # per example: chunk ids, scores, used/dropped
    prompt_config: Path | None    # derived prompt config when {context} had to be added
    source: Path                  # the dataset it was derived from
    summary: dict = field(default_factory=dict)  # what run records keep (k, mode, index, chunks used/dropped)
    rows: list[dict] = field(default_factory=list)  # the retrieval rows, in dataset order

    def line(self) -> str:
        s = self.summary
        return (f"rag: {s['examples']} examples, k={s['k']} ({s['mode']}), {s['chunks_used_mean']:.2f} chunks per "
                f"prompt, {s['chunks_dropped_total']} dropped to fit the token budget "
                f"({s['examples_with_drops']} examples) -> {self.data}")


def _query_field(template: str, cfg, prompt_cfg) -> str:
    from lifecycle.prompt_template import template_fields

    if cfg.query_field:
        return cfg.query_field
    fields = [f for f in template_fields(template) if f not in ("context", prompt_cfg.target_field)]
    if not fields:
        raise PromptError("--rag: the prompt template has no input field to search with",
                          hint="set query_field in configs/rag.yaml")
    return "question" if "question" in fields else fields[0]


def _write_once(path: Path, text: str) -> Path:
    if not path.is_file():  # content-addressed: an existing file already holds exactly this text
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    return path


def augment_dataset(project, *, data: Path | None = None, prompt_config: Path | None = None,
                    prompt_preset: str | None = None, model: str | None = None, k: int | None = None,
                    mode: str | None = None, limit: int | None = None, rag_config: Path | None = None) -> Augmented:
    from lifecycle.loading import context_window, is_encoder_decoder, load_tokenizer
    from lifecycle.paths import safe_path
    from lifecycle.data import load_jsonl, prompt_field_types
    from lifecycle.prompting.preprocess import project_preprocess
    from lifecycle.prompting.project_inputs import dataset_path, load_prompt_config
    from lifecycle.rag.evaluate import _settings

    setup = rag_setup(project, rag_config)
    setup.require_fresh()
    cfg = setup.cfg
    prompt_cfg = load_prompt_config(project, prompt_config, prompt_preset)
    template = context_template(prompt_cfg.template)
    source = safe_path(dataset_path(project, data)).resolve()
    # The derived dataset holds the examples as read (plus `context`): the pipeline that reads it applies
    # the project's preprocess function once, to the example with its context. Here it is applied only
    # to pick the query and to count the tokens of the prompt the model will get.
    raw = load_jsonl(source, id_field=prompt_cfg.id_field, limit=limit, **prompt_field_types(prompt_cfg))
    prepare = project_preprocess(project, prompt_cfg)
    examples = prepare(raw) or []
    qfield = _query_field(template, cfg, prompt_cfg)
    missing = [e[prompt_cfg.id_field] for e in examples if not str(e.get(qfield) or "").strip()]
    if missing:
        raise PromptError(f"--rag: {source}: example {missing[0]} has no '{qfield}' to search with",
                          hint="fill the field, or set query_field in configs/rag.yaml")
    from lifecycle.rag.retrieve import check_queries

    queries = [str(e[qfield]) for e in examples]
    check_queries(queries, [e[prompt_cfg.id_field] for e in examples], cfg.retrieval.max_query_chars,
                  f"--rag: {source}: '{qfield}'")
    retriever = setup.retriever()
    mode = retriever.resolve_mode(mode)
    k = k or cfg.retrieval.k
    hits = retriever.search_many(queries, k, mode)

    model_cfg = project.model_config_for(model)
    from transformers import AutoConfig

    hf_cfg = AutoConfig.from_pretrained(model_cfg.model, revision=model_cfg.revision,
                                        trust_remote_code=model_cfg.trust_remote_code)
    tok = load_tokenizer(model_cfg.model, model_cfg.revision, model_cfg.trust_remote_code)
    settings = _settings(project)
    window = context_window(hf_cfg, tok, getattr(model_cfg, "context_window", None))
    limit_tokens = window - (0 if is_encoder_decoder(hf_cfg) else settings.max_new_tokens)

    def count(text: str) -> int:
        return len(tok(text, verbose=False)["input_ids"])

    columns = dict(prompt_cfg.fields or {})
    out_rows, rows = [], []
    for ex, original, h in zip(examples, raw, hits):
        n, tokens = fit_example(template, original, h, count, limit_tokens, prepare=lambda e: prepare([e])[0])
        # written under the data's own column names: the pipeline reads it through `fields` again
        out_rows.append({columns.get(key, key): v for key, v in {**original, "context": format_context(h, n)}.items()})
        rows.append({"id": ex[prompt_cfg.id_field], "query": str(ex[qfield]),
                     "retrieved": [x.to_dict() for x in h], "passages": [x.chunk["text"] for x in h],
                     "chunks_used": n, "chunks_dropped": len(h) - n, "prompt_tokens": tokens})
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out_rows)
    side = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    folder = setup.index_dir / OUT
    key = stable_hash({"data": text, "retrieval": side}, 12)
    data_out = _write_once(folder / f"{source.stem}-{key}.jsonl", text)
    side_out = _write_once(folder / f"{source.stem}-{key}.retrieval.jsonl", side)
    prompt_out = None
    if template != prompt_cfg.template or prompt_preset:
        import yaml

        body = {**prompt_cfg.model_dump(mode="json", exclude_none=True), "template": template}
        body.pop("preset", None)
        doc = "# Derived by --rag from the project's prompt config: {context} holds the retrieved chunks.\n" + \
            yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
        prompt_out = _write_once(folder / f"prompt-{stable_hash(doc, 12)}.yaml", doc)
    manifest = retriever.manifest
    used = [r["chunks_used"] for r in rows]
    summary = {"k": k, "mode": mode, "query_field": qfield, "examples": len(rows),
               "chunks_used_mean": sum(used) / max(len(used), 1),
               "chunks_dropped_total": sum(r["chunks_dropped"] for r in rows),
               "examples_with_drops": sum(1 for r in rows if r["chunks_dropped"]),
               "token_limit": limit_tokens,
               "index": {"dir": str(setup.index_dir), "chunks": manifest["chunks"],
                         "chunks_sha256": manifest["chunks_sha256"], "built": manifest["built"]},
               "source": {"path": str(source), "sha256": file_sha256(source)},
               "data": str(data_out), "retrieval": str(side_out),
               "prompt_config": str(prompt_out) if prompt_out else None}
    return Augmented(data_out, side_out, prompt_out, source, summary, rows)


def grounding_metrics(aug: Augmented, predictions: dict[str, str], *, threshold: float = 0.75,
                      samples: int = 1000) -> dict:
    """support_precision and unsupported_answer_rate of predictions (id -> text) against the chunks each
    prompt was given, with bootstrap CIs (lifecycle.evaluation.statistics.intervals.metrics_doc layout)."""
    from lifecycle.evaluation.metrics.registry import compute_metrics
    from lifecycle.evaluation.statistics.intervals import metrics_doc

    rows = [r for r in aug.rows if r["id"] in predictions]
    if not rows:
        return {}
    answers = [predictions[r["id"]] for r in rows]
    context = {"passages": [r["passages"][: r["chunks_used"]] for r in rows]}
    scores = compute_metrics(["support_precision", ("unsupported_answer_rate", {"threshold": threshold})],
                             answers, [["-"]] * len(rows), context=context)
    return metrics_doc(scores, samples=samples)


def eval_with_rag(project, opts, *, on_run=None, k: int | None = None, mode: str | None = None):
    """`lifecycle eval run --rag`: per shot count, generate on the retrieval-augmented eval set (a generate
    run), then score those predictions as an eval run whose predictions.jsonl carries each example's
    retrieved chunk ids and scores (`rag`), and whose run.yaml `rag` holds the retrieval summary and the
    groundedness metrics against the chunks each prompt was given. Returns the EvalOutcome of each."""
    from dataclasses import replace

    from lifecycle.errors import EvaluationError
    from lifecycle.evaluation.roles import role_of
    from lifecycle.evaluation.runner import run_eval
    from lifecycle.generation.session import GenerateRequest, run_generate
    from lifecycle.rag.evaluate import _settings

    if opts.predictions or opts.rescore or opts.resume:
        raise EvaluationError("--rag generates with retrieved context; it does not combine with --predictions, "
                              "--rescore or --resume", hint="drop --rag, or the other option")
    aug = augment_dataset(project, limit=opts.limit, k=k, mode=mode)
    if on_run:
        on_run(aug.line())
    by_id = {r["id"]: r for r in aug.rows}
    shots = opts.shots if opts.shots is not None else project.eval_config().shots
    threshold = rag_setup(project).cfg.eval.support_threshold
    outcomes = []
    for n_shots in shots:
        gen = run_generate(project, GenerateRequest(shots=[n_shots], limit=opts.limit, data=aug.data,
                                                    prompt_config=aug.prompt_config), progress=opts.progress)[0]
        records = [{**rec, "rag": {key: by_id[rec["id"]][key] for key in
                                   ("query", "retrieved", "chunks_used", "chunks_dropped")}} for rec in gen.records]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        preds = _write_once(aug.data.parent / f"{gen.run.id}.predictions.jsonl", text)
        grounding = grounding_metrics(aug, {r["id"]: r["prediction"] for r in gen.records}, threshold=threshold)
        meta = {**opts.extra_meta, "model": gen.run.meta.get("model") or {},
                "rag": {**aug.summary, "generate_run": gen.run.id, "predictions": str(preds),
                        "grounding": grounding.get("metrics", {})}}
        outcomes.append(run_eval(project, replace(opts, shots=[n_shots], predictions=preds, extra_meta=meta,
                                                  role=opts.role or role_of(gen.run), generation=_settings(project)),
                                 on_run=on_run))
    return outcomes
