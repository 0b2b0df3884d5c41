"""Decoder-only models go through TRL's DPOTrainer; our own decoder-only computation of the loss
(causal log-probs + dpo_loss) equals DPOTrainer's first-step loss."""

from __future__ import annotations

import pytest
import torch

ROWS = [
    {"prompt": "Summarize: the lamp arrived broken.", "chosen": " A broken lamp.", "rejected": " The store opens at nine."},
    {"prompt": "Summarize: the order is late.", "chosen": " A late order.", "rejected": " Guten Morgen."},
    {"prompt": "Summarize: the chair is missing a part.", "chosen": " A chair lacks a part.", "rejected": " positive"},
    {"prompt": "Summarize: my phone stopped working.", "chosen": " A phone failed.", "rejected": " Thank you."},
]


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_first_step_loss_matches_dpotrainer(align_gpt2, tmp_path, loss_type):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOTrainer

    from lifecycle.align.dpo import causal_pair_features, trl_config
    from lifecycle.align.loss import causal_logps, dpo_loss
    from lifecycle.config.align import DPOSettings
    from lifecycle.testing import build_tiny_model

    ref_dir = build_tiny_model(tmp_path / "ref", "gpt2", seed=1, size={"d_model": 32, "num_layers": 1, "num_heads": 2},
                               tokenizer=AutoTokenizer.from_pretrained(align_gpt2))
    tok = AutoTokenizer.from_pretrained(align_gpt2)
    policy = AutoModelForCausalLM.from_pretrained(align_gpt2, dtype=torch.float32)
    ref = AutoModelForCausalLM.from_pretrained(ref_dir, dtype=torch.float32)
    dpo = DPOSettings.model_validate({"method": "full", "loss": loss_type, "beta": 0.3, "reference": "auto",
                                      "training": {"max_steps": 1, "batch_size": 4, "logging_steps": 1,
                                                   "learning_rate": 1e-3, "save_strategy": "no"}})
    args = trl_config(tmp_path, dpo, "no")
    args.precompute_ref_log_probs = False
    assert args.bf16 is False and args.gradient_checkpointing is False

    def logps(model, field):
        out = []
        for r in ROWS:
            ids, mask = causal_pair_features(tok, r["prompt"], r[field])
            with torch.no_grad():
                lp, n = causal_logps(model.eval(), torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long),
                                     torch.tensor([mask]))
            out.append((float(lp), float(n)))
        return torch.tensor(out, dtype=torch.float64)

    pc, pr, rc, rr = logps(policy, "chosen"), logps(policy, "rejected"), logps(ref, "chosen"), logps(ref, "rejected")
    # TRL counts IPO's tokens on its completion mask (which includes the first completion token)
    ours = dpo_loss(pc[:, 0], pr[:, 0], rc[:, 0], rr[:, 0], beta=0.3, loss_type=loss_type,
                    chosen_tokens=pc[:, 1], rejected_tokens=pr[:, 1])
    trainer = DPOTrainer(model=policy, ref_model=ref, args=args, train_dataset=Dataset.from_list(ROWS),
                         processing_class=tok)
    trainer.train()
    first = [e for e in trainer.state.log_history if "loss" in e][0]["loss"]
    assert abs(float(ours.loss) - first) < 1e-4, (float(ours.loss), first)


def test_align_dpo_decoder_only_through_trl(align_project, align_gpt2):
    import yaml

    from lifecycle.align.dpo import DPORequest, align_dpo
    from lifecycle.project import Project

    root = align_project(align_gpt2, n_prompts=4)
    prefs = root / "data" / "preferences"
    prefs.mkdir(parents=True)
    import json

    (prefs / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (root / "configs" / "align.yaml").write_text(yaml.safe_dump(
        {"dpo": {"training": {"max_steps": 2, "batch_size": 2, "logging_steps": 1, "save_steps": 2}}}))
    run = align_dpo(Project(root), DPORequest(), echo=lambda _: None)
    assert run.meta["training"]["trainer"] == "trl.DPOTrainer" and run.meta["training"]["precision"] == "no"
    assert (run.path / "adapter" / "adapter_config.json").is_file() and run.meta["training"]["global_step"] == 2
    assert abs(run.meta["training"]["first_loss"] - 0.6931) < 1e-3
