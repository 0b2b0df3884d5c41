"""The project's configs/prompt.yaml `preprocess` function reaches the prompts of `rag eval` and of
`--rag` (once: the derived dataset keeps the examples as read, the pipeline prepares them), like
every other prompt of the project."""

from __future__ import annotations

import yaml

HOOK = '''
def prepare(example):
    example = dict(example)
    example["question"] = "PREPARED " + example["question"]
    return example
'''


def add_hook(root, spec="demo_project.prompts:prepare"):
    pkg = root / "src" / "demo_project"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "prompts.py").write_text(HOOK)
    pr = yaml.safe_load((root / "configs" / "prompt.yaml").read_text())
    pr["preprocess"] = spec
    (root / "configs" / "prompt.yaml").write_text(yaml.safe_dump(pr, sort_keys=False))


def test_rag_eval_prompts_go_through_the_preprocess_hook(indexed_project, tiny_t5, setup_of):
    from lifecycle.rag.evaluate import run_rag_eval

    root = indexed_project(tiny_t5)
    before = run_rag_eval(setup_of(root), k=1, limit=2, samples=100, permutations=100)
    assert not any("PREPARED" in r["prompt"] for r in before.rag.read_predictions())
    add_hook(root)
    res = run_rag_eval(setup_of(root), k=1, limit=2, samples=100, permutations=100)
    for run in (res.plain, res.rag):
        prompts = [r["prompt"] for r in run.read_predictions()]
        assert len(prompts) == 2 and all(p.count("PREPARED ") == 1 for p in prompts), prompts
    # the hook's error names the example, in one line
    (root / "src" / "demo_project" / "prompts.py").write_text("def prepare(example):\n    return 1 / 0\n")
    import pytest

    from lifecycle.errors import DataError

    with pytest.raises(DataError, match=r"preprocess .* failed on example 'q01': ZeroDivisionError"):
        run_rag_eval(setup_of(root), k=1, limit=2, samples=100, permutations=100)


def test_rag_generate_applies_the_hook_once(indexed_project, tiny_t5, cli):
    from lifecycle.runs.store import RunStore

    root = indexed_project(tiny_t5)
    add_hook(root)
    code, _, err = cli("generate", "--rag", "--limit", "2", "--no-progress", "--show", "0", "--project", root)
    assert code == 0, err
    rows = RunStore(root / "runs").latest("generate").read_predictions()
    assert len(rows) == 2 and all(r["prompt"].count("PREPARED ") == 1 for r in rows), [r["prompt"] for r in rows]
