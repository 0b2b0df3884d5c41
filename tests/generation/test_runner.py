"""Streaming predictions into a run folder and resuming an interrupted run without recomputing."""

from __future__ import annotations

import json

import pytest

from lifecycle.config.generation import GenerationSettings
from lifecycle.generation.engine import Engine
from lifecycle.generation.runner import generate_to_run
from lifecycle.prompting import RenderedPrompt
from lifecycle.runs.store import RunStore


def _rendered(prompts):
    return [RenderedPrompt(id=f"ex{i}", text=t, n_tokens=0, shots_used=i % 2, shot_ids=[f"s{i}"] * (i % 2),
                           truncated=False, truncated_tokens=0, reference=f"ref {i}") for i, t in enumerate(prompts)]


def test_predictions_stream_with_every_field(loaded_t5, prompts, tmp_path):
    run = RunStore(tmp_path / "runs").create("generate", config={"k": 1})
    rendered = _rendered(prompts)
    progress = generate_to_run(Engine(loaded_t5, GenerationSettings(max_new_tokens=5)), rendered, run)
    assert (progress.total, progress.skipped, progress.generated) == (7, 0, 7)
    lines = run.predictions_path.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(r["id"] for r in records) == sorted(p.id for p in rendered)
    by_id = {r["id"]: r for r in records}
    for p in rendered:
        r = by_id[p.id]
        assert set(r) >= {"id", "prompt", "prediction", "references", "tokens_in", "tokens_out", "shots_used",
                          "shot_ids", "truncated", "stopped_by"}
        assert (r["prompt"], r["references"], r["shots_used"], r["shot_ids"]) == (p.text, [p.reference], p.shots_used,
                                                                                    p.shot_ids)
        assert 1 <= r["tokens_out"] <= 5


@pytest.mark.parametrize("preset", ["greedy", "sampling"])
def test_interrupted_run_resumes_without_recomputing(preset, loaded_t5, prompts, tmp_path):
    settings = GenerationSettings(preset=preset, max_new_tokens=5, max_batch_size=2)  # 7 prompts -> 4 batches
    rendered = _rendered(prompts)
    full = {r.id: g.text for r, g in zip(rendered, Engine(loaded_t5, settings).generate(rendered))}
    run = RunStore(tmp_path / "runs").create("generate", config={})

    batches = []

    def ctrl_c_after_two_batches(size, tokens):
        if len(batches) == 2:
            raise KeyboardInterrupt
        batches.append(size)

    with pytest.raises(KeyboardInterrupt):
        generate_to_run(Engine(loaded_t5, settings, batch_guard=ctrl_c_after_two_batches), rendered, run)
    written = run.done_ids()
    assert len(written) == sum(batches) == 4
    with run.predictions_path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "ex6", "predic')  # the process died mid-line

    seen = []
    engine = Engine(loaded_t5, settings, batch_guard=lambda size, tokens: seen.append(size))
    progress = generate_to_run(engine, rendered, run)
    assert (progress.skipped, progress.generated) == (4, 3)
    assert sum(seen) == 3 == engine.stats.examples  # only the missing examples were generated
    records = run.read_predictions()
    assert len(records) == 7 and len({r["id"] for r in records}) == 7
    assert {r["id"]: r["prediction"] for r in records} == full  # same as an uninterrupted run (sampling too)

    again = generate_to_run(Engine(loaded_t5, settings), rendered, run)
    assert (again.skipped, again.generated) == (7, 0)
