"""The DPO / IPO objectives on sequence log-probs, and those log-probs for seq2seq and causal models.

TRL's DPOTrainer only accepts decoder-only models; this is the same objective for encoder-decoder
ones (FLAN-T5): a sequence's log-prob is the sum of its target tokens' log-probs under teacher
forcing, and the loss compares policy and reference log-ratios of chosen vs rejected. The equality
with TRL's loss on identical log-prob tensors is a test (tests/align/test_loss.py)."""

from __future__ import annotations

from dataclasses import dataclass

LOSS_TYPES = ("sigmoid", "ipo")


@dataclass
class DPOLossOutput:
    loss: object            # scalar tensor
    chosen_rewards: object  # beta * (policy - reference) log-ratio of chosen, detached
    rejected_rewards: object

    @property
    def accuracy(self) -> float:
        return float((self.chosen_rewards > self.rejected_rewards).float().mean())

    @property
    def margin(self) -> float:
        return float((self.chosen_rewards - self.rejected_rewards).mean())


def dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, *, beta: float,
             loss_type: str = "sigmoid", chosen_tokens=None, rejected_tokens=None) -> DPOLossOutput:
    """Mean pairwise loss over the batch.

    sigmoid (DPO, Rafailov et al.): -log sigmoid(beta * (chosen log-ratio - rejected log-ratio)).
    ipo (Azar et al., eq. 17): (delta - 1/(2 beta))^2 with the log-ratios averaged per target token,
    the length normalisation TRL uses (so beta means the same here and there)."""
    import torch.nn.functional as F

    if loss_type not in LOSS_TYPES:
        from lifecycle.errors import did_you_mean, FinetuneError

        raise FinetuneError(did_you_mean(loss_type, LOSS_TYPES, kind="DPO loss"))
    chosen_ratio = chosen_logps - ref_chosen_logps
    rejected_ratio = rejected_logps - ref_rejected_logps
    if loss_type == "sigmoid":
        losses = -F.logsigmoid(beta * (chosen_ratio - rejected_ratio))
    else:
        if chosen_tokens is None or rejected_tokens is None:
            raise ValueError("ipo needs the number of target tokens of chosen and rejected")
        delta = chosen_ratio / chosen_tokens.clamp(min=1.0) - rejected_ratio / rejected_tokens.clamp(min=1.0)
        losses = (delta - 1 / (2 * beta)) ** 2
    return DPOLossOutput(losses.mean(), beta * chosen_ratio.detach(), beta * rejected_ratio.detach())


def token_logps(logits, labels):
    """(sum of log-probs of the label tokens, number of label tokens) per row; -100 labels are ignored."""
    import torch

    mask = labels != -100
    safe = labels.masked_fill(~mask, 0)
    logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return (logp * mask).sum(dim=-1), mask.sum(dim=-1).to(logp.dtype)


def seq2seq_logps(model, input_ids, attention_mask, labels):
    """Teacher-forced target log-probs of an encoder-decoder model (the decoder input is the labels
    shifted right, which the model builds itself from `labels`)."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, use_cache=False)
    return token_logps(out.logits, labels)


def causal_logps(model, input_ids, attention_mask, completion_mask):
    """Completion log-probs of a decoder-only model: position t predicts token t+1."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    labels = input_ids[:, 1:].masked_fill(completion_mask[:, 1:] == 0, -100)
    return token_logps(out.logits[:, :-1], labels)
