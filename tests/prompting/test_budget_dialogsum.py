"""`lifecycle prompt budget` on real dialogues (../shared/data/dialogsum/dev.jsonl; skipped when absent)."""

from __future__ import annotations

import json

import pytest

from lifecycle.config.yaml_io import update_yaml


@pytest.fixture
def dialogue_model(dialogsum_path, tmp_path):
    """A tiny T5 whose BPE tokenizer was trained on the dialogues (vocabulary large enough for word-like tokens)."""
    from lifecycle.testing import build_tiny_model

    rows = [json.loads(line) for line in dialogsum_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [r["dialogue"] for r in rows] + [r["summary"] for r in rows]
    return build_tiny_model(tmp_path / "dialogsum-t5", "t5", texts=texts, vocab_size=4000)


@pytest.mark.slow
def test_budget_on_real_dialogues_is_sane(make_project, dialogue_model, dialogsum_path, run_cli):
    from transformers import AutoTokenizer

    project = make_project("summarization", model=dialogue_model)
    update_yaml(project / "configs" / "prompt.yaml", {("id_field",): "fname", ("preset",): "dialogue-instruction",
                                                      ("template",): None, ("target_field",): None})
    res = run_cli("prompt", "budget", "--data", dialogsum_path, "--shots", "0,1,2,3", "--json", cwd=project)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    rows = {r["k"]: r for r in report["rows"]}
    assert report["n"] == sum(1 for line in dialogsum_path.open(encoding="utf-8") if line.strip())
    for r in rows.values():
        assert r["p50"] <= r["p95"] <= r["max"] and 0 <= r["fit"] <= r["n"]
    # Each shot adds a whole solved dialogue: lengths and misses grow with K.
    for a, b in [(0, 1), (1, 2), (2, 3)]:
        assert rows[b]["p50"] > rows[a]["p50"] + 50 and rows[b]["fit"] <= rows[a]["fit"]
    # A word-level vocabulary: a dialogue of W words is between 0.8 W and 3 W tokens.
    tok = AutoTokenizer.from_pretrained(dialogue_model)
    dialogues = [json.loads(line)["dialogue"] for line in dialogsum_path.open(encoding="utf-8") if line.strip()]
    words = sorted(len(d.split()) for d in dialogues)
    assert 0.8 * words[len(words) // 2] < rows[0]["p50"] < 3 * words[len(words) // 2] + 20
    longest = max(len(tok(f"Summarize the following conversation.\n\n{d}\n\nSummary: ")["input_ids"]) for d in dialogues)
    assert rows[0]["max"] == longest
    assert rows[0]["fit"] == sum(
        len(tok(f"Summarize the following conversation.\n\n{d}\n\nSummary: ")["input_ids"]) <= 512 for d in dialogues)
    fitting = [k for k, r in rows.items() if r["fit"] == r["n"]]
    assert report["largest_k_fitting_all"] == (max(fitting) if fitting else None)
