from __future__ import annotations

import random

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Tiny models are latency-bound: on a shared machine OpenMP threads spin-wait for each other."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train_expression_writer(folder, *, max_steps: int = 1000, batch: int = 32, seed: int = 0):
    """A tiny GPT-2 trained, on the fly, on both prompts of `tools eval` for arithmetic questions drawn
    apart from the eval set (another seed): half the examples ask for the number itself (target: the
    answer), half for the expression (target: "412 * 37"). Numbers 12..999 are single tokens, so writing
    the expression is copying; computing the answer is multi-digit arithmetic a model this size does not
    learn in minutes. Stops once the running loss of the expression examples is below 0.1.
    Returns (steps, expression loss)."""
    import torch
    from transformers import AutoModelForCausalLM

    from lifecycle.prompt_template import render_template
    from lifecycle.testing import build_tiny_model, train_tokenizer
    from lifecycle.tools import arithmetic, pal

    rng = random.Random(seed)
    train = arithmetic.arithmetic_set(3000, seed=1000)
    corpus = [f"What is {n} plus {n} minus {n} times {n}?" for n in range(arithmetic.LOW, arithmetic.HIGH + 1)] * 2
    corpus += [pal.DIRECT_TEMPLATE, pal.TOOL_TEMPLATE] * 20
    tok = train_tokenizer(corpus, 1400, family="gpt2")
    assert all(len(tok(f" {n}")["input_ids"]) == 1 for n in range(arithmetic.LOW, arithmetic.HIGH + 1))
    build_tiny_model(folder, "gpt2", tokenizer=tok, seed=seed, context=128,
                     size={"d_model": 64, "num_heads": 4, "num_layers": 2})
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(folder)
    opt = torch.optim.AdamW(model.parameters(), lr=4e-3)
    model.train()

    def encode(row: dict, tool: bool):
        prompt = tok(render_template(pal.TOOL_TEMPLATE if tool else pal.DIRECT_TEMPLATE, row))["input_ids"]
        target = tok(" " + (row["expression"] if tool else row["answer"]))["input_ids"] + [tok.eos_token_id]
        return prompt + target, [-100] * len(prompt) + target

    tool_losses: list[float] = []
    for step in range(max_steps):
        rows = [encode(rng.choice(train), tool) for tool in [True, False] * (batch // 2)]
        width = max(len(ids) for ids, _ in rows)  # right padding: positions start at 0 as in generation
        ids = torch.tensor([a + [tok.pad_token_id] * (width - len(a)) for a, _ in rows])
        labels = torch.tensor([b + [-100] * (width - len(b)) for _, b in rows])
        mask = torch.tensor([[1] * len(a) + [0] * (width - len(a)) for a, _ in rows])
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        per_token = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels[:, 1:], reduction="none")
        counted = (labels[:, 1:] != -100).float()
        per_row = (per_token * counted).sum(1) / counted.sum(1)
        per_row.mean().backward()
        opt.step()
        opt.zero_grad()
        tool_losses.append(per_row[0::2].mean().item())
        if step >= 50 and sum(tool_losses[-20:]) / 20 < 0.1:
            break
    model.eval()
    model.save_pretrained(folder)
    return step + 1, sum(tool_losses[-20:]) / 20


@pytest.fixture(scope="session")
def expression_writer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("arith-gpt2")
    steps, loss = train_expression_writer(folder)
    return folder, steps, loss
