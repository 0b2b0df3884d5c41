"""Fixtures for the alignment tests: a project whose prompts are many short dialogues, on a tiny
T5 (and GPT-2) built on the fly, and a programmatic preference oracle."""

from __future__ import annotations

from pathlib import Path

import pytest

from align_data import dialogues, write_jsonl


@pytest.fixture(scope="session")
def align_t5(tmp_path_factory) -> Path:
    """A very small T5 with a small vocabulary: DPO steps take milliseconds."""
    from lifecycle.testing import DEFAULT_CORPUS, build_tiny_model

    texts = list(DEFAULT_CORPUS) + [r["dialogue"] + " " + r["summary"] for r in dialogues(40)]
    return build_tiny_model(tmp_path_factory.mktemp("models") / "align-t5", "t5", texts=texts, vocab_size=300,
                            size={"d_model": 32, "d_ff": 64, "num_layers": 1, "num_heads": 2})


@pytest.fixture(scope="session")
def align_gpt2(tmp_path_factory) -> Path:
    from lifecycle.testing import DEFAULT_CORPUS, build_tiny_model

    texts = list(DEFAULT_CORPUS) + [r["dialogue"] + " " + r["summary"] for r in dialogues(40)]
    return build_tiny_model(tmp_path_factory.mktemp("models") / "align-gpt2", "gpt2", texts=texts, vocab_size=300,
                            size={"d_model": 32, "num_layers": 1, "num_heads": 2})


@pytest.fixture(scope="session")
def align_gpt2_text(tmp_path_factory) -> Path:
    """The tiny GPT-2 after 300 fine-tuning steps on dialogue -> summary: a policy that writes text.

    Alignment starts from a model that writes text; the random one emits raw bytes (about 90% of its
    candidates hold U+FFFD), which DPO re-tokenizes into tokens it never generated (off-policy)."""
    import random

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lifecycle.testing import DEFAULT_CORPUS, build_tiny_model

    texts = list(DEFAULT_CORPUS) + [r["dialogue"] + " " + r["summary"] for r in dialogues(40)]
    folder = build_tiny_model(tmp_path_factory.mktemp("models") / "align-gpt2-text", "gpt2", texts=texts,
                              vocab_size=300, size={"d_model": 32, "num_layers": 1, "num_heads": 2})
    tok = AutoTokenizer.from_pretrained(folder)
    tok.padding_side = "right"
    model = AutoModelForCausalLM.from_pretrained(folder).train()
    rows, rng = dialogues(64, seed=7), random.Random(0)
    template = "Summarize the following conversation.\n\n{}\n\nSummary:"  # the test project's prompt
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same weights whatever the machine
    for _ in range(300):
        part = rng.sample(rows, 8)
        enc = tok([template.format(r["dialogue"]) + " " + r["summary"] + tok.eos_token for r in part],
                  return_tensors="pt", padding=True)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        loss = model(**enc, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.set_num_threads(threads)
    model.eval().save_pretrained(folder)
    tok.padding_side = "left"
    tok.save_pretrained(folder)
    return folder


@pytest.fixture
def align_project(make_project):
    """align_project(model, n_prompts=..., max_new_tokens=...) -> project root with many prompts."""

    def make(model: Path, n_prompts: int = 48, max_new_tokens: int = 10, name: str = "alignproj") -> Path:
        root = make_project(task="summarization", model=model, name=name)
        write_jsonl(root / "data" / "sample.jsonl", dialogues(n_prompts))
        gen = root / "configs" / "generation.yaml"
        gen.write_text(gen.read_text().replace("max_new_tokens: 16", f"max_new_tokens: {max_new_tokens}"))
        return root

    return make


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread (and the machine is shared); restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def add_align_eval_run():
    """add_align_eval_run(root, model_ref, value=, ci=) -> a complete eval Run of that model on the
    project's eval set, laid out as lifecycle/evaluation/runner.py writes it (same eval key)."""
    from lifecycle.evaluation.runner import prepare
    from lifecycle.project import Project
    from lifecycle.runs.store import RunStore

    def add(root, model_ref: str, value: float = 0.3, ci=(0.25, 0.35), metric: str = "rougeL"):
        project = Project(root)
        ctx = prepare(project)
        run = RunStore(project.runs_dir).create(
            "eval", config={"shots": 0}, model={"id": model_ref}, dataset=ctx.evalset.describe(),
            extra={"eval": {"eval_key": ctx.eval_key, "shots": 0, "role": "base", "decoding": "greedy"}})
        run.write_metrics({"n": 8, "metrics": {metric: {"value": value, "ci": list(ci), "n": 8,
                                                        "higher_is_better": True, "aggregation": "mean"}}})
        run.finish()
        return run

    return add
