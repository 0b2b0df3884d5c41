"""Hostile YAML (configs, lifecycle.yaml, answers, run.yaml): one located line, never a traceback."""

from __future__ import annotations

import json

import pytest

from hostile_helpers import one_error

NEST = "[" * 500 + "]" * 500  # ~1 KB; PyYAML's composer would recurse 500 levels


@pytest.mark.parametrize("name", ["lifecycle.yaml", "configs/model.yaml", "configs/generation.yaml"])
def test_deep_nesting_is_refused_by_every_command(cli, project, name):
    f = project / name
    f.write_text(f.read_text() + f"extra: {NEST}\n")
    line_no = f.read_text().count("\n")
    where = f"{name}:{line_no}: nested deeper than 32 levels"
    # `check` with only generation.yaml broken runs every other (slow) check: validate covers it
    commands = [["validate"], ["status"], ["generate", "--no-progress"]] + (
        [["check"]] if name != "configs/generation.yaml" else [])
    for args in commands:
        code, out, err = cli(*args, "--project", project)
        assert "Traceback" not in out + err and "RecursionError" not in out + err, (args, err)
        if args == ["status"]:  # the board: the failing check in its table, exit 0
            continue
        if code == 0:  # check reports a broken config as a failing check, with the located line
            assert where in out, (args, out)
            continue
        assert where in one_error(err), (args, err)


def test_answers_file_nesting_and_bytes(cli, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"name: demo\ntask: summarization\nuse_case: {NEST}\n")
    code, _out, err = cli("new", "p1", "--output-dir", tmp_path, "--answers", answers)
    assert code != 0 and f"{answers}:3: nested deeper than 32 levels" in one_error(err)
    answers.write_bytes(b"name: demo\ntask: summ\xe9rization\n")
    code, _out, err = cli("new", "p2", "--output-dir", tmp_path, "--answers", answers)
    assert code != 0 and f"{answers}:2: not UTF-8 (byte 0xe9 at column 11)" in one_error(err)
    assert not (tmp_path / "p1").exists() and not (tmp_path / "p2").exists()


def test_config_bad_byte_control_char_and_bom(cli, project):
    model = project / "configs" / "model.yaml"
    original = model.read_bytes()
    model.write_bytes(original.replace(b"architecture: auto", b"architecture: au\x92to"))
    code, _out, err = cli("validate", "--project", project)
    assert code != 0 and "model.yaml:" in one_error(err) and "not UTF-8 (byte 0x92 at column 17)" in err
    model.write_bytes(original.replace(b"architecture: auto", b"architecture: au\x1b[2Jto"))
    code, _out, err = cli("validate", "--project", project)
    assert code != 0 and "character #x001b at column 17 is not allowed" in one_error(err)
    assert "\x1b" not in err
    model.write_bytes(b"\xef\xbb\xbf" + original)
    code, _out, err = cli("validate", "--project", project)
    assert code == 0, err


def _run_dir(project, name="20260101T000000000000Z-eval-abcdef0"):
    d = project / "runs" / name
    d.mkdir(parents=True)
    return d


@pytest.mark.parametrize("content", [b"id: x\nkind: eval\nstatus: compl\xffete\n",
                                     ("id: x\nkind: eval\nstatus: complete\nx: " + NEST + "\n").encode()])
def test_a_hostile_run_yaml_never_breaks_status_or_check(cli, project, content):
    run = _run_dir(project)
    (run / "run.yaml").write_bytes(content)
    for args in (["status"], ["check", "adapt"]):  # adapt: the stage whose checks read eval runs
        code, out, err = cli(*args, "--project", project)
        assert "Traceback" not in out + err and "RecursionError" not in err, (args, err)
    from lifecycle.errors import RunError
    from lifecycle.runs.store import Run

    with pytest.raises(RunError, match=r"run.yaml:(3|4): (not UTF-8 \(byte 0xff at column 14\)|nested deeper)"):
        Run(run).meta


def test_run_predictions_bad_bytes_duplicates_and_torn_tail(project):
    from lifecycle.errors import DataError
    from lifecycle.runs.store import Run

    run = _run_dir(project)
    (run / "run.yaml").write_text("id: x\nkind: generate\nstatus: interrupted\n")
    preds = run / "predictions.jsonl"
    good = b"".join(json.dumps({"id": f"s{i}", "prediction": "p"}).encode() + b"\n" for i in range(3))
    preds.write_bytes(good + b'{"id": "s3", "prediction": "caf\xc3')  # the writer died mid-character
    assert [r["id"] for r in Run(run).iter_predictions()] == ["s0", "s1", "s2"]
    preds.write_bytes(good.replace(b'"p"}', b'"\xc3"}', 1) + b"\n")
    with pytest.raises(DataError, match=r"predictions.jsonl:1: not UTF-8 \(byte 0xc3 at column"):
        Run(run).read_predictions()
    preds.write_bytes(good + json.dumps({"id": "s1", "prediction": "again"}).encode() + b"\n")
    with pytest.raises(DataError, match=r"predictions.jsonl:4: duplicate id 's1' \(first on line 2\)"):
        Run(run).done_ids()
