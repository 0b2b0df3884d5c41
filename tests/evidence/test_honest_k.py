"""Honest K: a run whose examples got fewer shots than asked says so (run.yaml, predictions, the
CLI table, the report, the ladder check); truncation is counted; context checks measure the eval set."""

from __future__ import annotations

import json

import pytest

from evidence_helpers import cli, eval_runs, predictions, run_meta, set_text


@pytest.fixture
def tight_project(make_project, tiny_t5):
    """A summarization project whose window holds every 1-shot prompt but no 3-shot one."""
    from lifecycle.loading import load_tokenizer
    from lifecycle.project import Project
    from lifecycle.prompting import prompt_lengths

    root = make_project("summarization", model=tiny_t5)
    project = Project(root)
    examples = [json.loads(x) for x in (root / "data" / "sample.jsonl").read_text().splitlines() if x.strip()]
    tok = load_tokenizer(str(tiny_t5))
    cfg = project.prompt_config()
    window = max(prompt_lengths(examples, cfg, tok, k=1))
    assert min(prompt_lengths(examples, cfg, tok, k=3)) > window
    set_text(root / "configs" / "model.yaml", "trust_remote_code: false",
             f"trust_remote_code: false\nmax_context: {window}")
    set_text(root / "configs" / "generation.yaml", "max_new_tokens: 16", "max_new_tokens: 4")
    return root, len(examples)


@pytest.mark.slow
def test_the_ladder_is_labelled_by_what_examples_got(tight_project, capsys):
    root, n = tight_project
    code, out, err = cli(capsys, "eval", "run", "--shots", "0,1,3", cwd=root)
    assert code == 0, err
    runs = {run_meta(r)["eval"]["shots"]: r for r in eval_runs(root)}
    assert sorted(runs) == [0, 1, 3]
    budgets = {k: run_meta(r)["budget"] for k, r in runs.items()}
    assert budgets[0]["full_k"] == n and budgets[0]["k_mean_used"] == 0
    assert budgets[1] == {**budgets[1], "k_asked": 1, "full_k": n, "k_mean_used": 1.0}
    three = budgets[3]
    recs = predictions(runs[3])
    used = [r["shots_used"] for r in recs]
    assert all(r["shots_requested"] == 3 and "truncated" in r for r in recs)
    assert three["k_asked"] == 3 and three["n"] == n and three["full_k"] == sum(u == 3 for u in used) < n
    assert three["k_mean_used"] == pytest.approx(sum(used) / n, abs=1e-4) and three["k_mean_used"] < 3
    assert three["truncated"] == sum(r["truncated"] for r in recs)
    # the CLI table, the report header and the ladder check say what happened
    mean = f"{three['k_mean_used']:.2f}".rstrip("0").rstrip(".")
    label = f"K=3 asked, {mean} mean used, {three['full_k']} of {n} got 3"
    assert label in out
    report = (runs[3] / "report.md").read_text()
    assert f"shots: {label}" in report and "truncated inputs:" in report
    code, out, err = cli(capsys, "check", "adapt", "--json", cwd=root)
    res = {r["id"]: r for r in json.loads(out)["results"]}
    ladder = res["adapt.icl_ladder"]
    assert ladder["status"] == "fail" and "did not get K shots" in ladder["message"] and label in ladder["message"]
    assert "budget.policy" not in (ladder["hint"] or "")


def test_auto_policy_truncation_is_counted_in_the_run(make_project, tiny_t5, capsys):
    """An input too long even alone is cut (auto always has a way forward) and the run counts it."""
    from lifecycle.loading import load_tokenizer
    from lifecycle.project import Project
    from lifecycle.prompting import prompt_lengths

    root = make_project("summarization", model=tiny_t5)
    examples = [json.loads(x) for x in (root / "data" / "sample.jsonl").read_text().splitlines() if x.strip()]
    zero = prompt_lengths(examples, Project(root).prompt_config(), load_tokenizer(str(tiny_t5)), k=0)
    window = sorted(zero)[len(zero) // 2]
    set_text(root / "configs" / "model.yaml", "trust_remote_code: false",
             f"trust_remote_code: false\nmax_context: {window}")
    set_text(root / "configs" / "generation.yaml", "max_new_tokens: 16", "max_new_tokens: 2")
    code, out, err = cli(capsys, "eval", "run", "--shots", "0", "--limit", "8", cwd=root)
    assert code == 0, err
    (run,) = eval_runs(root)
    budget = run_meta(run)["budget"]
    cut = sum(n > window for n in zero)
    assert budget["truncated"] == cut > 0 and budget["truncated_tokens"] > 0
    assert f"K=0; {cut} of {len(zero)} truncated" in out


def test_context_check_measures_the_eval_set(make_project, tiny_t5):
    from lifecycle.checks import run_checks

    root = make_project("summarization", model=tiny_t5)
    rows = [json.loads(x) for x in (root / "data" / "sample.jsonl").read_text().splitlines() if x.strip()]
    long_rows = [{**r, "id": f"e{i}", "dialogue": (r["dialogue"] + "\n") * 6} for i, r in enumerate(rows)]
    (root / "data" / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in long_rows))
    set_text(root / "configs" / "eval.yaml", "path: data/sample.jsonl", "path: data/eval.jsonl")
    res = {r.id: r for r in run_checks(root, "select", measure=True)}["select.context_window"]
    assert res.evidence["data"] == "data/eval.jsonl" and res.evidence["longest_example"].startswith("e")


def test_ladder_gate_reads_effective_k(make_project, add_eval_run):
    from lifecycle.checks import run_checks

    root = make_project()
    add_eval_run(root, shots=0)
    add_eval_run(root, shots=1)
    short = {"k_asked": 3, "n": 20, "k_mean_used": 1.4, "full_k": 0, "truncated": 5}
    three = add_eval_run(root, shots=3, budget=short)
    res = {r.id: r for r in run_checks(root, "adapt")}["adapt.icl_ladder"]
    assert res.status == "fail"
    assert f"run {three.id}: K=3 asked, 1.4 mean used, 0 of 20 got 3; 5 of 20 truncated" in res.message
    add_eval_run(root, shots=2)  # a few-shot rung whose examples all got 2 shots
    res = {r.id: r for r in run_checks(root, "adapt")}["adapt.icl_ladder"]
    assert res.status == "pass" and res.evidence["runs"].keys() == {"0", "1", "2"}
    unknown = {"k_asked": 3}
    root2 = make_project(name="other")
    add_eval_run(root2, shots=0)
    add_eval_run(root2, shots=1)
    add_eval_run(root2, shots=3, budget=unknown)
    res = {r.id: r for r in run_checks(root2, "adapt")}["adapt.icl_ladder"]
    assert res.status == "todo" and "shots used not recorded" in res.message


def test_effective_k_labels():
    from lifecycle.prompting.effective import effective_k, k_label

    recs = [{"shots_requested": 3, "shots_used": u, "truncated": t} for u, t in
            [(1, False), (2, True), (3, False), (1, False), (0, True)]]
    s = effective_k(recs)
    assert (s.k_asked, s.n, s.full_k, s.truncated) == (3, 5, 1, 2) and s.k_mean_used == pytest.approx(1.4)
    assert s.label() == "K=3 asked, 1.4 mean used, 1 of 5 got 3; 2 of 5 truncated"
    assert k_label(s.as_record(), short=True) == "K=3 (1.4 used)"
    assert effective_k([{"shots_requested": 2, "shots_used": 2}] * 4).label() == "K=2"
    # 2.95 mean never rounds up to the K asked
    assert "2.95 mean used" in effective_k([{"shots_requested": 3, "shots_used": 3}] * 19 +
                                           [{"shots_requested": 3, "shots_used": 2}]).label()
    assert k_label(None) == "K unknown (external predictions)"
