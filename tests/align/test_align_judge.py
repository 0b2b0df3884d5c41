"""Judges: the position-swap protocol, calibration against people, a local model as judge."""

from __future__ import annotations

import json
import random

import pytest

from lifecycle.align.judge import both_orders, calibrate, model_judge, parse_verdict, record_verdicts
from lifecycle.align.judgments import read_judgments


def _pairs(n, seed=0):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        good, bad = f"good answer {i}", f"bad answer {i} " + "x" * rng.randint(0, 5)
        a_wins = rng.random() < 0.5
        out.append({"pair_id": f"p{i}", "prompt": f"q{i}", "a": good if a_wins else bad, "b": bad if a_wins else good,
                    "truth": "a" if a_wins else "b"})
    return out


def biased_judge(seed=1, bias=0.4):
    """Right when honest; with probability `bias` it names whatever is shown first: 70/30 overall."""
    rng = random.Random(seed)
    return lambda asks: ["first" if rng.random() < bias else ("first" if f.startswith("good") else "second")
                         for _, f, s in asks]


def test_position_swap_removes_an_injected_70_30_bias():
    pairs = _pairs(4000)
    judge = biased_judge()
    single = judge([(p["prompt"], p["a"], p["b"]) for p in pairs])
    first_rate = sum(v == "first" for v in single) / len(single)
    assert abs(first_rate - 0.7) < 0.03  # the injected bias, in one order

    verdicts = both_orders(biased_judge(seed=2), pairs)
    decisive = [v for v in verdicts if v["choice"] != "tie"]
    shown_first_wins = sum(v["choice"] == "a" for v in decisive) / len(decisive)  # a is shown first in order 1
    truth_a = sum(p["truth"] == "a" for p in pairs) / len(pairs)
    assert abs(shown_first_wins - truth_a) < 0.05
    truth = {p["pair_id"]: p["truth"] for p in pairs}
    assert all(v["choice"] == truth[v["pair_id"]] for v in decisive)  # what survives both orders is right


def test_calibrate_kappa_matches_sklearn_and_reports_biases(tmp_path):
    from sklearn.metrics import cohen_kappa_score

    pairs = _pairs(80, seed=3)
    verdicts = both_orders(biased_judge(seed=4, bias=0.3), pairs)
    jf = tmp_path / "judge.jsonl"
    record_verdicts(jf, verdicts, "judge:biased")
    assert record_verdicts(jf, verdicts, "judge:biased") == 0  # resumable: nothing twice
    rng = random.Random(5)
    humans = [{"pair_id": p["pair_id"], "annotator": "ann", "choice": p["truth"] if rng.random() < 0.9 else "tie"}
              for p in pairs]
    hf = tmp_path / "human.jsonl"
    hf.write_text("".join(json.dumps(h) + "\n" for h in humans))
    by_id = {p["pair_id"]: p for p in pairs}
    result = calibrate(read_judgments(jf), read_judgments(hf), by_id)
    expected = cohen_kappa_score([v["choice"] for v in verdicts], [h["choice"] for h in humans])
    assert result["n"] == 80 and result["kappa"] == pytest.approx(expected)
    assert result["kappa_ci"][0] <= result["kappa"] <= result["kappa_ci"][1]
    assert 0.6 < result["position_bias_first"] < 0.72
    assert result["length_bias_longer"] == 0.0  # the good answers are the shorter ones here


def test_parse_verdict_never_guesses():
    assert parse_verdict(" A") == "first" and parse_verdict("b.") == "second"
    assert parse_verdict("Answer: maybe") == "tie" and parse_verdict("") == "tie"


def test_local_model_judge_through_the_engine(align_t5):
    from lifecycle.loading import load_model

    verdicts = both_orders(model_judge(load_model(str(align_t5))), _pairs(4))
    assert len(verdicts) == 4 and {v["choice"] for v in verdicts} <= {"a", "b", "tie"}
    assert all(v["order_ab"] in ("first", "second", "tie") for v in verdicts)
