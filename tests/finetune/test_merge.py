"""`lifecycle finetune merge RUN`: a folder plain transformers loads, with the adapter model's
greedy outputs."""

from __future__ import annotations

import pytest

from lifecycle.errors import FinetuneError
from lifecycle.finetune.pipeline import FinetuneRequest, finetune
from lifecycle.project import Project


def _train(root, **req):
    return finetune(Project(root), FinetuneRequest(evaluate=False, echo=lambda _m: None, argv=["test"], **req))


def _greedy(model, tokenizer, texts):
    import torch

    out = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, return_tensors="pt")
            ids = model.generate(**enc, max_new_tokens=8, do_sample=False, num_beams=1)
            out.append(ids[0].tolist())
    return out


def test_merged_model_loads_with_plain_transformers_and_generates_like_the_adapter(ft_project, run_cli):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from lifecycle.finetune.tuned import load_tuned
    from lifecycle.prompting import format_example

    # A large learning rate so that the adapter visibly changes the outputs.
    root = ft_project(peft={"r": 8, "alpha": 16, "dropout": 0.0},
                      training={"max_steps": 3, "save_strategy": "no", "learning_rate": 0.05})
    run = _train(root)
    res = run_cli("finetune", "merge", run.id, cwd=root)
    assert res.returncode == 0, res.stderr
    merged_dir = run.path / "merged"
    assert f"merged model: {merged_dir}" in res.stdout
    assert (merged_dir / "model.safetensors").is_file() and not (merged_dir / "adapter_config.json").exists()

    project = Project(root)
    examples = [{k: v for k, v in ex.items()} for ex in _examples(project)]
    texts = [format_example(ex, project.prompt_config()) for ex in examples]
    tuned = load_tuned(run)
    merged = AutoModelForSeq2SeqLM.from_pretrained(str(merged_dir)).eval()
    tok = AutoTokenizer.from_pretrained(str(merged_dir))
    expected = _greedy(tuned.model, tuned.tokenizer, texts)
    assert _greedy(merged, tok, texts) == expected
    base = AutoModelForSeq2SeqLM.from_pretrained(project.model_config().model).eval()
    assert _greedy(base, tok, texts) != expected  # the adapter mattered

    again = run_cli("finetune", "merge", run.id, cwd=root)
    assert again.returncode == 1 and "already exists" in again.stderr and "--overwrite" in again.stderr


def _examples(project):
    from lifecycle.data import load_jsonl

    return load_jsonl(project.path("data/sample.jsonl"))


def test_merge_refuses_methods_without_mergeable_weights_and_unfinished_runs(ft_project):
    from lifecycle.errors import RunError
    from lifecycle.finetune.merge import merge_run
    from lifecycle.finetune.runs import create_run

    root = ft_project(method="prompt_tuning")
    project = Project(root)
    run = create_run(project, model_cfg=project.model_config(), ft=project.finetune_config(),
                     prompt_cfg=project.prompt_config(), argv=["test"])
    with pytest.raises(RunError, match="is running, not complete; nothing to merge yet"):
        merge_run(project, run.id)
    run.finish("complete")
    with pytest.raises(FinetuneError, match="prompt_tuning, which has no weights to merge"):
        merge_run(project, run.id)
