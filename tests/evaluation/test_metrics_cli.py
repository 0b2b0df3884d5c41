"""`lifecycle eval metrics` and the registry's contract: every metric loads its module file, has a
direction and an aggregation; the eval CLI stays light to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from eval_helpers import cli
from lifecycle.errors import EvaluationError
from lifecycle.evaluation.metrics.registry import GROUPS, METRICS, expand_names, get_metric


@pytest.mark.parametrize("name", list(METRICS))
def test_every_metric_is_complete(name):
    info = METRICS[name]
    assert info.module_path.is_file()
    assert info.aggregation in ("mean", "corpus")
    assert info.higher_is_better in (True, False, None)
    assert info.description and info.tasks


def test_metrics_command_lists_names_directions_and_groups(tmp_path, capsys):
    code, out, err = cli(capsys, "eval", "metrics", cwd=tmp_path)
    assert code == 0, err
    for name in METRICS:
        assert name in out
    assert "rougeL" in out and "higher" in out and "corpus" in out and "groups: rouge = rouge1" in out
    code, out, _ = cli(capsys, "eval", "metrics", "--task", "question_answering", "--paths", cwd=tmp_path)
    listed = out.split("groups:")[0]
    assert code == 0 and "token_f1" in listed and "rouge1" not in listed and "token_f1.py" in listed


def test_did_you_mean_and_groups():
    with pytest.raises(EvaluationError, match="did you mean 'token_f1'"):
        get_metric("token_f")
    with pytest.raises(EvaluationError, match="did you mean 'sacrebleu'"):
        get_metric("sacreblue")
    assert expand_names(["rouge", "rougeL", "length"]) == [*GROUPS["rouge"], *GROUPS["length"]]


def test_eval_cli_does_not_import_heavy_libraries():
    code = ("import sys, lifecycle.cli.main; from lifecycle.cli import eval; "
            "heavy = [m for m in ('numpy', 'evaluate', 'torch', 'transformers', 'matplotlib', 'nltk', 'sacrebleu', "
            "'rouge_score', 'datasets') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
