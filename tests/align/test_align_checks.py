"""adapt.preferences_collected and adapt.aligned read the preference files, the judgments and the run
records (laid out as `align data`, `review`, `align eval`, `judge calibrate` and `eval run` write them),
and name what they used."""

from __future__ import annotations

import json

from align_data import dialogues


def _checks(root) -> dict:
    """The two alignment checks, through the registry's own runner."""
    from lifecycle.checks.context import CheckContext
    from lifecycle.checks.registry import get_check, run_one

    ctx = CheckContext(root)
    return {c: run_one(get_check(c), ctx) for c in ("adapt.preferences_collected", "adapt.aligned")}


def _align(root, **fields) -> None:
    text = "alignment:\n" + "".join(f"  {k}: {v}\n" for k, v in {"method": "dpo", **fields}.items())
    with (root / "lifecycle.yaml").open("a", encoding="utf-8") as f:
        f.write(text)


def _prefs(root, n_train: int, n_held: int, run_id: str = "20260101T000000000000Z-pairs-abc1234") -> list[str]:
    out = root / "data" / "preferences"
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"prompt": r["dialogue"], "chosen": r["summary"], "rejected": "Thanks.",
             "pair_id": f"{run_id}/{r['id']}/0-1", "prompt_id": r["id"]} for r in dialogues(n_train + n_held)]
    (out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:n_train]))
    (out / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[n_train:]))
    return [r["pair_id"] for r in rows]


def _judgments(root, ids: list[str], second: list[str]) -> None:
    lines = [{"pair_id": p, "annotator": "alice", "choice": "a" if i % 2 else "b"} for i, p in enumerate(ids)]
    lines += [{"pair_id": p, "annotator": "bob", "choice": c} for p, c in zip(ids, second)]
    (root / "data" / "preferences" / "judgments.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_method_null_means_no_alignment_step(make_project):
    res = _checks(make_project())
    for check in ("adapt.preferences_collected", "adapt.aligned"):
        assert res[check].status == "todo" and "alignment.method: null" in res[check].message


def test_preferences_collected_counts_pairs_and_agreement(make_project):
    root = make_project()
    _align(root, min_pairs=20, min_kappa=0.4)
    r = _checks(root)["adapt.preferences_collected"]
    assert r.status == "todo" and "no preference pairs yet" in r.message
    _prefs(root, 10, 4)
    r = _checks(root)["adapt.preferences_collected"]
    assert r.status == "fail" and "14 preference pairs" in r.message and "min_pairs is 20" in r.message
    ids = _prefs(root, 20, 6)
    r = _checks(root)["adapt.preferences_collected"]
    assert r.status == "pass" and "pairs run 20260101T000000000000Z-pairs-abc1234" in r.message
    assert r.evidence["pairs"] == {"train": 20, "heldout": 6}
    # bob agrees with alice on every pair: kappa 1 with a tight interval
    alice = ["a" if i % 2 else "b" for i in range(len(ids))]
    _judgments(root, ids, alice)
    r = _checks(root)["adapt.preferences_collected"]
    assert r.status == "pass" and "alice vs bob: kappa 1.000" in r.message
    # bob answers at random-ish (every third flipped + ties): the kappa lower bound falls below 0.4
    noisy = [("tie" if i % 3 == 0 else ("b" if c == "a" else "a") if i % 3 == 1 else c) for i, c in enumerate(alice)]
    _judgments(root, ids, noisy)
    r = _checks(root)["adapt.preferences_collected"]
    from sklearn.metrics import cohen_kappa_score

    kappa = cohen_kappa_score(alice, noisy)
    assert r.status == "fail" and f"kappa {kappa:.3f}" in r.message and "below alignment.min_kappa 0.4" in r.message
    assert r.evidence["agreement"][0]["kappa_ci"][0] < 0.4


def _record(root, kind: str, metrics: dict, **fields):
    from lifecycle.runs.store import RunStore

    run = RunStore(root / "runs").create(kind, **fields)
    run.write_metrics(metrics)
    run.finish("complete")
    return run


def _win(value, lo, hi, n=20):
    return {"n": n, "metrics": {"win_rate": {"value": value, "ci": [lo, hi], "n": n, "higher_is_better": True}},
            "counts": {"wins": 12, "ties": 4, "losses": 4}}


def test_aligned_needs_win_rate_bound_and_task_metric(make_project, add_align_eval_run):
    root = make_project()
    _align(root)
    r = _checks(root)["adapt.aligned"]
    assert r.status == "todo" and "no align eval run judged by a reward model" in r.message
    align = _record(root, "align", {"n": 0, "metrics": {}}, config={"model": {"model": "google/flan-t5-base"}})
    (align.path / "model").mkdir()
    low = _record(root, "align_eval", _win(0.6, 0.45, 0.75), config={"judge": {"kind": "reward_model", "run": "R"}},
                  extra={"aligned_run": align.id})
    r = _checks(root)["adapt.aligned"]
    assert r.status == "fail" and r.evidence["run"] == low.id and "lower bound is not above 0.5" in r.message
    good = _record(root, "align_eval", _win(0.7, 0.55, 0.85), config={"judge": {"kind": "reward_model", "run": "R"}},
                   extra={"aligned_run": align.id})
    r = _checks(root)["adapt.aligned"]
    assert r.status == "todo" and good.id in r.message and f"model: runs/{align.id}/model" in r.hint
    # the task metric of the aligned model (configs/model.yaml pointed at its folder, then `eval run`)
    below = add_align_eval_run(root, f"runs/{align.id}/model", value=0.31, ci=(0.25, 0.37))
    r = _checks(root)["adapt.aligned"]
    assert r.status == "fail" and r.evidence["task_run"] == below.id and "target 0.3" in r.message
    above = add_align_eval_run(root, f"runs/{align.id}/model", value=0.4, ci=(0.33, 0.47))
    r = _checks(root)["adapt.aligned"]
    assert r.status == "pass" and r.evidence["run"] == good.id and r.evidence["task_run"] == above.id
    assert "win-rate 0.700 (95% CI 0.550-0.850, n=20" in r.message


def test_a_judge_gates_only_once_calibrated(make_project):
    root = make_project()
    _align(root, judge="judge", min_kappa=0.5)
    align = _record(root, "align", {"n": 0, "metrics": {}}, config={"model": {"model": "google/flan-t5-base"}})
    run = _record(root, "align_eval", _win(0.7, 0.55, 0.85), config={"judge": {"kind": "oracle", "oracle": "m:f"}},
                  extra={"aligned_run": align.id})
    r = _checks(root)["adapt.aligned"]
    assert r.status == "todo" and "no `lifecycle judge calibrate` run" in r.message and r.evidence["run"] == run.id
    kappa = {"n": 30, "metrics": {"kappa": {"value": 0.55, "ci": [0.3, 0.8], "n": 30}}}
    cal = _record(root, "judge_calibration", kappa, config={"min_kappa": 0.5})
    r = _checks(root)["adapt.aligned"]
    assert r.status == "fail" and "may not gate" in r.message and r.evidence["calibration_run"] == cal.id
    kappa["metrics"]["kappa"]["ci"] = [0.52, 0.9]
    cal = _record(root, "judge_calibration", kappa, config={"min_kappa": 0.5})
    r = _checks(root)["adapt.aligned"]
    assert r.status == "todo" and r.evidence["calibration_run"] == cal.id  # gates now; task metric still missing
