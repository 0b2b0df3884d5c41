"""Our DPO/IPO loss equals TRL 1.16's (DPOTrainer._compute_loss) on identical log-prob tensors."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from lifecycle.align.loss import dpo_loss, token_logps


class _GivenLogProbs(torch.nn.Module):
    """Hands TRL the per-token log-probs we chose, in the shape its fused LM head returns."""

    def __init__(self, per_token):
        super().__init__()
        self.per_token = per_token

    def forward(self, **kwargs):
        z = torch.zeros_like(self.per_token)
        return SimpleNamespace(log_probs=self.per_token, entropy=z, mean_logits=z, is_top1=z.bool())


def _trl_loss(per_token, completion_mask, ref_chosen, ref_rejected, *, beta, loss_type):
    from accelerate import Accelerator
    from trl import DPOTrainer

    model = _GivenLogProbs(per_token)
    trainer = object.__new__(DPOTrainer)  # only the loss: no dataset, no model loading
    trainer.__dict__.update(
        model=model, accelerator=Accelerator(cpu=True), aux_loss_enabled=False, ld_alpha=None,
        precompute_ref_logps=True, f_divergence_type="reverse_kl", loss_types=[loss_type], loss_weights=[1.0],
        beta=beta, use_weighting=False, label_smoothing=0.0, _total_train_tokens=0, _tp_size=1,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)})
    n = completion_mask.shape[0]
    inputs = {"input_ids": torch.ones_like(completion_mask), "attention_mask": torch.ones_like(completion_mask),
              "completion_mask": completion_mask, "ref_chosen_logps": ref_chosen, "ref_rejected_logps": ref_rejected}
    assert n % 2 == 0
    return DPOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)


@pytest.mark.parametrize("loss_type,beta", [("sigmoid", 0.1), ("sigmoid", 0.5), ("ipo", 0.1), ("ipo", 1.0)])
def test_equals_trl(loss_type, beta):
    g = torch.Generator().manual_seed(0)
    batch, length = 4, 9
    # completion tokens: a prompt of 2..4 tokens, then the completion, then padding
    mask = torch.zeros(2 * batch, length, dtype=torch.long)
    for row in range(2 * batch):
        start = 2 + row % 3
        end = length - (row % 4)
        mask[row, start:end] = 1
    per_token = -torch.rand(2 * batch, length - 1, generator=g, dtype=torch.float64) * 3
    per_token = per_token * mask[:, 1:]  # TRL's fused head gives 0 outside the completion
    ref_chosen = -torch.rand(batch, generator=g, dtype=torch.float64) * 10
    ref_rejected = -torch.rand(batch, generator=g, dtype=torch.float64) * 10
    expected = _trl_loss(per_token, mask, ref_chosen, ref_rejected, beta=beta, loss_type=loss_type)

    logps = per_token.sum(dim=1)
    tokens = mask.sum(dim=1).to(torch.float64)
    ours = dpo_loss(logps[:batch], logps[batch:], ref_chosen, ref_rejected, beta=beta, loss_type=loss_type,
                    chosen_tokens=tokens[:batch], rejected_tokens=tokens[batch:])
    assert abs(float(ours.loss) - float(expected)) < 1e-6


def test_token_logps_ignores_masked_labels():
    logits = torch.randn(2, 3, 5)
    labels = torch.tensor([[1, 2, -100], [4, -100, -100]])
    total, n = token_logps(logits, labels)
    logp = torch.log_softmax(logits, -1)
    assert torch.allclose(total, torch.stack([logp[0, 0, 1] + logp[0, 1, 2], logp[1, 0, 4]]))
    assert n.tolist() == [2.0, 1.0]


def test_unknown_loss_is_one_line():
    from lifecycle.errors import LifecycleError

    with pytest.raises(LifecycleError, match="unknown DPO loss 'ipoo'; did you mean 'ipo'"):
        dpo_loss(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), beta=0.1, loss_type="ipoo")
