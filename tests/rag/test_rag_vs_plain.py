"""Must-show of issue 14: a tiny T5 fine-tuned (here, on the fly, CPU) to copy answers from its context
answers better with retrieval than without, by the paired test `lifecycle eval compare` uses
(lifecycle/evaluation/statistics/bootstrap.py: paired bootstrap + paired permutation): exact match up and
unsupported-answer rate down, both with p < 0.05.

The facts are random pairings of made-up words, drawn afresh for every training example, so the only
way to answer is to read the context: the model cannot have memorised the held-out facts, and
without context it can only invent an answer."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import pytest

RAG_TEMPLATE = "{context} Question: {question}"
PLAIN_TEMPLATE = "Question: {question}"
SYLLABLES = ["ka", "lo", "mer", "vin", "tas", "qu", "ro", "bel", "dor", "fen", "gal", "hui", "jor", "lum",
             "nax", "pel", "sor", "tev", "ul", "wyn"]


def _fact(place: str, keeper: str) -> str:
    return f"The keeper of {place} is {keeper}."


def _question(place: str) -> str:
    return f"Who is the keeper of {place}?"


def _words(rng: random.Random, syllables: int, n: int) -> list[str]:
    out: dict[str, None] = {}
    while len(out) < n:
        out["".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()] = None
    return list(out)


def _train_copier(folder, places, keepers, rng, *, max_steps: int = 300, batch: int = 32):
    """Build a tiny T5 (tokenizer trained on these words) and fine-tune it until it copies the keeper
    out of "[1] The keeper of X is Y. Question: Who is the keeper of X?" (running loss < 0.15)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    from lifecycle.prompt_template import render_template
    from lifecycle.rag.evaluate import format_context
    from lifecycle.testing import build_tiny_model, train_tokenizer

    corpus = [_fact(p, rng.choice(keepers)) + " " + _question(p) for p in places] + keepers
    corpus += [RAG_TEMPLATE, PLAIN_TEMPLATE, "I don't know", "(no passages)"]
    tok = train_tokenizer(corpus, 700)
    assert all(len(tok(" " + k, add_special_tokens=False)["input_ids"]) == 1 for k in keepers)
    build_tiny_model(folder, "t5", tokenizer=tok, seed=0,
                     size={"d_model": 64, "d_ff": 128, "d_kv": 16, "num_heads": 4, "num_layers": 1,
                           "tie_word_embeddings": True})
    torch.manual_seed(0)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    losses: list[float] = []
    for step in range(max_steps):
        rows = []
        for _ in range(batch):  # a fresh pairing every time: copying is the only way to lower the loss
            place, keeper = rng.choice(places), rng.choice(keepers)
            hit = SimpleNamespace(chunk={"text": _fact(place, keeper)})
            rows.append((render_template(RAG_TEMPLATE, {"question": _question(place),
                                                        "context": format_context([hit], 1)}), " " + keeper))
        enc = tok([r[0] for r in rows], return_tensors="pt", padding=True)
        labels = tok([r[1] for r in rows], return_tensors="pt", padding=True)["input_ids"]
        labels[labels == tok.pad_token_id] = -100
        loss = model(**enc, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
        if step >= 20 and sum(losses[-10:]) / 10 < 0.15:
            break
    model.eval()
    model.save_pretrained(folder)
    return step + 1, sum(losses[-10:]) / 10


@pytest.fixture
def copier_project(make_project, tmp_path):
    """A QA project whose documents are 30 held-out facts, 35 questions (5 about places with no
    document), and whose model is a tiny T5 just fine-tuned to copy from context."""
    rng = random.Random(14)
    places = _words(rng, 3, 335)
    keepers = _words(rng, 2, 24)
    train_places, held_out, missing = places[:300], places[300:330], places[330:]
    steps, loss = _train_copier(tmp_path / "copier-t5", train_places, keepers, rng)
    root = make_project("question_answering", model=tmp_path / "copier-t5")
    facts = {p: rng.choice(keepers) for p in held_out}
    docs = root / "data" / "docs"
    docs.mkdir(parents=True)
    (docs / "keepers.jsonl").write_text(
        "".join(json.dumps({"id": p, "text": _fact(p, k)}) + "\n" for p, k in facts.items()), encoding="utf-8")
    qa = [{"id": f"k{i:02d}", "question": _question(p), "answer": k, "gold": [p], "answerable": True}
          for i, (p, k) in enumerate(facts.items())]
    qa += [{"id": f"u{i:02d}", "question": _question(p), "answer": "", "gold": [], "answerable": False}
           for i, p in enumerate(missing)]
    (root / "data" / "rag").mkdir(parents=True)
    (root / "data" / "rag" / "qa.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qa), encoding="utf-8")
    (root / "configs" / "rag.yaml").write_text(
        "enabled: true\nretrieval:\n  mode: bm25\n  k: 1\neval:\n"
        f"  template: {json.dumps(RAG_TEMPLATE)}\n  plain_template: {json.dumps(PLAIN_TEMPLATE)}\n",
        encoding="utf-8")
    return SimpleNamespace(root=root, steps=steps, loss=loss, facts=facts)


def test_rag_beats_no_rag_on_exact_match_and_unsupported_rate(copier_project, setup_of):
    from lifecycle.rag.evaluate import read_comparison, run_rag_eval
    from lifecycle.rag.index import build_index

    s = setup_of(copier_project.root)
    build_index(s.docs_dir, s.index_dir, s.cfg, tokenizer_ref=s.tokenizer_ref())
    res = run_rag_eval(s, samples=500, permutations=2000)
    cmp = read_comparison(res.rag)["metrics"]
    em, unsupported = cmp["exact_match"], cmp["unsupported_answer_rate"]
    note = (f"fine-tuned {copier_project.steps} steps (loss {copier_project.loss:.3f}); "
            f"EM {em['a']:.3f} -> {em['b']:.3f} (p={em['p_value']:.4f}); "
            f"unsupported {unsupported['a']:.3f} -> {unsupported['b']:.3f} (p={unsupported['p_value']:.4f})")
    print(note)
    assert em["n"] == unsupported["n"] == 35
    assert em["diff"] > 0 and em["p_value"] < 0.05 and em["verdict"] == "B better", note
    assert unsupported["diff"] < 0 and unsupported["p_value"] < 0.05 and unsupported["verdict"] == "B better", note
    # the RAG predictions carry what was retrieved: the gold place's chunk, with its BM25 score
    rag = {r["id"]: r for r in res.rag.read_predictions()}
    assert rag["k00"]["retrieved"][0]["doc_id"] == next(iter(copier_project.facts))
    assert rag["k00"]["retrieved"][0]["score"] > 0 and rag["k00"]["chunks_used"] == 1
    assert res.rag.metrics()["metrics"]["recall_at_1"]["value"] == 1.0
