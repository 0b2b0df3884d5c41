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
