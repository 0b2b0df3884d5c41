"""The run store: folders, streamed predictions, torn last lines, lookup by prefix."""

from __future__ import annotations

import pytest
import yaml

from lifecycle.errors import DataError, RunError
from lifecycle.hashing import file_sha256, stable_hash
from lifecycle.runs.store import RunStore
def test_create_writes_resolved_run_yaml(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "1"}\n', encoding="utf-8")
    store = RunStore(tmp_path / "runs")
    run = store.create("eval", config={"b": 1, "a": 2}, model={"id": "m"},
                       dataset={"path": str(data), "sha256": file_sha256(data)}, seed=7, argv=["lifecycle", "x"])
    assert run.path.parent == tmp_path / "runs" and "-eval-" in run.id
    meta = yaml.safe_load((run.path / "run.yaml").read_text(encoding="utf-8"))
    assert meta["status"] == "running" and meta["kind"] == "eval" and meta["seed"] == 7
    assert meta["command"] == ["lifecycle", "x"]
    assert meta["config_hash"] == stable_hash({"a": 2, "b": 1})
    assert meta["dataset"]["sha256"] == file_sha256(data)
    assert "python" in meta["versions"]
    run.finish(eval_key="k")
    again = store.get(run.id)
    assert again.status == "complete" and again.meta["eval_key"] == "k"
    assert again.meta["wall_time_s"] >= 0


def test_bad_kind_is_refused(tmp_path):
    with pytest.raises(RunError, match="identifier"):
        RunStore(tmp_path).create("../x", config={})


def test_predictions_stream_and_survive_a_torn_last_line(tmp_path):
    run = RunStore(tmp_path).create("generate", config={})
    with run.prediction_writer() as w:
        w.write({"id": "a", "prediction": "x"})
        w.write_many([{"id": "b", "prediction": "y"}])
    with run.predictions_path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "c", "predic')  # the process died mid-write
    assert [r["id"] for r in run.read_predictions()] == ["a", "b"]
    assert run.done_ids() == {"a", "b"}
    run.repair_predictions()
    assert run.predictions_path.read_text(encoding="utf-8").endswith('"y"}\n')
    with run.prediction_writer() as w:
        w.write({"id": "c", "prediction": "z"})
    assert [r["id"] for r in run.read_predictions()] == ["a", "b", "c"]


def test_malformed_middle_line_is_a_located_error(tmp_path):
    run = RunStore(tmp_path).create("generate", config={})
    run.predictions_path.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"predictions.jsonl:2: not valid JSON"):
        run.read_predictions()


def test_metrics_round_trip_and_unreadable(tmp_path):
    run = RunStore(tmp_path).create("eval", config={})
    assert run.metrics() is None
    m = {"n": 3, "metrics": {"rougeL": {"value": 0.5, "ci": [0.4, 0.6], "n": 3, "higher_is_better": True,
                                        "aggregation": "mean"}}}
    run.write_metrics(m)
    assert run.metrics() == m
    run.metrics_path.write_text("{", encoding="utf-8")
    with pytest.raises(RunError, match="unreadable metrics file: .*metrics.json: not valid JSON"):
        run.metrics()


def test_list_latest_and_get_by_prefix(tmp_path):
    store = RunStore(tmp_path / "runs")
    assert store.list() == [] and store.latest() is None
    with pytest.raises(RunError, match="no runs yet"):
        store.get("x")
    a = store.create("eval", config={"i": 1})
    b = store.create("finetune", config={"i": 2})
    a.finish()
    (tmp_path / "runs" / "not-a-run").mkdir()
    assert [r.id for r in store.list()] == [a.id, b.id]
    assert [r.id for r in store.list(kind="finetune")] == [b.id]
    assert store.latest().id == a.id  # b is still running
    assert store.latest(status=None).id == b.id
    assert store.get(b.id[-7:]).id == b.id          # short hash suffix
    assert store.get(str(a.path)).id == a.id        # folder path
    assert store.get(a.id[:-2]).id == a.id          # unique prefix
    with pytest.raises(RunError, match="ambiguous"):
        store.get(a.id[:8])
    with pytest.raises(RunError) as exc:
        store.get(a.id[:-1] + "Z")
    assert "did you mean" in str(exc.value) and a.id in str(exc.value)


def test_unreadable_run_yaml_is_a_run_error(tmp_path):
    run = RunStore(tmp_path).create("eval", config={})
    (run.path / "run.yaml").write_text("a: [\n", encoding="utf-8")
    run._meta = None
    with pytest.raises(RunError, match="unreadable run file"):
        run.meta


def test_stable_hash_ignores_key_order_only():
    assert stable_hash({"a": 1, "b": [1, 2]}) == stable_hash({"b": [1, 2], "a": 1})
    assert stable_hash({"a": 1, "b": [1, 2]}) != stable_hash({"a": 1, "b": [2, 1]})
    assert len(stable_hash({}, 7)) == 7
