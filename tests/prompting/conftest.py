"""Fixtures for the prompting tests: the summarization sample, tokenizers of the tiny models, and a
chat-template variant of the tiny GPT-2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# A small jinja chat template in the usual shape (role markers, end-of-turn, generation prompt).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@pytest.fixture
def examples() -> list[dict]:
    lines = (FIXTURES / "summarization.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def t5_tok(tiny_t5):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_t5)


@pytest.fixture(scope="session")
def gpt2_tok(tiny_gpt2):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2)


@pytest.fixture(scope="session")
def tiny_chat(tiny_gpt2, tmp_path_factory) -> Path:
    """The tiny GPT-2 folder with a chat template saved into its tokenizer."""
    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("models") / "tiny-chat"
    shutil.copytree(tiny_gpt2, out)
    tok = AutoTokenizer.from_pretrained(out)
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def chat_tok(tiny_chat):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_chat)


@pytest.fixture
def n_tokens():
    """n_tokens(tok, prompt): what the engine will feed the model, counted independently of the builder."""
    return lambda tok, prompt: len(tok(prompt.text, **prompt.encode_kwargs)["input_ids"])
