{%- set p = project(cookiecutter) -%}
"""The retrieval hooks (src/{{ p.manifest.project.package }}/retrieval.py), configs/rag.yaml and the RAG sample:
data/docs/ and data/rag/qa.jsonl (questions with gold passage ids, some unanswerable)."""

import json
from pathlib import Path

import yaml

from {{ p.manifest.project.package }}.retrieval import MAX_PER_DOCUMENT, filter_chunks, rewrite_query

ROOT = Path(__file__).resolve().parents[1]


def test_rewrite_query_drops_the_polite_opening():
    assert rewrite_query("Could you tell me   who founded Ostrel Harbour?") == "who founded Ostrel Harbour?"
    assert rewrite_query("Who founded Ostrel Harbour?") == "Who founded Ostrel Harbour?"
    assert rewrite_query("please") == "please"  # never empty


def test_filter_chunks_caps_chunks_per_document_and_keeps_order():
    chunks = [{"id": f"a#{i}", "doc_id": "a", "score": 3.0 - i} for i in range(3)] + [{"id": "b#0", "doc_id": "b", "score": 0.5}]
    kept = filter_chunks("q", chunks)
    assert [c["id"] for c in kept] == [f"a#{i}" for i in range(MAX_PER_DOCUMENT)] + ["b#0"]


def test_rag_config_names_these_hooks():
    cfg = yaml.safe_load((ROOT / "configs" / "rag.yaml").read_text(encoding="utf-8"))
    package = "{{ p.manifest.project.package }}"
    assert cfg["hooks"] == {"rewrite_query": f"{package}.retrieval:rewrite_query",
                            "filter_chunks": f"{package}.retrieval:filter_chunks"}
    assert (ROOT / cfg["docs"]).is_dir() and (ROOT / cfg["eval"]["qa"]).is_file()


def test_qa_set_has_gold_passages_that_exist_and_unanswerable_questions():
    cfg = yaml.safe_load((ROOT / "configs" / "rag.yaml").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (ROOT / cfg["eval"]["qa"]).read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = ROOT / cfg["docs"]
    ids = {p.name for p in docs.iterdir()}
    for f in docs.glob("*.jsonl"):
        ids |= {json.loads(line)["id"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert len(rows) >= 20 and sum(not r["answerable"] for r in rows) >= 5
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["answerable"] == bool(r["gold"]) == bool(r["answer"]), r["id"]
        assert set(r["gold"]) <= ids, r["id"]
