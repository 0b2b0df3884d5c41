"""export_metrics.py (the exported utils.py / lifecycle_assert.py) never imports lifecycle and gives
the numbers of lifecycle's own scorers on real text, for every metric it exports."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from lifecycle.evaluation.metrics.registry import compute_metrics

SOURCE = Path(__file__).resolve().parents[2] / "lifecycle" / "evaluation" / "export" / "standalone_metrics.py"


@pytest.fixture(scope="module")
def em():
    spec = importlib.util.spec_from_file_location("export_metrics_under_test", SOURCE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_imports_only_the_standard_library_rouge_score_and_sacrebleu():
    tree = ast.parse(SOURCE.read_text())
    roots = {(n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
             for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
             for a in (n.names if isinstance(n, ast.Import) else [n])}
    assert roots <= {"json", "re", "string", "collections", "pathlib", "rouge_score", "sacrebleu", "datasets"}, roots


@pytest.mark.parametrize("name", ["rouge1", "rouge2", "rougeL", "rougeLsum"])
def test_rouge_per_example_equals_ours(em, summary_pairs, name):
    preds, refs = summary_pairs
    preds, refs = preds[:120], refs[:120]
    ours = compute_metrics([name], preds, refs)[name].per_example
    got = [em.score_example(name, {}, p, r) for p, r in zip(preds, refs)]
    assert got == pytest.approx(list(ours), abs=1e-12)


@pytest.mark.parametrize("name", ["sacrebleu", "chrf"])
def test_corpus_metrics_equal_ours(em, summary_pairs, name):
    preds, refs = summary_pairs
    assert em.score_corpus(name, {}, preds, refs) == pytest.approx(compute_metrics([name], preds, refs)[name].value,
                                                                   abs=1e-9)


def test_qa_and_label_metrics_equal_ours(em, label_pairs):
    preds, refs = label_pairs
    for name in ("exact_match", "token_f1", "accuracy"):
        ours = compute_metrics([name], preds, refs)[name].per_example
        assert [em.score_example(name, {}, p, r) for p, r in zip(preds, refs)] == pytest.approx(list(ours)), name
    labels = sorted({r[0] for r in refs})[:5] + ["never-used"]
    for args in ({}, {"labels": labels}):
        want = compute_metrics([("macro_f1", {k: tuple(v) for k, v in args.items()})], preds, refs)["macro_f1"].value
        assert em.score_corpus("macro_f1", args, preds, refs) == pytest.approx(want, abs=1e-12), args
    off = compute_metrics([("off_label_rate", {"labels": tuple(labels)})], preds, refs)["off_label_rate"].per_example
    assert [em.score_example("off_label_rate", {"labels": labels}, p, r) for p, r in zip(preds, refs)] == \
        pytest.approx(list(off))
