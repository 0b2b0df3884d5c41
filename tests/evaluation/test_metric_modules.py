"""The shipped `evaluate.Metric` modules: loaded by absolute path offline, same numbers as the
direct path (which test_metrics_reference.py checks against the reference libraries)."""

from __future__ import annotations

import re

import pytest

from lifecycle.evaluation.metrics.registry import METRICS, METRICS_DIR, compute_metrics

TOL = 1e-9


def test_every_module_file_has_one_import_per_line():
    # evaluate discovers a module's dependencies by scanning its import lines
    for f in METRICS_DIR.glob("*.py"):
        for line in f.read_text().splitlines():
            if re.match(r"^(import|from)\s", line):
                assert "," not in line.split(" import ")[0] and not re.match(r"^import\s+\w+\s*,", line), (f, line)
                assert not line.rstrip().endswith("("), (f, line)


@pytest.mark.slow
def test_modules_load_offline_by_path_and_match_direct_path(summary_pairs, label_pairs):
    import evaluate

    sum_preds, sum_refs = summary_pairs
    lab_preds, lab_refs = label_pairs
    direct_sum = compute_metrics(list(METRICS), sum_preds, sum_refs)
    direct_lab = compute_metrics(["exact_match", "token_f1", "accuracy", "macro_f1"], lab_preds, lab_refs)
    modules = {m.module for m in METRICS.values()}
    loaded = {name: evaluate.load(str(METRICS_DIR / f"{name}.py")) for name in sorted(modules)}
    assert all(isinstance(m, evaluate.Metric) for m in loaded.values())

    rouge = loaded["rouge"].compute(predictions=sum_preds, references=sum_refs)
    for k in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert abs(rouge[k] - direct_sum[k].value) < TOL
    per = loaded["rouge"].compute(predictions=sum_preds, references=sum_refs, use_aggregator=False)
    assert per["rougeL"] == direct_sum["rougeL"].per_example.tolist()
    assert abs(loaded["sacrebleu_metric"].compute(predictions=sum_preds, references=sum_refs)["score"]
               - direct_sum["sacrebleu"].value) < TOL
    assert abs(loaded["chrf"].compute(predictions=sum_preds, references=sum_refs)["score"]
               - direct_sum["chrf"].value) < TOL
    length = loaded["length"].compute(predictions=sum_preds, references=sum_refs)
    for k in ("pred_words", "ref_words", "length_ratio"):
        assert abs(length[k] - direct_sum[k].value) < TOL
    for name in ("exact_match", "token_f1", "accuracy", "macro_f1"):
        out = loaded[name].compute(predictions=lab_preds, references=lab_refs, per_example=True)
        assert abs(out[name] - direct_lab[name].value) < TOL
        assert out["per_example"] == direct_lab[name].per_example.tolist()
    # single-reference form (references as plain strings) is accepted too
    single = loaded["token_f1"].compute(predictions=lab_preds, references=[r[0] for r in lab_refs])
    want = compute_metrics(["token_f1"], lab_preds, [r[0] for r in lab_refs])["token_f1"].value
    assert abs(single["token_f1"] - want) < TOL
