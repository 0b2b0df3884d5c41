"""Training examples: the inference prompt, prompt tokens masked for decoder-only models, and
clear errors for data the model cannot take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.errors import DataError
from lifecycle.finetune.examples import IGNORE_INDEX, LengthLimits, limits_for, load_records, tokenize_examples
from lifecycle.project import Project


def _setup(root: Path, decoder_only: bool):
    from lifecycle.loading import load_tokenizer

    project = Project(root)
    ft, prompt = project.finetune_config(), project.prompt_config()
    tok = load_tokenizer(project.model_config().model, decoder_only=decoder_only)
    tok.padding_side = "right"
    records = load_records(project.path(ft.data.train), prompt, ft.data, min_examples=1)
    return project, ft, prompt, tok, records


def test_decoder_only_masks_the_prompt_and_trains_on_the_answer(ft_project, tiny_gpt2):
    from lifecycle.prompting import build_prompts

    root = ft_project(model=tiny_gpt2)
    project, ft, prompt, tok, records = _setup(root, decoder_only=True)
    feats = tokenize_examples(records, tok, prompt, LengthLimits(512, 512), encoder_decoder=False,
                              path=project.path(ft.data.train), truncate_target=False)
    plain = [{k: v for k, v in r.items() if k != "__line__"} for r in records]
    prompts = build_prompts(plain, prompt, tok, k=0, context_window=512, encoder_decoder=False)
    for f, p, rec in zip(feats, prompts, records):
        n_prompt = len(tok(p.text, **p.encode_kwargs)["input_ids"])
        assert f["labels"][:n_prompt] == [IGNORE_INDEX] * n_prompt
        answer = f["labels"][n_prompt:]
        assert answer[-1] == tok.eos_token_id
        assert tok.decode(answer[:-1]) == rec["summary"]
        assert f["input_ids"][:n_prompt] == tok(p.text, **p.encode_kwargs)["input_ids"]


def test_seq2seq_input_is_the_inference_prompt(ft_project):
    from lifecycle.prompting import format_example

    root = ft_project()
    project, ft, prompt, tok, records = _setup(root, decoder_only=False)
    feats = tokenize_examples(records, tok, prompt, LengthLimits(512, 512), encoder_decoder=True,
                              path=project.path(ft.data.train), truncate_target=False)
    first = {k: v for k, v in records[0].items() if k != "__line__"}
    assert feats[0]["input_ids"] == tok(format_example(first, prompt))["input_ids"]
    assert feats[0]["labels"] == tok(text_target=first["summary"])["input_ids"]
    assert IGNORE_INDEX not in feats[0]["labels"]


def test_labels_longer_than_the_model_accepts_name_the_line(ft_project):
    root = ft_project()
    project, ft, prompt, tok, records = _setup(root, decoder_only=False)
    with pytest.raises(DataError) as err:
        tokenize_examples(records, tok, prompt, LengthLimits(512, 5), encoder_decoder=True,
                          path=project.path(ft.data.train), truncate_target=False)
    assert "sample.jsonl:1: summary: labels are" in str(err.value) and "accepts 5" in str(err.value)
    assert "max_target_tokens" in err.value.hint
    cut = tokenize_examples(records, tok, prompt, LengthLimits(512, 5), encoder_decoder=True,
                            path=project.path(ft.data.train), truncate_target=True)
    assert max(len(f["labels"]) for f in cut) == 5


def test_max_target_tokens_above_the_context_is_refused(ft_project):
    from lifecycle.errors import FinetuneError

    project = Project(ft_project(data={"max_target_tokens": 100000}))
    with pytest.raises(FinetuneError, match="max_target_tokens: 100000 is more than the model's context window"):
        limits_for(512, True, project.finetune_config().data)


def test_empty_and_too_small_training_sets_are_refused(ft_project):
    root = ft_project()
    project = Project(root)
    ft, prompt = project.finetune_config(), project.prompt_config()
    train = project.path(ft.data.train)
    lines = train.read_text(encoding="utf-8").splitlines()
    with pytest.raises(DataError, match="has 8 example\\(s\\); at least 16 are needed"):
        load_records(train, prompt, ft.data, min_examples=16)
    train.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="the train set is empty"):
        load_records(train, prompt, ft.data, min_examples=1)
    train.write_text(lines[0] + "\n" + json.dumps({"id": "x", "dialogue": "hi"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="sample.jsonl:2: field 'summary' is missing"):
        load_records(train, prompt, ft.data, min_examples=1)


def test_decoder_only_answer_that_leaves_no_room_for_the_prompt_is_refused(ft_project, tiny_gpt2):
    root = ft_project(model=tiny_gpt2)
    project, ft, prompt, tok, records = _setup(root, decoder_only=True)
    with pytest.raises(DataError) as err:
        tokenize_examples(records, tok, prompt, LengthLimits(source=12, target=512), encoder_decoder=False,
                          path=project.path(ft.data.train), truncate_target=False)
    assert "sample.jsonl:" in str(err.value) and "cannot fit the model's 12-token context" in str(err.value)
