"""Blind review, judgments files, agreement and preference data: behaviour a reviewer sees."""

from __future__ import annotations

import json
import multiprocessing
import random
from pathlib import Path

import pytest

from lifecycle.align.judgments import cohen_kappa, read_judgments
from lifecycle.align.preferences import build_preferences, load_preferences
from lifecycle.align.review import import_judgments, review_loop, shown_first
from lifecycle.config.align import PreferenceDataSettings
from lifecycle.errors import DataError


def _pairs(n=6, prompts=3):
    return [{"pair_id": f"R/p{i % prompts}/{i}", "prompt_id": f"p{i % prompts}", "prompt": f"prompt {i % prompts}",
             "a": f"first answer {i}", "b": f"second answer {i}"} for i in range(n)]


def _write(path: Path, rows) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_kappa_equals_sklearn():
    from sklearn.metrics import cohen_kappa_score

    rng = random.Random(1)
    for _ in range(20):
        n = rng.randint(3, 40)
        x = [rng.choice("ab t".split() + ["tie"]) for _ in range(n)]
        y = [v if rng.random() < 0.6 else rng.choice(["a", "b", "tie"]) for v in x]
        x = [v if v in ("a", "b", "tie") else "a" for v in x]
        y = [v if v in ("a", "b", "tie") else "a" for v in y]
        if len(set(x) | set(y)) < 2:
            continue
        assert abs(cohen_kappa(x, y) - cohen_kappa_score(x, y)) < 1e-12


def test_review_blind_sides_recorded_and_resumable(tmp_path):
    pairs = _pairs(6)
    path = tmp_path / "j.jsonl"
    shown = []
    keys = iter("ax" + "b" + "t" + "q")  # an unknown key (x) is asked again; q stops
    counts = review_loop(pairs, path, "alice", lambda: next(keys), shown.append)
    assert counts["judged"] == 3 and counts["remaining"] == 3
    recs = read_judgments(path)
    assert [r["pair_id"] for r in recs] == [p["pair_id"] for p in pairs[:3]]
    # the left side is random per pair and recorded; `a` picks whatever was on the left
    first = recs[0]
    assert first["shown_first"] == shown_first(pairs[0]["pair_id"], "alice")
    assert first["choice"] == first["shown_first"]
    assert recs[1]["choice"] == ("b" if recs[1]["shown_first"] == "a" else "a")
    assert recs[2]["choice"] == "tie"
    left_text = pairs[0][first["shown_first"]]
    assert shown[0].index(left_text) < shown[0].index("--- B ---")
    sides = {shown_first(f"x{i}", "alice") for i in range(40)}
    assert sides == {"a", "b"}
    # resume: only the three not judged yet are shown
    shown.clear()
    keys = iter("sss")
    counts = review_loop(pairs, path, "alice", lambda: next(keys), shown.append)
    assert counts == {"judged": 0, "skipped": 3, "remaining": 0, "already": 3}
    assert len(read_judgments(path)) == 6


def _reviewer(args):
    path, name, pairs = args
    from lifecycle.align.review import record

    for p in pairs:
        record(Path(path), p["pair_id"], name, "a", "a")


def test_concurrent_reviewers_lose_nothing(tmp_path):
    pairs = _pairs(60, prompts=10)
    path = tmp_path / "j.jsonl"
    with multiprocessing.get_context("fork").Pool(3) as pool:
        pool.map(_reviewer, [(str(path), f"r{i}", pairs) for i in range(3)])
    recs = read_judgments(path)
    assert len(recs) == 180 and len({(r["pair_id"], r["annotator"]) for r in recs}) == 180


@pytest.mark.parametrize("line,where", [
    ('{"pair_id": "nope", "choice": "a"}', "2: pair_id: unknown pair 'nope'"),
    ('{"pair_id": "R/p0/0", "choice": "b"}', "2: pair_id: duplicate judgment of 'R/p0/0' by 'bob' (first at line 1)"),
    ('{"pair_id": "R/p1/1", "choice": "left"}', "2: choice: 'left' is not one of a, b, tie, skip"),
    ('{"pair_id": "R/p1/1"}', "2: choice: missing"),
    ('not json', "2: not valid JSON"),
])
def test_bad_judgment_files_name_the_line(tmp_path, line, where):
    src = _write(tmp_path / "in.jsonl", ['{"pair_id": "R/p0/0", "choice": "a"}', line])
    with pytest.raises(DataError) as err:
        import_judgments(_pairs(), src, tmp_path / "j.jsonl", "bob")
    assert str(err.value) == f"{src}:{where}" or str(err.value).startswith(f"{src}:{where}")
    assert not (tmp_path / "j.jsonl").exists()  # nothing recorded from a bad file


def test_import_twice_adds_nothing(tmp_path):
    pairs = _pairs()
    src = _write(tmp_path / "in.jsonl", [{"pair_id": p["pair_id"], "choice": "a"} for p in pairs])
    assert import_judgments(pairs, src, tmp_path / "j.jsonl", "bob") == {"added": 6, "already": 0}
    assert import_judgments(pairs, src, tmp_path / "j.jsonl", "bob") == {"added": 0, "already": 6}


def test_preferences_agreement_and_split_by_prompt(tmp_path):
    pairs = _pairs(12, prompts=6)
    j = tmp_path / "j.jsonl"
    a_votes = [{"pair_id": p["pair_id"], "choice": "a"} for p in pairs]
    import_judgments(pairs, _write(tmp_path / "alice.jsonl", a_votes), j, "alice")
    # bob agrees on all but the first two pairs (b, tie there)
    b_votes = [{"pair_id": p["pair_id"], "choice": ("b" if i == 0 else "tie" if i == 1 else "a")}
               for i, p in enumerate(pairs)]
    import_judgments(pairs, _write(tmp_path / "bob.jsonl", b_votes), j, "bob")
    out = tmp_path / "prefs"
    summary = build_preferences(pairs, j, out, PreferenceDataSettings(heldout_fraction=0.34, agreement=0.75))
    assert summary["dropped"]["disagreement"] == 2
    assert summary["train"] + summary["heldout"] == 10
    train, held = load_preferences(out / "train.jsonl"), load_preferences(out / "heldout.jsonl")
    assert {r["prompt_id"] for r in train}.isdisjoint({r["prompt_id"] for r in held}) and held
    assert all(r["chosen"].startswith("first") for r in train + held)
    (pair_stats,) = summary["agreement"]
    from sklearn.metrics import cohen_kappa_score

    assert pair_stats["kappa"] == pytest.approx(cohen_kappa_score([v["choice"] for v in a_votes],
                                                                  [v["choice"] for v in b_votes]))


@pytest.mark.parametrize("row,where", [
    ({"prompt": "p", "chosen": "same", "rejected": "same"}, ":2: chosen: equals rejected"),
    ({"prompt": " ", "chosen": "x", "rejected": "y"}, ":2: prompt: empty"),
    ({"question": "p", "chosen": "x", "rejected": "y"}, ":2: prompt: missing"),
    ({"prompt": "p", "chosen": ["x"], "rejected": "y"}, ":2: chosen: a list, not a string"),
    ("[1, 2]", ":2: expected a JSON object"),
])
def test_bad_preference_files_name_the_line(tmp_path, row, where):
    f = _write(tmp_path / "train.jsonl", [{"prompt": "p", "chosen": "x", "rejected": "y"}, row])
    with pytest.raises(DataError, match="^" + str(f).replace(".", r"\.") + where):
        load_preferences(f)


def test_review_in_a_real_terminal_one_key_per_judgment(make_project, tmp_path):
    """A pseudo-terminal: keys are read one at a time without Enter; q stops and keeps the rest."""
    import os
    import pty
    import subprocess
    import sys
    import time

    from lifecycle.runs.store import RunStore

    root = make_project(name="ttyproj")
    run = RunStore(root / "runs").create("pairs", config={})
    pairs = [dict(p, pair_id=f"{run.id}/{p['prompt_id']}/{i}") for i, p in enumerate(_pairs(4))]
    _write(run.path / "pairs.jsonl", pairs)
    run.finish("complete", pairs=len(pairs))
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "lifecycle", "review", "--annotator", "tty"], cwd=root,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""

    def wait_for(text: bytes, timeout=60):
        nonlocal seen
        end = time.time() + timeout
        while text not in seen and time.time() < end:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
        assert text in seen, seen[-500:]

    for key, n in ((b"a", 1), (b"t", 2), (b"q", 3)):
        wait_for(f"[{n}/4]".encode())
        os.write(master, key)
    wait_for(b"left for tty")
    assert proc.wait(timeout=30) == 0
    os.close(master)
    recs = read_judgments(root / "data/preferences/judgments.jsonl")
    assert [r["choice"] for r in recs] == [shown_first(pairs[0]["pair_id"], "tty"), "tie"]
    assert b"2 judged, 0 skipped, 2 left for tty" in seen
