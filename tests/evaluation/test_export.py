"""`lifecycle eval export`: an lm-eval task that lm-eval's own loader accepts and that scores like we
do, and a promptfoo config with one test per example."""

from __future__ import annotations

import os

import pytest
import yaml

from eval_helpers import cli, rows


@pytest.fixture
def project(make_project):
    return make_project("summarization")


def test_promptfoo_config(project, capsys):
    code, out, err = cli(capsys, "eval", "export", "--to", "promptfoo", cwd=project)
    assert code == 0, err
    cfg_path = project / "exports" / "promptfoo" / "promptfooconfig.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    data = rows(project)
    assert set(cfg) >= {"prompts", "providers", "tests", "description"}
    assert "{{dialogue}}" in cfg["prompts"][0]
    # a local python provider calling our engine: the hosted HF provider needs a token and the network
    assert cfg["providers"][0]["id"] == "file://lifecycle_provider.py"
    assert len(cfg["tests"]) == len(data)
    first = cfg["tests"][0]
    assert first["vars"]["dialogue"] == data[0]["dialogue"] and first["vars"]["references"] == [data[0]["summary"]]
    # only our metric: promptfoo's rouge-n is ROUGE-1 without stemming, a different number
    assert [a["type"] for a in first["assert"]] == ["python"]
    # the Python assertion really scores with our metric
    ns: dict = {}
    exec((cfg_path.parent / "lifecycle_assert.py").read_text(), ns)
    res = ns["get_assert"](data[0]["summary"], {"vars": first["vars"]})
    assert res["pass"] is True and res["score"] == pytest.approx(1.0)
    res = ns["get_assert"]("nothing alike", {"vars": first["vars"]})
    assert res["pass"] is False
    # never overwritten without --force
    code, _, err = cli(capsys, "eval", "export", "--to", "promptfoo", cwd=project)
    assert code != 0 and "--force" in err
    assert cli(capsys, "eval", "export", "--to", "promptfoo", "--force", cwd=project)[0] == 0


def test_unknown_export_format(project, capsys):
    code, _, err = cli(capsys, "eval", "export", "--to", "lm_eval", cwd=project)
    assert code != 0 and "did you mean 'lm-eval'" in err


@pytest.mark.slow
def test_lm_eval_task_loads_with_lm_evals_own_loader(project, capsys):
    try:
        import lm_eval  # noqa: F401  (in the `test` extra; co-installs with our pins)
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("lm_eval is not installed (pip install 'genai-lifecycle[test]')")
        pytest.skip("lm_eval is not installed: pip install 'lm_eval>=0.4.13'")
    from lm_eval.tasks import TaskManager

    from lifecycle.evaluation.metrics.registry import compute_metrics

    code, out, err = cli(capsys, "eval", "export", "--to", "lm-eval", cwd=project)
    assert code == 0, err
    folder = project / "exports" / "lm-eval"
    name = "lifecycle_demo"
    assert (folder / f"{name}.yaml").is_file()
    tm = TaskManager(include_path=str(folder), include_defaults=False)
    loaded = tm.load([name])  # lm-eval's own YAML loader, !function tags, dataset builder
    task = loaded["tasks"][name]
    docs = list(task.test_docs())
    data = rows(project)
    assert len(docs) == len(data)
    # the model cannot load offline here, so the budget was not measured: zero-shot, and it says why
    text = (folder / f"{name}.yaml").read_text()
    assert "not measured" in text and "\nnum_fewshot:" not in text  # left out: a YAML 0 blocks --num_fewshot
    assert task.config.num_fewshot in (None, 0)
    assert task.doc_to_text(docs[0]) == ("Summarize the following conversation.\n\n" + data[0]["dialogue"] +
                                         "\n\nSummary:")
    assert task.doc_to_target(docs[0]) == data[0]["summary"]
    assert task.config.output_type == "generate_until"
    pred = data[1]["summary"]
    got = task.process_results(docs[0], [pred])
    want = compute_metrics(["rouge1", "rouge2", "rougeL", "rougeLsum"], [pred], [[data[0]["summary"]]])
    for k in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert got[k] == pytest.approx(want[k].value, abs=1e-12)
    assert task.higher_is_better()["rougeL"] is True
