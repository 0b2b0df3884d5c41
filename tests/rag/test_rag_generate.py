"""`--rag` on `lifecycle generate` and `lifecycle eval run` (tiny T5): the prompt's {context} holds the
retrieved chunks, whole chunks are dropped to fit the token budget (and counted), and the eval run's
predictions record the retrieved chunk ids and scores."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def indexed_qa(indexed_project, tiny_t5):
    return indexed_project(tiny_t5)


def test_generate_and_eval_run_with_rag_record_the_chunks(indexed_qa, cli):
    from lifecycle.runs.store import RunStore

    code, _, err = cli("generate", "--rag", "--limit", "3", "--no-progress", "--show", "0", "--project", indexed_qa)
    assert code == 0, err
    assert "rag: 3 examples, k=3 (bm25)" in err and "dropped to fit the token budget" in err
    store = RunStore(indexed_qa / "runs")
    gen = store.latest("generate")
    rows = gen.read_predictions()
    # the fixture's questions are not about the documents: a question BM25 matches nothing gets "(no passages)"
    assert len(rows) == 3 and all(("[1] " in r["prompt"]) != ("(no passages)" in r["prompt"]) for r in rows)
    assert any("[1] " in r["prompt"] for r in rows)
    assert gen.meta["dataset"]["path"].startswith(str(indexed_qa / ".lifecycle" / "rag" / "augmented"))

    code, out, err = cli("eval", "run", "--rag", "--limit", "3", "--no-report", "--project", indexed_qa)
    assert code == 0, err
    ev = store.latest("eval")
    rag = ev.meta["rag"]
    assert rag["k"] == 3 and rag["examples"] == 3 and rag["generate_run"].split("-")[-2] == "generate"
    assert set(rag["grounding"]) == {"support_precision", "unsupported_answer_rate"}
    assert rag["grounding"]["unsupported_answer_rate"]["higher_is_better"] is False
    preds = ev.read_predictions()
    first = next(p["rag"] for p in preds if p["rag"]["retrieved"])
    assert first["retrieved"] and {"id", "score", "doc_id", "rank"} <= set(first["retrieved"][0])
    assert first["chunks_used"] + first["chunks_dropped"] == len(first["retrieved"])
    assert ev.metrics()["metrics"]["exact_match"]["n"] == 3
    side = [json.loads(x) for x in open(rag["retrieval"], encoding="utf-8")]
    assert {r["id"] for r in side} == {p["id"] for p in preds}


def test_the_budget_drops_whole_chunks_and_says_so(indexed_qa, cli):
    from lifecycle.project import Project
    from lifecycle.rag.augment import augment_dataset

    # questions naming every document, so that all 10 chunks are retrieved: more than a 512-token window holds
    wide = "What do the fictional Varrowmere, Glimmerline, Sorrel Cup, Quillon, Wrenlet, zephyrine, library and festival share?"
    data = indexed_qa / "data" / "wide.jsonl"
    data.write_text("".join(json.dumps({"id": f"w{i}", "context": "-", "question": wide, "answer": "x"}) + "\n"
                            for i in range(4)), encoding="utf-8")
    aug = augment_dataset(Project(indexed_qa), data=data, k=10)
    used = [r["chunks_used"] for r in aug.rows]
    assert aug.summary["chunks_dropped_total"] > 0 and all(r["prompt_tokens"] <= aug.summary["token_limit"]
                                                           for r in aug.rows)
    assert max(used) < 10 and aug.summary["chunks_dropped_total"] == sum(10 - u for u in used)
    rows = [json.loads(x) for x in aug.data.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["context"].count("\n[") == used[0] - 1  # exactly the chunks used, numbered [1]..[n]
    again = augment_dataset(Project(indexed_qa), data=data, k=10)
    assert again.data == aug.data  # content-addressed: the same inputs reuse the same file


def test_rag_on_a_stale_index_is_refused(indexed_qa, cli):
    (indexed_qa / "data" / "docs" / "library.md").write_text("The library moved to the harbour.", encoding="utf-8")
    code, _, err = cli("generate", "--rag", "--limit", "1", "--project", indexed_qa)
    assert code != 0 and "lifecycle rag index" in err and "Traceback" not in err
