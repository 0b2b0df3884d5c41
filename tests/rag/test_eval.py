"""`lifecycle rag eval` end to end with a tiny T5: two runs, recorded retrieval, paired comparison;
and the context budget (chunks dropped before anything is cut)."""

from __future__ import annotations


import pytest


@pytest.fixture
def t5_rag_project(make_project, tiny_t5):
    from lifecycle.project import Project
    from lifecycle.rag.project import install_samples, rag_setup

    root = make_project("question_answering", model=tiny_t5)
    install_samples(rag_setup(Project(root)))
    return root


def test_rag_eval_writes_two_runs_and_a_paired_comparison(t5_rag_project, setup_of):
    from lifecycle.rag.evaluate import read_comparison, run_rag_eval
    from lifecycle.rag.index import build_index

    s = setup_of(t5_rag_project)
    build_index(s.docs_dir, s.index_dir, s.cfg, tokenizer_ref=s.tokenizer_ref())
    res = run_rag_eval(s, k=2, limit=8, samples=100, permutations=200)
    assert res.plain.status == "complete" and res.rag.status == "complete"
    assert res.rag.meta["rag"]["paired_with"] == res.plain.id and res.rag.meta["rag"]["with_context"] is True
    rag = sorted(res.rag.read_predictions(), key=lambda r: r["id"])  # written in batch order
    plain = sorted(res.plain.read_predictions(), key=lambda r: r["id"])
    assert [r["id"] for r in rag] == [r["id"] for r in plain] == [f"q0{i}" for i in range(1, 9)]
    first = rag[0]
    assert len(first["retrieved"]) <= 2 and first["retrieved"][0]["doc_id"] == "varrowmere.md"
    assert {"id", "score", "source", "rank"} <= set(first["retrieved"][0])
    assert first["chunks_used"] == len(first["retrieved"]) and "[1] " in first["prompt"]
    assert "Context" not in plain[0]["prompt"] and plain[0]["chunks_used"] == 0
    m = res.rag.metrics()["metrics"]
    assert m["recall_at_2"]["value"] >= 0.85 and m["recall_at_2"]["ci"][0] <= m["recall_at_2"]["value"]
    assert {"exact_match", "token_f1", "unsupported_answer_rate", "support_precision"} <= set(m)
    cmp = read_comparison(res.rag)
    assert cmp["baseline_run"] == res.plain.id
    em = cmp["metrics"]["exact_match"]
    assert em["n"] == 8 and 0 <= em["p_value"] <= 1 and em["diff"] == pytest.approx(em["b"] - em["a"])
    # the unsupported rate in metrics.json is the same number the comparison used
    assert cmp["metrics"]["unsupported_answer_rate"]["b"] == pytest.approx(m["unsupported_answer_rate"]["value"])

    # exports for ragas/deepeval (JSONL) and promptfoo (tests with vars.context)
    import json

    import yaml

    from lifecycle.rag.export import export_run

    out = s.project.root / "rag.jsonl"
    assert export_run(res.rag, "ragas", out) == 8
    row = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert row["question"] == rag[0]["question"] and row["answer"] == rag[0]["prediction"]
    assert row["contexts"] == rag[0]["passages"][: rag[0]["chunks_used"]] and row["ground_truth"] == "Idony Falk"
    export_run(res.rag, "promptfoo", s.project.root / "tests.yaml")
    tests = yaml.safe_load((s.project.root / "tests.yaml").read_text(encoding="utf-8"))
    assert tests[0]["vars"]["context"].startswith("# The island of Varrowmere")
    assert [a["type"] for a in tests[0]["assert"]] == ["context-faithfulness", "context-recall"]
    from lifecycle.errors import RunError

    with pytest.raises(RunError, match="not the RAG run"):
        export_run(res.plain, "ragas", out)


def test_rag_eval_refuses_a_stale_index(t5_rag_project, setup_of):
    from lifecycle.rag.evaluate import run_rag_eval
    from lifecycle.rag.index import IndexError_

    s = setup_of(t5_rag_project)
    with pytest.raises(IndexError_, match="no index yet"):
        run_rag_eval(s, limit=2)


def test_context_budget_drops_whole_chunks_first():
    from types import SimpleNamespace

    from lifecycle.rag.evaluate import fit_context, format_context

    hits = [SimpleNamespace(chunk={"text": "word " * 20}) for _ in range(4)]
    count = lambda text: len(text.split())  # noqa: E731  (a whitespace "tokenizer")
    template = "Context:\n{context}\nQuestion: {question}"
    full = count(template.format(context=format_context(hits, 4), question="why?"))
    assert fit_context(template, "why?", hits, count, full) == (4, full)
    n, tokens = fit_context(template, "why?", hits, count, full - 1)
    assert n == 3 and tokens < full
    assert fit_context(template, "why?", hits, count, 5)[0] == 0  # nothing fits: no passages at all
    assert format_context(hits, 0) == "(no passages)"


def test_rag_config_needs_a_context_field(tmp_path):
    from lifecycle.config.rag import RagConfig
    from lifecycle.config.yaml_io import load_config
    from lifecycle.errors import ConfigError

    f = tmp_path / "rag.yaml"
    f.write_text("eval:\n  template: 'Question: {question}'\nchunk:\n  size: 16\n  overlap: 16\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(f, RagConfig)
    assert "{context}" in str(err.value) and "overlap (16) must be smaller than size (16)" in str(err.value)
