"""Typed run records: run.yaml / metrics.json validate on read; a bad record is one line naming
the run and the field, and listings (and so checks and the board) skip it instead of crashing."""

from __future__ import annotations

import json

import pytest
import yaml

from lifecycle.errors import RunError
from lifecycle.runs.records import MetricsDoc, RunRecord
from lifecycle.runs.store import RunStore


def test_a_new_run_is_a_valid_record_and_its_end_is_recorded_once(tmp_path):
    store = RunStore(tmp_path)
    with store.new_run("eval", config={"a": 1}, model={"id": "m"}) as run:
        run.write_metrics({"n": 3, "metrics": {"rouge1": {"value": 0.5, "ci": [0.4, 0.6], "n": 3,
                                                          "higher_is_better": True, "aggregation": "mean"}}})
    record = store.get(run.id).record
    assert isinstance(record, RunRecord) and record.status == "complete" and record.owner.pid > 0
    assert MetricsDoc.model_validate(store.get(run.id).metrics()).metrics["rouge1"].ci == [0.4, 0.6]


@pytest.mark.parametrize("edit, field", [({"status": "done"}, "status"), ({"kind": "a b"}, "kind"),
                                         ({"created": None}, "created")])
def test_an_invalid_record_is_one_line_naming_the_run_and_listings_skip_it(tmp_path, edit, field):
    store = RunStore(tmp_path)
    good = store.create("eval", config={})
    good.finish("complete")
    bad = store.create("eval", config={})
    bad.finish("complete")
    meta = yaml.safe_load((bad.path / "run.yaml").read_text())
    (bad.path / "run.yaml").write_text(yaml.safe_dump({**meta, **edit}))
    with pytest.raises(RunError, match=rf"run {bad.id} .*invalid run record: {field}"):
        _ = store.get(bad.id).meta
    assert [r.id for r in store.list()] == [good.id]


def test_a_metrics_file_of_the_wrong_shape_is_named(tmp_path):
    run = RunStore(tmp_path).create("eval", config={})
    run.metrics_path.write_text(json.dumps({"metrics": {"rouge1": {"value": "high"}}}))
    with pytest.raises(RunError, match=r"invalid metrics file: metrics.rouge1.value"):
        run.metrics()


def test_old_run_folders_without_an_owner_still_load(tmp_path):
    run = RunStore(tmp_path).create("eval", config={})
    run.finish("complete")
    meta = yaml.safe_load((run.path / "run.yaml").read_text())
    meta.pop("owner")
    meta["status"] = "running"  # an old record's running run has no lock to tell: it stays running
    (run.path / "run.yaml").write_text(yaml.safe_dump(meta))
    again = RunStore(tmp_path).get(run.id)
    assert again.record.owner is None and again.status == "running"


def test_status_survives_a_broken_run_record(make_project, run_cli):
    root = make_project("summarization")
    bad = root / "runs" / "20260101T000000000000Z-eval-bad0000"
    bad.mkdir(parents=True)
    (bad / "run.yaml").write_bytes(b"id: x\nkind: eval\nstatus: [\n")
    res = run_cli("status", cwd=root)
    assert "Traceback" not in res.stderr and res.returncode in (0, 1), res.stderr


def test_status_names_the_run_whose_record_does_not_validate(make_project, run_cli):
    root = make_project("summarization")
    bad = root / "runs" / "20260101T000000000000Z-eval-bad0001"
    bad.mkdir(parents=True)
    (bad / "run.yaml").write_text("id: x\nkind: eval\nstatus: done\ncreated: now\n")
    res = run_cli("status", cwd=root)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "skipped: run 20260101T000000000000Z-eval-bad0001" in res.stderr and "status" in res.stderr
