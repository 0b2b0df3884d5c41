"""Must-show of issue 14: the calculator tool, PAL-style. A tiny GPT-2 trained on the fly to answer
arithmetic questions both directly and by writing the expression is evaluated on the generated
arithmetic set with and without the tool: two eval runs with the same eval key, which `lifecycle eval
compare` pairs (paired bootstrap CI + permutation p-value): exact match up with the tool, p < 0.05."""

from __future__ import annotations

import json

import pytest

from lifecycle.runs.store import RunStore
from lifecycle.tools import arithmetic, pal


def _tool_runs(root) -> dict:
    return {r.meta["tool"]["role"]: r for r in RunStore(root / "runs").list("eval") if "tool" in r.meta}


@pytest.mark.slow
def test_the_calculator_beats_direct_answers_by_eval_compare(make_project, expression_writer, cli, capsys):
    folder, steps, loss = expression_writer
    root = make_project("question_answering", model=folder)
    code, out, err = cli("tools", "eval", "--project", root)
    assert code == 0, err
    assert "wrote the generated arithmetic set" in out and (root / "data" / "tools" / "arith.jsonl").is_file()
    runs = _tool_runs(root)
    assert set(runs) == {"direct", "tool"} and all(r.status == "complete" for r in runs.values())
    assert runs["direct"].meta["eval"]["eval_key"] == runs["tool"].meta["eval"]["eval_key"]
    rows = {r["id"]: r for r in arithmetic.arithmetic_set(50, seed=0)}
    train = {r["question"] for r in arithmetic.arithmetic_set(3000, seed=1000)}
    assert not train & {r["question"] for r in rows.values()}, "the eval questions were trained on"

    # what was scored is what the model wrote, computed by the calculator; checked against Python itself
    for rec in runs["tool"].read_predictions():
        assert rec["prompt"] == pal.TOOL_TEMPLATE.format(question=rows[rec["id"]]["question"])
        if rec["prediction"]:
            assert int(rec["prediction"]) == eval(rec["expression"], {"__builtins__": {}})
        assert rec["references"] == [rows[rec["id"]]["answer"]]

    code, out, err = cli("eval", "compare", runs["direct"].id, runs["tool"].id, "--json", "--project", root)
    assert code == 0, err
    em = json.loads(out)["comparisons"][runs["tool"].id]["metrics"]["exact_match"]
    note = (f"trained {steps} steps (expression loss {loss:.3f}); exact match direct {em['a']:.3f} -> tool "
            f"{em['b']:.3f}, diff {em['diff']:+.3f} CI [{em['ci'][0]:+.3f}, {em['ci'][1]:+.3f}] p={em['p_value']:.4f}")
    with capsys.disabled():  # the numbers, for the record (`pytest -s`)
        print("\n" + note)
    assert em["n"] == 50 and em["b"] > em["a"] and em["p_value"] < 0.05 and em["verdict"] == "B better", note
    assert em["b"] >= 0.8, note
    # the numbers `tools eval` printed are the same paired test
    assert f"p={em['p_value']:.4f}" in cli("tools", "eval", "--project", root)[1]


HOOK = '''
def prepare(example):
    example = dict(example)
    example["question"] = example["question"].replace("What is", "PREPARED: what is")
    return example
'''


def test_tool_eval_runs_are_eval_runs_through_the_prompt_pipeline(make_project, tiny_t5, cli):
    import yaml

    from lifecycle.project import Project

    root = make_project("question_answering", model=tiny_t5)
    data = arithmetic.write_arithmetic_set(root / "data" / "tools" / "arith.jsonl", 6, seed=1)
    pkg = root / "src" / "demo_project"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "prompts.py").write_text(HOOK)
    pr = yaml.safe_load((root / "configs" / "prompt.yaml").read_text())
    pr["preprocess"] = "demo_project.prompts:prepare"
    (root / "configs" / "prompt.yaml").write_text(yaml.safe_dump(pr, sort_keys=False))

    res = pal.run_tool_eval(Project(root), data, samples=100, permutations=200)
    runs = _tool_runs(root)
    assert {k: r.id for k, r in runs.items()} == {k: r.id for k, r in res.runs.items()}
    for role, run in runs.items():
        preds = run.read_predictions()
        assert len(preds) == 6 and all(p["prompt"].count("PREPARED: what is") == 1 for p in preds)
        assert run.meta["tool"]["template"] == pal.PROMPTS[role]
        # the recorded exact match is recomputed from the recorded predictions
        acc = sum(p["prediction"] == p["references"][0] for p in preds) / 6
        assert res.accuracy[role] == pytest.approx(acc) == run.metrics()["metrics"]["exact_match"]["value"]
    assert all("expression" in p and "tool_error" in p for p in runs["tool"].read_predictions())
    assert res.comparison["n"] == 6 and res.comparison["compare_run"]
    code, out, err = cli("eval", "compare", runs["direct"].id, runs["tool"].id, "--project", root)
    assert code == 0 and "exact_match" in out, err


def test_tools_eval_bad_data_is_one_located_line(make_project, tiny_t5, cli):
    root = make_project("question_answering", model=tiny_t5)
    bad = root / "data" / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "What is 1 plus 2?", "answer": "3"}\n{"id": "b", "question": 7, "answer": "1"}\n')
    code, _, err = cli("tools", "eval", "--data", bad, "--project", root)
    assert code != 0 and f"{bad}:2" in err and "question" in err and "Traceback" not in err
    code, _, err = cli("tools", "eval", "--data", root / "missing.jsonl", "--project", root)
    assert code != 0 and "missing.jsonl: not found" in err and "Traceback" not in err
