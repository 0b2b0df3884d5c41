"""Classification done properly: a declared label set, answer normalisation, off-label rate,
macro-F1 over the declared labels (checked against scikit-learn), paired tests whatever labels the
runs predict, and a confusion matrix with per-label precision/recall in the report."""

from __future__ import annotations

import json
import random
import warnings

import pytest

from evidence_helpers import cli, eval_runs, run_meta, set_text, write_jsonl

LABELS = ["billing", "shopping", "technical", "returns", "other"]


def _samples(seed: int, n: int):
    rng = random.Random(seed)
    true = [rng.choice(LABELS[: rng.randint(1, 5)]) for _ in range(n)]
    pred = [rng.choice(LABELS + ["Shopping.", "  Billing!\nbecause the card", "banana", '"returns"']) for _ in range(n)]
    return true, pred


def test_normalisation_rules():
    from lifecycle.evaluation.metrics.scorers import accuracy, macro_f1
    from lifecycle.normalize import label_normalize

    assert label_normalize("shopping.") == "shopping"
    assert label_normalize("  Shopping. \nBecause they bought shoes") == "shopping"
    assert label_normalize('"Technical support"!') == "technical support"
    assert label_normalize("\n\n(returns)") == "returns"
    assert label_normalize("a.b") == "a.b"  # only trailing punctuation goes
    assert accuracy(["shopping."], [["shopping"]]).value == 1.0
    assert macro_f1(["shopping."], [["shopping"]], labels=["shopping", "billing"]).value == 0.5  # billing: 0
    assert macro_f1(["shopping."], [["shopping"]]).value == 1.0
    assert accuracy(["shopping."], [["shopping"]], normalize=False).value == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_macro_f1_confusion_and_per_label_match_scikit_learn(seed):
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    from lifecycle.evaluation.metrics.scorers import label_report, macro_f1, off_label_rate
    from lifecycle.normalize import label_normalize

    true, pred = _samples(seed, 40)
    norm = [label_normalize(p) for p in pred]
    refs = [[t] for t in true]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about labels with no samples; it scores them 0
        for declared in (None, LABELS, LABELS[:3]):
            want = f1_score(true, norm, average="macro", labels=declared)
            assert macro_f1(pred, refs, labels=declared).value == pytest.approx(want, abs=1e-12)
        rep = label_report(pred, refs, labels=LABELS)
        assert [row[:len(LABELS)] for row in rep.matrix] == confusion_matrix(true, norm, labels=LABELS).tolist()
        p, r, f, s = precision_recall_fscore_support(true, norm, labels=LABELS, zero_division=0)
    for i, row in enumerate(rep.per_label):
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx((p[i], r[i], f[i], s[i]))
    off = sum(x not in LABELS for x in norm)
    assert rep.off_label == off and (rep.labels[-1] == "(off-label)") == (off > 0)
    assert off_label_rate(pred, refs, labels=LABELS).value == pytest.approx(off / len(pred))


def test_paired_test_works_when_runs_predict_different_label_sets():
    from lifecycle.evaluation.metrics.scorers import macro_f1
    from lifecycle.evaluation.statistics.bootstrap import compare_scores

    true = ["billing", "shopping", "technical", "returns", "other"] * 10
    a = ["billing"] * 50                                   # predicts one label
    b = [t if i % 3 else "shopping" for i, t in enumerate(true)]  # predicts all five
    for labels in (None, LABELS):
        sa, sb = macro_f1(a, [[t] for t in true], labels=labels), macro_f1(b, [[t] for t in true], labels=labels)
        res = compare_scores("macro_f1", sa, sb, higher_is_better=True, samples=200, permutations=500)
        assert res.a == pytest.approx(sa.value) and res.b == pytest.approx(sb.value)
        assert res.ci[0] > 0 and res.verdict == "B better"


@pytest.fixture
def cls_project(make_project, tmp_path):
    root = make_project("classification")
    rows = [{"id": f"d{i}", "text": f"dialogue number {i} about a {LABELS[i % 5]} problem", "label": LABELS[i % 5]}
            for i in range(25)]
    write_jsonl(root / "data" / "sample.jsonl", rows)
    set_text(root / "lifecycle.yaml", "  adaptation: prompting", "  adaptation: prompting\n  labels: [" +
             ", ".join(LABELS) + "]")
    return root, rows


def test_eval_run_scores_label_answers_and_eval_compare_pairs_them(cls_project, tmp_path, capsys):
    root, rows = cls_project
    dotted = write_jsonl(tmp_path / "dotted.jsonl", [{"id": r["id"], "prediction": r["label"].capitalize() + "."}
                                                    for r in rows])
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": r["id"], "prediction": "billing"} for r in rows])
    code, out, err = cli(capsys, "eval", "run", "--predictions", dotted, cwd=root)
    assert code == 0, err
    code, out, err = cli(capsys, "eval", "run", "--predictions", one, "--no-report", cwd=root)
    assert code == 0, err
    first, second = eval_runs(root)
    metrics = json.loads((first / "metrics.json").read_text())
    assert metrics["metrics"]["accuracy"]["value"] == 1.0 and metrics["metrics"]["macro_f1"]["value"] == 1.0
    assert metrics["metrics"]["off_label_rate"]["value"] == 0.0
    assert metrics["label_normalization"]["answers_changed"] == len(rows)
    meta = run_meta(first)["eval"]
    assert meta["labels"] == LABELS and "trailing punctuation" in meta["label_normalization"]
    assert meta["metric_args"]["macro_f1"]["labels"] == LABELS
    report = (first / "report.md").read_text()
    assert "## Labels" in report and "Confusion matrix" in report and "normalisation changed 25 of 25" in report
    # macro-F1 over the declared labels: 1 of 5 labels ever predicted
    m2 = json.loads((second / "metrics.json").read_text())["metrics"]["macro_f1"]["value"]
    assert m2 == pytest.approx((2 * 5 / (5 + 25)) / 5)
    code, out, err = cli(capsys, "eval", "compare", first.name, second.name, cwd=root)
    assert code == 0, err
    assert "paired test needs the same examples" not in err
    line = next(x for x in out.splitlines() if x.startswith("macro_f1"))
    assert "A better" in line


def test_compare_without_declared_labels_pairs_different_label_sets(make_project, tmp_path, capsys):
    root = make_project("classification")
    rows = [{"id": f"d{i}", "text": f"text {i}", "label": LABELS[i % 5]} for i in range(30)]
    write_jsonl(root / "data" / "sample.jsonl", rows)
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": r["id"], "prediction": r["label"] if i % 4 else "banana"}
                                                for i, r in enumerate(rows)])
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": r["id"], "prediction": "other"} for r in rows])
    for f in (good, one):
        assert cli(capsys, "eval", "run", "--predictions", f, "--no-report", cwd=root)[0] == 0
    a, b = eval_runs(root)
    code, out, err = cli(capsys, "eval", "compare", a.name, b.name, cwd=root)
    assert code == 0, err
    assert any(x.startswith("macro_f1") for x in out.splitlines())
    assert any(x.startswith("off_label_rate") for x in out.splitlines())


def test_labels_in_prompt_config_are_checked():
    from pydantic import ValidationError

    from lifecycle.config.prompt import PromptConfig

    cfg = PromptConfig(template="{text}", target_field="label", labels=["Yes", "no"])
    assert cfg.labels == ["Yes", "no"]
    with pytest.raises(ValidationError, match="same after normalisation"):
        PromptConfig(template="{text}", target_field="label", labels=["yes", "Yes."])
    with pytest.raises(ValidationError, match="at least one label"):
        PromptConfig(template="{text}", target_field="label", labels=[])
