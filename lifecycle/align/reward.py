"""`lifecycle align reward`: a reward model trained with the Bradley-Terry objective,
-log sigmoid(r(prompt, chosen) - r(prompt, rejected)), on a sequence-classification head with one
output (the same objective TRL's RewardTrainer uses), and its held-out pairwise accuracy with a
bootstrap CI. A `reward` run holds model/ (loadable with AutoModelForSequenceClassification)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lifecycle.errors import RunError
from lifecycle.reporting import to_stderr

KIND = "reward"
UNDERFIT = 0.75  # training-pair accuracy below which `align reward` warns (tiny GPT-2, 3 epochs: 0.60)


class RewardScorer:
    def __init__(self, model, tokenizer, max_tokens: int = 512) -> None:
        self.model, self.tokenizer, self.max_tokens = model, tokenizer, max_tokens
        # The score is read at the last token: end every text with EOS, as TRL's RewardTrainer does
        # (prompt + completion + eos), so that token is the same marker whatever the response. A
        # tokenizer that appends EOS itself (T5) gets none added; without it a decoder-only reward
        # model pools at an arbitrary last response token (tiny GPT-2, same data and aligned model:
        # RM-judged win-rate 0.23 without it, 0.65 with it; the oracle's is 1.0).
        ids = tokenizer("a")["input_ids"]
        appends = bool(ids) and tokenizer.eos_token_id is not None and ids[-1] == tokenizer.eos_token_id
        self.end = "" if appends else (tokenizer.eos_token or "")
        tokenizer.truncation_side = "left"  # a long prompt loses its start, never the response being judged

    def text(self, prompt: str, response: str) -> str:
        return f"{prompt}\n{response}{self.end}"

    @classmethod
    def from_run(cls, run) -> "RewardScorer":
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if run.kind != KIND or run.status != "complete":
            raise RunError(f"run {run.id} is not a complete reward run", hint="train one with `lifecycle align reward`")
        from lifecycle.loading import weights_kwargs

        folder = run.path / "model"
        # written by the tool as safetensors; a pickle planted in the run folder is refused
        model = AutoModelForSequenceClassification.from_pretrained(str(folder), dtype=torch.float32,
                                                                   **weights_kwargs(str(folder), None, False))
        model.eval()
        return cls(model, AutoTokenizer.from_pretrained(str(folder)),
                   int((run.meta.get("config") or {}).get("reward", {}).get("max_tokens", 512)))

    def _batch(self, texts):
        enc = self.tokenizer(texts, truncation=True, max_length=self.max_tokens, padding=True, return_tensors="pt")
        return {k: v.to(self.model.device) for k, v in enc.items()}

    def forward(self, texts):
        return self.model(**self._batch(texts)).logits[:, 0]

    def score(self, prompts: list[str], outputs: list[str], batch_size: int = 32) -> list[float]:
        import torch

        out = []
        with torch.no_grad():
            for i in range(0, len(prompts), batch_size):
                texts = [self.text(p, o) for p, o in zip(prompts[i:i + batch_size], outputs[i:i + batch_size])]
                out.extend(self.forward(texts).tolist())
        return out


def pairwise_accuracy(scorer: RewardScorer, rows: list[dict], *, samples: int = 1000, seed: int = 42) -> dict:
    prompts = [r["prompt"] for r in rows]
    ch = np.array(scorer.score(prompts, [r["chosen"] for r in rows]))
    rj = np.array(scorer.score(prompts, [r["rejected"] for r in rows]))
    correct = (ch > rj).astype(float)
    rng = np.random.default_rng(seed)
    boots = correct[rng.integers(0, len(correct), size=(samples, len(correct)))].mean(axis=1)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return {"value": float(correct.mean()), "ci": [float(lo), float(hi)], "n": len(correct)}


def train_reward(project, *, model: str | None = None, epochs: int | None = None, config: Path | None = None,
                 argv=None, echo=to_stderr):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed

    from lifecycle.align.pairs import load_align_config
    from lifecycle.align.preferences import load_preferences
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.loading import check_remote_code, weights_kwargs
    from lifecycle.hashing import file_sha256
    from lifecycle.runs.store import RunStore
    cfg = load_align_config(project, config).reward
    if epochs:
        cfg = cfg.model_copy(update={"epochs": epochs})
    # the project's model config gives revision / remote-code / pickle consent; an explicitly named
    # model (--model, reward.model) gets none of them
    model_cfg = None if (model or cfg.model) else project.model_config_for()
    base = model or cfg.model or model_cfg.model
    if base and project.path(base).is_dir():
        base = str(project.path(base))
    train_path, held_path = project.path(cfg.train), project.path(cfg.heldout)
    train, held = load_preferences(train_path), load_preferences(held_path)  # data errors before any model
    revision = model_cfg.revision if model_cfg else None
    trust = bool(model_cfg.trust_remote_code) if model_cfg else False
    check_remote_code(base, revision, trust)
    weights = weights_kwargs(base, revision, bool(getattr(model_cfg, "allow_pickle", False)))
    set_seed(cfg.seed)
    tok = AutoTokenizer.from_pretrained(base, revision=revision, trust_remote_code=trust)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    net = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1, dtype=torch.float32, revision=revision,
                                                             trust_remote_code=trust, **weights)
    net.config.pad_token_id = tok.pad_token_id
    scorer = RewardScorer(net, tok, cfg.max_tokens)
    store = RunStore(project.runs_dir)
    with store.new_run(KIND, config={"reward": cfg.model_dump(mode="json")}, model={"id": base},
                       dataset={"train": str(train_path), "train_sha256": file_sha256(train_path),
                                "heldout": str(held_path), "heldout_sha256": file_sha256(held_path)},
                       seed=cfg.seed, argv=argv) as run:
        opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=cfg.learning_rate)
        rng = np.random.default_rng(cfg.seed)
        log = []
        net.train()
        for epoch in range(cfg.epochs):
            order = rng.permutation(len(train))
            total = 0.0
            for start in range(0, len(order), cfg.batch_size):
                part = [train[i] for i in order[start:start + cfg.batch_size]]
                r_ch = scorer.forward([scorer.text(r["prompt"], r["chosen"]) for r in part])
                r_rj = scorer.forward([scorer.text(r["prompt"], r["rejected"]) for r in part])
                loss = -torch.nn.functional.logsigmoid(r_ch - r_rj).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(part)
            log.append({"epoch": epoch + 1, "loss": total / len(train)})
            echo(f"epoch {epoch + 1}: Bradley-Terry loss {total / len(train):.4f}")
        net.eval()
        acc = pairwise_accuracy(scorer, held, seed=cfg.seed)
        train_acc = pairwise_accuracy(scorer, train, seed=cfg.seed)
        net.save_pretrained(str(run.path / "model"))
        tok.save_pretrained(str(run.path / "model"))
        atomic_write_text(run.path / "training_log.json", json.dumps(log, indent=2) + "\n")
        run.write_metrics({"n": acc["n"], "metrics": {
            "heldout_pairwise_accuracy": {**acc, "higher_is_better": True, "aggregation": "mean"},
            "train_pairwise_accuracy": {**train_acc, "higher_is_better": True, "aggregation": "mean"}}})
        run.finish("complete", heldout_accuracy=acc, train_accuracy=train_acc)
    echo(f"held-out pairwise accuracy {acc['value']:.3f} (95% CI {acc['ci'][0]:.3f}-{acc['ci'][1]:.3f}, "
         f"n={acc['n']}); train {train_acc['value']:.3f}")
    if train_acc["value"] < UNDERFIT:  # it has not learned its own pairs: a judge that is mostly noise
        echo(f"warning: the reward model ranks only {train_acc['value']:.0%} of its training pairs right; "
             "raise reward.epochs or reward.learning_rate in configs/align.yaml")
    return run, acc
