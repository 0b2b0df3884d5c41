"""A Bradley-Terry reward model on a sequence-classification head: held-out pairwise accuracy with
a bootstrap CI, recorded in a `reward` run, and usable as the judge of `align eval`."""

from __future__ import annotations

import json

import yaml

from align_data import dialogues


def test_reward_model_learns_a_preference_and_reports_heldout_accuracy(align_project, align_t5):
    from lifecycle.align.reward import RewardScorer, train_reward
    from lifecycle.project import Project
    from lifecycle.runs.store import Run

    root = align_project(align_t5, n_prompts=4)
    rows = dialogues(36, seed=3)
    prefs = [{"prompt": r["dialogue"], "chosen": r["summary"].split(";")[0],  # short and on topic
              "rejected": "Thank you for your patience. " * 3} for r in rows]
    out = root / "data" / "preferences"
    out.mkdir(parents=True)
    (out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in prefs[:24]))
    (out / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in prefs[24:]))
    (root / "configs" / "align.yaml").write_text(yaml.safe_dump(
        {"reward": {"epochs": 3, "learning_rate": 3e-3, "batch_size": 8, "max_tokens": 96}}))
    run, acc = train_reward(Project(root), echo=lambda _: None)
    assert acc["n"] == 12 and acc["value"] >= 0.9 and acc["ci"][0] <= acc["value"] <= acc["ci"][1]
    metrics = json.loads((run.path / "metrics.json").read_text())["metrics"]
    assert metrics["heldout_pairwise_accuracy"]["value"] == acc["value"]
    scorer = RewardScorer.from_run(Run(run.path))  # reloads from the run folder
    s = scorer.score([prefs[30]["prompt"]] * 2, [prefs[30]["chosen"], prefs[30]["rejected"]])
    assert s[0] > s[1]

    # a reward model that has not learned its own training pairs says so
    (root / "configs" / "align.yaml").write_text(yaml.safe_dump(
        {"reward": {"epochs": 1, "learning_rate": 1e-7, "batch_size": 8, "max_tokens": 96}}))
    lines = []
    run, _ = train_reward(Project(root), echo=lines.append)
    assert run.meta["train_accuracy"]["value"] < 0.75  # seeded: this head ranks few of its pairs right
    assert lines[-1].startswith("warning: the reward model ranks only") and "reward.epochs" in lines[-1]


def test_every_scored_text_ends_with_one_eos(align_t5, align_gpt2):
    """The score is read at the last token; like TRL's RewardTrainer (prompt + completion + eos) every
    text ends with EOS there: added for GPT-2, not doubled for T5 (whose tokenizer appends it), and a
    long prompt loses its start rather than the judged response."""
    from transformers import AutoTokenizer

    from lifecycle.align.reward import RewardScorer

    for folder in (align_t5, align_gpt2):
        tok = AutoTokenizer.from_pretrained(folder)
        scorer = RewardScorer(None, tok, max_tokens=16)
        ids = tok(scorer.text("Summarize: " + "words " * 40, "Person sends a lamp"), truncation=True,
                  max_length=16)["input_ids"]
        assert ids[-1] == tok.eos_token_id and ids[-2] != tok.eos_token_id, folder.name
        assert "lamp" in tok.decode(ids), folder.name
