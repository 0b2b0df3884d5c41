"""Shot selection: first / random (seeded per example) / fixed ids; the query is never its own shot."""

from __future__ import annotations

import pytest

from lifecycle.config.prompt import PromptConfig, ShotsConfig
from lifecycle.errors import PromptError
from lifecycle.prompting import build_prompts
from lifecycle.prompting.shots import ShotPool


def pool(n: int) -> list[dict]:
    return [{"id": f"p{i}", "text": f"text {i}", "label": f"label {i}"} for i in range(n)]


def ids(shots: list[dict]) -> list[str]:
    return [s["id"] for s in shots]


def test_first_takes_the_pools_head_and_skips_the_query():
    p = ShotPool(pool(5), "id", ShotsConfig(selection="first"))
    assert ids(p.select("p4", 2)) == ["p0", "p1"]
    assert ids(p.select("p0", 2)) == ["p1", "p2"]
    assert ids(p.select("p1", 3)) == ["p0", "p2", "p3"]
    assert p.select("p1", 0) == []


def test_random_is_seeded_per_example_and_never_the_query():
    cfg = ShotsConfig(selection="random", seed=7)
    a = ShotPool(pool(20), "id", cfg)
    draws = {ex_id: ids(a.select(ex_id, 4)) for ex_id in (f"p{i}" for i in range(20))}
    for ex_id, chosen in draws.items():
        assert ex_id not in chosen and len(set(chosen)) == 4
        assert ids(a.select(ex_id, 4)) == chosen            # same seed, same draw
    assert len({tuple(c) for c in draws.values()}) > 1      # examples get different shots
    other = ShotPool(pool(20), "id", ShotsConfig(selection="random", seed=8))
    assert any(ids(other.select(i, 4)) != c for i, c in draws.items())


def test_random_draw_does_not_depend_on_which_examples_are_asked(t5_tok):
    data = pool(12)
    cfg = PromptConfig(template="{text}", target_field="label", shots={"k": 3, "selection": "random", "seed": 1})
    full = {p.id: p.shot_ids for p in build_prompts(data, cfg, t5_tok, context_window=512)}
    part = build_prompts(data[5:8], cfg, t5_tok, context_window=512, pool=data)
    assert {p.id: p.shot_ids for p in part} == {k: full[k] for k in ("p5", "p6", "p7")}


def test_fixed_ids_in_order_and_replaced_when_asked_about():
    p = ShotPool(pool(6), "id", ShotsConfig(selection="fixed", ids=["p4", "p2", "p5"]))
    assert ids(p.select("p0", 2)) == ["p4", "p2"]
    assert ids(p.select("p4", 2)) == ["p2", "p5"]


def test_fixed_unknown_id_suggests():
    with pytest.raises(PromptError, match="unknown shot id 'p77'"):
        ShotPool(pool(3), "id", ShotsConfig(selection="fixed", ids=["p77"]))


def test_k_larger_than_the_pool(t5_tok):
    data = pool(3)
    cfg = PromptConfig(template="{text}", target_field="label")
    with pytest.raises(PromptError, match="example 'p0' is one of the 3 examples in the shot pool"):
        build_prompts(data, cfg, t5_tok, k=3, context_window=512)
    with pytest.raises(PromptError, match="4 shots asked for but there are only 3 examples in the shot pool"):
        build_prompts(data, cfg, t5_tok, k=4, context_window=512)
    # A separate pool without the query: all 3 can be used.
    query = [{"id": "q", "text": "new", "label": "x"}]
    assert build_prompts(query, cfg, t5_tok, k=3, context_window=512, pool=data)[0].shot_ids == ["p0", "p1", "p2"]
    fixed = cfg.model_copy(update={"shots": ShotsConfig(selection="fixed", ids=["p1", "p2"])})
    with pytest.raises(PromptError, match="only 2 fixed shot ids"):
        build_prompts(data, fixed, t5_tok, k=3, context_window=512)


def test_shot_pool_needs_the_target(t5_tok):
    data = pool(3)
    data[1].pop("label")
    cfg = PromptConfig(template="{text}", target_field="label")
    with pytest.raises(PromptError, match="target_field 'label' is not in shot 'p1'"):
        build_prompts(data, cfg, t5_tok, k=1, context_window=512)



def test_only_examples_that_can_be_shots_need_a_target(t5_tok):
    data = pool(5)
    data[4].pop("label")  # unlabeled, but never a shot with first/fixed and K=2
    for shots in ({"selection": "first"}, {"selection": "fixed", "ids": ["p1", "p2", "p3"]}):
        cfg = PromptConfig(template="{text}", target_field="label", shots=shots)
        prompts = build_prompts(data, cfg, t5_tok, k=2, context_window=512)
        assert prompts[4].reference is None and "p4" not in sum((p.shot_ids for p in prompts), [])
    with pytest.raises(PromptError, match="target_field 'label' is not in shot 'p4'"):
        build_prompts(data, PromptConfig(template="{text}", target_field="label", shots={"selection": "random"}),
                      t5_tok, k=2, context_window=512)


def test_fixed_ids_set_k_unless_k_is_given(t5_tok):
    data = pool(6)
    cfg = PromptConfig(template="{text}", target_field="label", shots={"selection": "fixed", "ids": ["p3", "p5"]})
    assert cfg.shots.k == 2
    assert build_prompts(data[:3], cfg, t5_tok, context_window=512, pool=data)[0].shot_ids == ["p3", "p5"]
    with pytest.raises(PromptError, match="example 'p3' is one of the 2 fixed shot ids"):
        build_prompts(data, cfg, t5_tok, context_window=512)  # p3 is asked about too: only 1 shot left for it
    one = PromptConfig(template="{text}", target_field="label", shots={"selection": "fixed", "ids": ["p3", "p5"], "k": 1})
    assert build_prompts(data, one, t5_tok, context_window=512)[0].shot_ids == ["p3"]
