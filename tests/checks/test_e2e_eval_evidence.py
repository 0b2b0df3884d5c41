"""The adapt checks read the run folders `lifecycle eval run` really writes (tiny real model)."""

from __future__ import annotations

import pytest

from lifecycle.checks import run_checks


@pytest.mark.slow
def test_checks_follow_real_eval_runs(make_project, tiny_t5, cli):
    root = make_project(model=tiny_t5)
    before = {r.id: r for r in run_checks(root, "adapt")}
    assert before["adapt.baseline"].status == "todo"
    # a --limit run scores a different eval set: it is not evidence for configs/eval.yaml
    code, out, err = cli("eval", "run", "--shots", "0", "--limit", "1", "--no-report", "--project", root)
    assert code == 0, err
    stale = {r.id: r for r in run_checks(root, "adapt")}["adapt.baseline"]
    assert stale.status == "todo" and "1 eval run on another eval set" in stale.message
    ev = root / "configs" / "eval.yaml"
    ev.write_text(ev.read_text(encoding="utf-8").replace("  reference_field:", "  limit: 3\n  reference_field:"))
    code, out, err = cli("eval", "run", "--shots", "0,1,2", "--no-report", "--project", root)
    assert code == 0, err
    runs = sorted(p.name for p in (root / "runs").iterdir())[1:]
    assert len(runs) == 3
    res = {r.id: r for r in run_checks(root, "adapt")}
    assert res["adapt.baseline"].status == "pass" and res["adapt.baseline"].evidence["run"] == runs[0]
    assert res["adapt.icl_ladder"].status == "pass"
    assert res["adapt.icl_ladder"].evidence["runs"] == {"0": runs[0], "1": runs[1], "2": runs[2]}
    target = res["adapt.target_met"]
    assert target.status in ("pass", "fail") and target.evidence["run"] in runs
    assert target.evidence["ci"] is not None
