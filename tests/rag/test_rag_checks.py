"""integrate.rag_index_fresh and integrate.grounded read the index manifest and rag_eval run records."""

from __future__ import annotations

import json

from lifecycle.checks.registry import get_check, run_one


def _check(root, check_id):
    from lifecycle.checks.context import CheckContext

    return run_one(get_check(check_id), CheckContext(root))


def test_rag_index_fresh(rag_project, run_cli):
    (rag_project / "configs" / "rag.yaml").unlink()  # written by `lifecycle rag samples`
    assert _check(rag_project, "integrate.rag_index_fresh").status == "todo"  # no configs/rag.yaml
    (rag_project / "configs" / "rag.yaml").write_text("# Used by: lifecycle rag index / query / eval\n"
                                                      "retrieval:\n  k: 3\n", encoding="utf-8")
    r = _check(rag_project, "integrate.rag_index_fresh")
    assert r.status == "fail" and "no index" in r.message and "lifecycle rag index" in r.hint
    from lifecycle.project import Project
    from lifecycle.rag.index import build_index
    from lifecycle.rag.project import rag_setup

    st = rag_setup(Project(rag_project))
    build_index(st.docs_dir, st.index_dir, st.cfg, tokenizer_ref=st.tokenizer_ref())
    r = _check(rag_project, "integrate.rag_index_fresh")
    assert r.status == "pass" and r.evidence["chunks"] >= 10
    (rag_project / "data" / "docs" / "library.md").write_text("The library moved.", encoding="utf-8")
    r = _check(rag_project, "integrate.rag_index_fresh")
    assert r.status == "fail" and r.evidence["changed"] == ["library.md"] and "stale" in r.message
    r = run_cli("check", "integrate", "--json", cwd=rag_project)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    rows = data if isinstance(data, list) else data.get("results", data.get("checks", []))
    fresh = next(x for x in rows if x["id"] == "integrate.rag_index_fresh")
    assert fresh["status"] == "fail" and "1 changed (library.md)" in fresh["message"]


def _rag_run(root, verdicts: dict):
    from lifecycle.runs.store import RunStore

    store = RunStore(root / "runs")
    base = store.create("rag_eval", config={"role": "no_rag"}, extra={"role": "no_rag", "rag": {}})
    base.finish("complete")
    cmp = {m: {"diff": d, "p_value": 0.01 if v != "no significant difference" else 0.4, "verdict": v}
           for m, (d, v) in verdicts.items()}
    run = store.create("rag_eval", config={"role": "rag"},
                       extra={"role": "rag", "rag": {"paired_with": base.id, "comparison": cmp}})
    run.finish("complete")
    return run


def test_grounded_reads_the_latest_rag_run(rag_project):
    (rag_project / "configs" / "rag.yaml").write_text("retrieval:\n  k: 3\n", encoding="utf-8")
    r = _check(rag_project, "integrate.grounded")
    assert r.status == "todo" and "lifecycle rag eval" in r.hint
    _rag_run(rag_project, {"exact_match": (0.0, "no significant difference"),
                           "unsupported_answer_rate": (0.01, "no significant difference")})
    r = _check(rag_project, "integrate.grounded")
    assert r.status == "fail" and "not better" in r.message
    run = _rag_run(rag_project, {"exact_match": (0.0, "no significant difference"),
                                 "unsupported_answer_rate": (-0.4, "B better")})
    r = _check(rag_project, "integrate.grounded")
    assert r.status == "pass" and r.evidence["run"] == run.id and "unsupported_answer_rate" in r.message


def test_rag_yaml_with_enabled_false_declares_no_augmentation(rag_project):
    cfg = rag_project / "configs" / "rag.yaml"
    cfg.write_text("enabled: false\nretrieval:\n  k: 3\n", encoding="utf-8")
    for check in ("integrate.rag_index_fresh", "integrate.grounded"):
        r = _check(rag_project, check)
        assert r.status == "todo" and "enabled: false" in r.message and "enabled: true" in r.hint
    cfg.write_text("enabled: true\n", encoding="utf-8")
    assert _check(rag_project, "integrate.rag_index_fresh").status == "fail"  # declared, and no index yet
