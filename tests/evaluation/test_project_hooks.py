"""The project's src/ package is the extension point the tool calls (issue 9 item 8): a custom metric
named by import path in configs/eval.yaml, scored by `eval run` with an interval and compared by
`eval compare`; a `preprocess` function in configs/prompt.yaml applied to every prompted example;
both loaded only from the project's own package, with one-line errors."""

from __future__ import annotations

import json

import pytest
import yaml

from lifecycle.runs.store import RunStore

METRICS = '''
def words_out(prediction, reference):
    return float(len(prediction.split()))


def broken(prediction, reference):
    raise ZeroDivisionError("on purpose")
'''
PROMPTS = '''
def prepare(example):
    example = dict(example)
    example["dialogue"] = "PREPARED " + example["dialogue"]
    return example
'''


def _hooked(root, *, function="demo_project.metrics:words_out", preprocess="demo_project.prompts:prepare"):
    pkg = root / "src" / "demo_project"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "metrics.py").write_text(METRICS)
    (pkg / "prompts.py").write_text(PROMPTS)
    ev = yaml.safe_load((root / "configs" / "eval.yaml").read_text())
    ev["metrics"].append({"name": "words_out", "function": function, "higher_is_better": None})
    ev["dataset"]["limit"] = 4
    (root / "configs" / "eval.yaml").write_text(yaml.safe_dump(ev, sort_keys=False))
    pr = yaml.safe_load((root / "configs" / "prompt.yaml").read_text())
    pr["preprocess"] = preprocess
    (root / "configs" / "prompt.yaml").write_text(yaml.safe_dump(pr, sort_keys=False))


@pytest.mark.slow
def test_custom_metric_and_preprocess_are_called(make_project, tiny_t5, cli):
    root = make_project(model=tiny_t5)
    _hooked(root)
    code, out, err = cli("validate", "--project", root)
    assert code == 0, err
    code, out, err = cli("eval", "run", "--shots", "0,1", "--no-report", "--project", root)
    assert code == 0, err
    runs = RunStore(root / "runs").list(kind="eval")
    for run in runs:
        records = run.read_predictions()
        assert all(r["prompt"].count("PREPARED ") == 1 + r["shots_used"] for r in records)  # shots prepared too
        m = run.metrics()["metrics"]["words_out"]
        expected = sum(len(r["prediction"].split()) for r in records) / len(records)
        assert m["value"] == pytest.approx(expected) and m["n"] == len(records) == 4
        assert m["ci"][0] <= m["value"] <= m["ci"][1] and m["higher_is_better"] is None
    code, out, err = cli("eval", "compare", runs[0].id, runs[1].id, "--project", root)
    assert code == 0, err
    assert "words_out" in out


@pytest.mark.parametrize("function, preprocess, expect", [
    ("os.path:join", "demo_project.prompts:prepare", "outside the project's package 'demo_project'"),
    ("demo_project.metrics:missing", "demo_project.prompts:prepare", "has no function 'missing'"),
    ("demo_project.metrics:words_out", "demo_project.nope:prepare", "importing demo_project.nope failed"),
])
def test_bad_hooks_are_located_by_validate(make_project, cli, function, preprocess, expect):
    root = make_project()
    _hooked(root, function=function, preprocess=preprocess)
    code, out, err = cli("validate", "--project", root)
    assert code == 2 and expect in err and "Traceback" not in err
    assert ("configs/eval.yaml:" in err) or ("configs/prompt.yaml:" in err)


@pytest.mark.slow
def test_a_failing_metric_is_one_line(make_project, tiny_t5, cli):
    root = make_project(model=tiny_t5)
    _hooked(root, function="demo_project.metrics:broken")
    code, out, err = cli("eval", "run", "--shots", "0", "--no-report", "--project", root)
    assert code != 0 and "metric words_out: your function failed on example 1: ZeroDivisionError: on purpose" in err
    assert "Traceback" not in err
    assert not [r for r in RunStore(root / "runs").list(kind="eval") if r.recorded_status == "running"]
    json.dumps(err)  # printable
