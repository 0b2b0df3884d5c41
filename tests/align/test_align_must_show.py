"""The must-show: a programmatic preference oracle labels on-policy pairs of a tiny T5 (our seq2seq DPO) and a
tiny GPT-2 (TRL's DPOTrainer); after DPO the aligned model beats its reference on held-out prompts, judged by
the oracle and by a reward model trained on the training split only (its prompts are disjoint from the judged
ones), with a CI above 0.5.
Pairs start with the greedy answer (`pairs.greedy_first`): it is what `align eval` compares, so the
reward model has seen answers like the ones it judges (without it the T5 reward model, trained on
sampled answers only, never saw the reference's empty greedy answer and rated it best: 0.214).
GPT-2 (was 0.604 [0.417, 0.771] by its reward model): three causes, fixed where they lie.
- The reward model read its score at an arbitrary last response token: it now scores prompt + response
  + EOS as TRL's RewardTrainer does (lifecycle.align.reward). On one aligned model the oracle rates 1.0
  it judged 0.12-0.23 without the EOS, 0.59-0.81 with it.
- The random GPT-2 emits raw bytes: ~90% of its candidates hold U+FFFD, which DPO re-tokenizes into
  tokens it never generated (off-policy; `align pairs` now counts and warns about them). Alignment
  starts from a model that writes text: `align_gpt2_text`, fine-tuned 300 steps on dialogue -> summary.
- Its reward model underfit with 3 epochs (train accuracy 0.60): it trains 10 epochs at 3e-3 here.
- Its answers get 24 new tokens, not 10. At 10 every answer is cut at ~9-10 characters, none holds
  'Person', and the oracle's verdict is its one-character length tie-break: the reward-model-judged win
  rate was then a coin toss on float rounding (0.47-0.80 over two CPU kernel sets x three reward seeds, 2
  of 6 under the bar; it failed on AVX-512 CI). At 24 the aligned answers are ~3 characters shorter
  (25.8 vs 28.6) and the reward model agrees with the oracle: 0.87-0.90, CI low >= 0.80, 6 of 6.
192 prompts give ~66 held-out ones, so the interval can clear 0.5.
(In-process for speed; the same commands are exercised through the CLI in test_align_cli.py.)"""

from __future__ import annotations

import json

import yaml

from align_oracle import judge


import pytest


# (model fixture, prompts, new tokens, DPO steps and learning rate, reward-model training); the GPT-2 reward
# model trains longer: with 3 epochs it underfits (train accuracy 0.60, held-out 0.51-0.68)
CASES = {"t5": ("align_t5", 64, 10, 20, 2e-3, {}),
         "gpt2": ("align_gpt2_text", 192, 24, 40, 1e-3, {"epochs": 10, "learning_rate": 3e-3})}


@pytest.mark.parametrize("family", ["t5", pytest.param("gpt2", marks=pytest.mark.slow)])
def test_oracle_preferences_dpo_win_rate(align_project, request, family):
    from lifecycle.align.dpo import DPORequest, align_dpo
    from lifecycle.align.pairs import PairsRequest, read_pairs, sample_pairs
    from lifecycle.align.preferences import build_preferences
    from lifecycle.align.review import import_judgments
    from lifecycle.align.reward import train_reward
    from lifecycle.align.winrate import evaluate_alignment
    from lifecycle.config.align import PreferenceDataSettings
    from lifecycle.project import Project

    fixture, n_prompts, new_tokens, steps, lr, reward = CASES[family]
    root = align_project(request.getfixturevalue(fixture), n_prompts=n_prompts, max_new_tokens=new_tokens)
    (root / "configs" / "align.yaml").write_text("# Used by: lifecycle align\n" + yaml.safe_dump({
        "pairs": {"greedy_first": True}, "reward": reward,
        "dpo": {"method": "full", "training": {"learning_rate": lr, "batch_size": 8, "max_steps": steps,
                                               "logging_steps": 5, "save_steps": 10}}}))
    project = Project(root)
    pairs_run = sample_pairs(project, PairsRequest(candidates=4), echo=lambda _: None)
    pairs = read_pairs(pairs_run)
    assert len(pairs) >= 30 and all(p["a"] != p["b"] for p in pairs)
    assert {p["prompt_id"] for p in pairs} <= {f"d{i}" for i in range(n_prompts)}

    verdicts = root / "oracle_judgments.jsonl"
    verdicts.write_text("".join(json.dumps({"pair_id": p["pair_id"], "choice": judge(p["prompt"], p["a"], p["b"])})
                                + "\n" for p in pairs))
    judgments = root / "data/preferences/judgments.jsonl"
    assert import_judgments(pairs, verdicts, judgments, "oracle")["added"] == len(pairs)
    summary = build_preferences(pairs, judgments, root / "data/preferences", PreferenceDataSettings(heldout_fraction=0.4))
    train = [json.loads(x) for x in (root / "data/preferences/train.jsonl").read_text().splitlines()]
    held = [json.loads(x) for x in (root / "data/preferences/heldout.jsonl").read_text().splitlines()]
    assert summary["train"] == len(train) >= 20 and len(held) >= 10
    assert {r["prompt_id"] for r in train}.isdisjoint({r["prompt_id"] for r in held})

    run = align_dpo(project, DPORequest(), echo=lambda _: None)
    meta = run.meta
    assert meta["status"] == "complete" and (run.path / "model" / "config.json").is_file()
    assert abs(meta["training"]["first_loss"] - 0.6931) < 1e-3  # policy == reference at step 0
    assert meta["training"]["precision"] == "no"  # never bf16 on CPU
    assert meta["training"]["trainer"] == ("trl.DPOTrainer" if family == "gpt2" else "lifecycle Seq2SeqDPOTrainer")

    eval_run, result = evaluate_alignment(project, run.id, oracle="align_oracle:score", echo=print)
    assert result["value"] >= 0.65 and result["ci"][0] > 0.5, result
    metrics = json.loads((eval_run.path / "metrics.json").read_text())["metrics"]["win_rate"]
    assert metrics["value"] == result["value"] and (eval_run.path / "report.html").is_file()

    # a reward model trained on the training split judges the same comparison
    reward_run, acc = train_reward(project, echo=lambda _: None)
    assert acc["n"] == len(held) and acc["ci"][0] > 0.5, acc
    rm_run, by_rm = evaluate_alignment(project, run.id, reward_run=reward_run.id, echo=print)
    assert by_rm["value"] >= 0.65 and by_rm["ci"][0] > 0.5, by_rm
    assert rm_run.meta["config"]["judge"] == {"kind": "reward_model", "run": reward_run.id}
    if family == "t5":
        # the check reads that run: the win-rate bound passes; the aligned model's task metric is still to measure
        from lifecycle.checks.context import CheckContext
        from lifecycle.checks.registry import get_check, run_one

        with (root / "lifecycle.yaml").open("a") as f:
            f.write("alignment:\n  method: dpo\n  judge: reward_model\n")
        aligned = run_one(get_check("adapt.aligned"), CheckContext(root))
        assert aligned.evidence["run"] == rm_run.id and aligned.evidence["win_rate"] == by_rm["value"]
        assert aligned.status == "todo" and f"runs/{run.id}/model" in aligned.hint
