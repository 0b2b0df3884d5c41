"""`lifecycle finetune merge RUN`: a folder plain transformers loads, with the adapter model's
greedy outputs."""

from __future__ import annotations

from pathlib import Path

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
    recorded = (run.path / "run.yaml").read_bytes()
    res = run_cli("finetune", "merge", run.id, cwd=root)
    assert res.returncode == 0, res.stderr
    merged_dir = Path(res.stdout.split("merged model: ")[1].strip())
    assert merged_dir.parent.parent == run.path.parent and "-merge-" in merged_dir.parent.name
    assert (run.path / "run.yaml").read_bytes() == recorded  # the finished finetune run is untouched
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
    # the project's generation settings travel with the folder: a bare generate() decodes as we do
    import torch

    settings = project.generation_config().resolved()
    assert merged.generation_config.max_new_tokens == settings.max_new_tokens
    with torch.no_grad():
        bare = [merged.generate(**tok(t, return_tensors="pt"))[0].tolist() for t in texts]
        ours = [merged.generate(**tok(t, return_tensors="pt"), max_new_tokens=settings.max_new_tokens,
                                do_sample=False, num_beams=1)[0].tolist() for t in texts]
    assert bare == ours
    card = (merged_dir / "README.md").read_text()
    assert f"base_model: {project.model_config().model}" in card and run.id in card and "sha256" in card

    _merge_targets_never_destroy_what_merge_did_not_write(root, run, run_cli)


def _merge_targets_never_destroy_what_merge_did_not_write(root, run, run_cli):
    """The data-loss cases: `--out . --overwrite` once removed the whole project, `--out runs` every run."""
    def tree(folder):
        return sorted((str(p.relative_to(folder)), p.read_bytes() if p.is_file() else b"")
                      for p in folder.rglob("*") if ".lock" not in p.name)

    before = tree(root)
    for out in (".", "runs", "data", "configs", "src", ".lifecycle", str(root.parent)):
        res = run_cli("finetune", "merge", run.id, "--out", out, "--overwrite", cwd=root)
        assert res.returncode != 0, out
        assert "Traceback" not in res.stderr and res.stderr.count("error:") == 1, res.stderr
    inside_run = run_cli("finetune", "merge", run.id, "--out", f"runs/{run.id}/merged", cwd=root)
    assert inside_run.returncode != 0 and "inside runs/" in inside_run.stderr
    mine = root / "models" / "mine"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("the user's own folder\n")
    res = run_cli("finetune", "merge", run.id, "--out", "models/mine", "--overwrite", cwd=root)
    assert res.returncode != 0 and "did not write" in res.stderr and (mine / "notes.txt").is_file()
    assert tree(root) == sorted(before + [("models", b""), ("models/mine", b""),
                                          ("models/mine/notes.txt", b"the user's own folder\n")])

    first = run_cli("finetune", "merge", run.id, "--out", "models/merged", cwd=root)
    assert first.returncode == 0, first.stderr
    again = run_cli("finetune", "merge", run.id, "--out", "models/merged", cwd=root)
    assert again.returncode == 1 and "already exists" in again.stderr and "--overwrite" in again.stderr
    replaced = run_cli("finetune", "merge", run.id, "--out", "models/merged", "--overwrite", cwd=root)
    assert replaced.returncode == 0, replaced.stderr
    assert (root / "models/merged/model.safetensors").is_file()
    assert not [p for p in (root / "models").iterdir() if p.name.startswith(".lifecycle-staging")]


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
