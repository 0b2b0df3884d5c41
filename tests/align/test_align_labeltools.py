"""Label Studio and Argilla pairwise round trip: the pairs go out blind in the tool's import form,
the tool's export (built here exactly as each documents it) comes back as judgments naming the
pair's own a/b side, and bad exports are one located line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from lifecycle.align.judgments import read_judgments
from lifecycle.align.labeltools import export_pairs, import_tool_export
from lifecycle.errors import DataError


def _pairs(n=8):
    return [{"pair_id": f"R/p{i}/0-1", "prompt_id": f"p{i}", "prompt": f"prompt {i}", "a": f"good answer {i}",
             "b": f"bad answer {i}"} for i in range(n)]


def _truth(i):  # the reviewer prefers a (the "good" answer) except every fourth pair, a tie
    return "tie" if i % 4 == 3 else "a"


def test_label_studio_round_trip(tmp_path):
    pairs = _pairs()
    tasks_file, config = export_pairs(pairs, "label-studio", tmp_path / "ls" / "tasks.json")
    root = ET.fromstring(config.read_text())
    assert root.find("Pairwise").attrib == {"name": "pw", "toName": "text1,text2"}
    tasks = json.loads(tasks_file.read_text())
    assert {t["data"]["shown_first"] for t in tasks} == {"a", "b"}  # blind: both orders occur
    for t, p in zip(tasks, pairs):  # the left text is the side recorded as shown first
        assert t["data"]["text1"] == p[t["data"]["shown_first"]]
    # Label Studio's JSON export: the task with its annotations (guide/task_format)
    exported = []
    for i, t in enumerate(tasks):
        results = []
        for user in (7, {"email": "bob@example.com"}):
            if _truth(i) == "tie":
                res = {"from_name": "tie", "to_name": "text1", "type": "choices", "value": {"choices": ["tie"]}}
            else:
                left_is_good = t["data"]["text1"].startswith("good")
                res = {"from_name": "pw", "to_name": "text1,text2", "type": "pairwise",
                       "value": {"selected": "left" if left_is_good else "right"}}
            results.append({"id": 100 + i, "result": [res], "was_cancelled": False, "completed_by": user})
        results.append({"id": 999, "result": [], "was_cancelled": True, "completed_by": 8})  # skipped in the tool
        exported.append({"id": i + 1, "data": t["data"], "annotations": results})
    src = tmp_path / "export.json"
    src.write_text(json.dumps(exported))
    judgments = tmp_path / "judgments.jsonl"
    assert import_tool_export(pairs, src, "label-studio", judgments) == {"added": 16, "already": 0}
    got = read_judgments(judgments)
    assert {j["annotator"] for j in got} == {"label-studio:7", "bob@example.com"}
    for j in got:
        i = int(j["pair_id"].split("/")[1][1:])
        assert j["choice"] == _truth(i) and j["shown_first"] == tasks[i]["data"]["shown_first"]
    assert import_tool_export(pairs, src, "label-studio", judgments) == {"added": 0, "already": 16}


def test_argilla_round_trip(tmp_path):
    """Argilla 2.x shapes: settings as rg.Settings.serialize() writes them, records as Record.to_dict();
    both export forms are read back: to_json/to_list (nested, no per-response status) and
    to_list(flatten=True)/to_datasets/to_hub (`preference.responses[.users|.status]` columns)."""
    pairs = _pairs()
    records_file, settings = export_pairs(pairs, "argilla", tmp_path / "records.json")
    cfg = json.loads(settings.read_text())
    assert [f["name"] for f in cfg["fields"]] == ["prompt", "response1", "response2"]
    assert all(f["settings"]["type"] == "text" for f in cfg["fields"])
    question = cfg["questions"][0]
    assert question["name"] == "preference" and question["settings"]["type"] == "label_selection"
    assert [o["value"] for o in question["settings"]["options"]] == ["response1", "response2", "tie"]
    assert [m["settings"]["type"] for m in cfg["metadata"]] == ["terms", "terms"]
    assert cfg["distribution"] == {"strategy": "overlap", "min_submitted": 1}
    records = json.loads(records_file.read_text())
    assert set(records[0]) == {"id", "fields", "metadata", "suggestions", "responses", "vectors"}
    nested, flat = [], []
    for i, r in enumerate(records):
        good = "response1" if r["fields"]["response1"].startswith("good") else "response2"
        value = "tie" if _truth(i) == "tie" else good
        nested.append({**r, "status": "completed", "_server_id": f"srv-{i}",
                       "responses": {"preference": [{"value": value, "user_id": "u-1"}]}})
        flat.append({"id": r["id"], "status": "completed", "_server_id": f"srv-{i}", **r["fields"], **r["metadata"],
                     "preference.responses": [value, "response1"], "preference.responses.users": ["u-2", "u-3"],
                     "preference.responses.status": ["submitted", "draft"]})  # drafts are not judgments
    for name, rows, who in (("nested", nested, "argilla:u-1"), ("flat", flat, "argilla:u-2")):
        src = tmp_path / f"argilla_{name}.json"
        src.write_text(json.dumps(rows))
        judgments = tmp_path / f"judgments_{name}.jsonl"
        assert import_tool_export(pairs, src, "argilla", judgments)["added"] == 8
        for j in read_judgments(judgments):
            assert j["annotator"] == who and j["choice"] == _truth(int(j["pair_id"].split("/")[1][1:]))


def test_bad_exports_are_located(tmp_path):
    pairs = _pairs(2)
    tasks_file, _ = export_pairs(pairs, "label-studio", tmp_path / "tasks.json")
    with pytest.raises(DataError, match="already exists"):
        export_pairs(pairs, "label-studio", tasks_file)
    with pytest.raises(DataError, match="did you mean|label-studio"):
        export_pairs(pairs, "labelstudio", tmp_path / "x.json")
    tasks = json.loads(tasks_file.read_text())
    cases = {
        "unknown pair": [{"data": {**tasks[0]["data"], "pair_id": "R/zz/0-1"}, "annotations": []}],
        "no choice": [{"data": tasks[0]["data"], "annotations": [{"result": [], "completed_by": 1}]}],
        "not a list": {"tasks": []},
    }
    for name, body in cases.items():
        src = tmp_path / f"{name.replace(' ', '_')}.json"
        src.write_text(json.dumps(body))
        with pytest.raises(DataError) as err:
            import_tool_export(pairs, src, "label-studio", tmp_path / "j.jsonl")
        assert str(src) in str(err.value), name
    records_file, _ = export_pairs(pairs, "argilla", tmp_path / "records.json")
    record = json.loads(records_file.read_text())[0]
    src = tmp_path / "ragged.json"
    src.write_text(json.dumps([{"id": record["id"], **record["metadata"], "preference.responses": ["response1"],
                                "preference.responses.users": [], "preference.responses.status": ["submitted"]}]))
    with pytest.raises(DataError, match=r"item 0: preference.responses, .users and .status must be lists of one"):
        import_tool_export(pairs, src, "argilla", tmp_path / "j.jsonl")
    src = tmp_path / "torn.json"
    src.write_text('[{"data": ')
    with pytest.raises(DataError, match="not valid JSON"):
        import_tool_export(pairs, src, "label-studio", tmp_path / "j.jsonl")
    assert not (tmp_path / "j.jsonl").exists()  # nothing recorded from a bad export


def test_review_export_import_cli(align_project, align_t5, cli):
    from lifecycle.align.pairs import PairsRequest, read_pairs, sample_pairs
    from lifecycle.project import Project

    root = align_project(align_t5, n_prompts=6)
    pairs = read_pairs(sample_pairs(Project(root), PairsRequest(candidates=4), echo=lambda _: None))
    code, out, err = cli("review", "export", "--format", "label-studio", "--out", "review/tasks.json", "--project", root)
    assert code == 0, err
    tasks = json.loads((root / "review" / "tasks.json").read_text())
    assert len(tasks) == len(pairs) and (root / "review" / "tasks.label_config.xml").is_file()
    exported = [{"id": i, "data": t["data"], "annotations": [{"completed_by": 3, "result": [
        {"type": "pairwise", "from_name": "pw", "to_name": "text1,text2", "value": {"selected": "left"}}]}]}
        for i, t in enumerate(tasks)]
    (root / "ls_export.json").write_text(json.dumps(exported))
    code, out, err = cli("review", "import", "ls_export.json", "--format", "label-studio", "--project", root)
    assert code == 0 and f"recorded {len(pairs)} judgments" in out, err
    got = read_judgments(root / "data" / "preferences" / "judgments.jsonl")
    assert [j["choice"] for j in got] == [t["data"]["shown_first"] for t in tasks]  # left = the side shown first
    code, _, err = cli("review", "import", "ls_export.json", "--project", root)
    assert code != 0 and "--format" in err
