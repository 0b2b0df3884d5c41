"""Hostile bytes in a dataset: every command that reads it says file:line: what, in one line.

Each case writes real bytes into data/sample.jsonl (line 3) and runs the real CLI. The data is read
before any model is loaded, so the project's hub id is never touched."""

from __future__ import annotations

import json

import pytest

from hostile_helpers import edit_line, one_error, set_line

BIG = 5 * 1024 * 1024  # over the 4 MiB line cap for data

CASES = {
    "bad_byte": (lambda l: l.replace(b"Person1", b"Pers\xffon1", 1), "not UTF-8 (byte 0xff at column"),
    "torn_char": (lambda l: l[:-3] + "é".encode()[:1] + b'"}', "a multi-byte character is cut off"),
    "lone_surrogate": (lambda l: l.replace(b'"summary": "', b'"summary": "\\ud800', 1), "without its pair"),
    "nan": (lambda l: l.replace(b'"summary": "', b'"n": NaN, "summary": "', 1), "NaN is not valid JSON"),
    "duplicate_key": (lambda l: l.replace(b'"summary": "', b'"id": "s9", "summary": "', 1), "duplicate key 'id'"),
    "deep_json": (lambda l: l.replace(b'"summary": "', b'"x": ' + b"[" * 5000 + b"]" * 5000 + b', "summary": "', 1),
                  "nested deeper than"),
    "summary_true": (lambda l: l.replace(b'"summary": "', b'"summary": true, "was": "', 1),
                     "summary: must be text or a list of texts, got true"),
    "dialogue_object": (lambda l: l.replace(b'"dialogue": "', b'"dialogue": {"k": "v"}, "was": "', 1),
                        "dialogue: must be text, got an object"),
    "id_null": (lambda l: l.replace(b'"id": "s3"', b'"id": null', 1), "id: must be text or an integer, got null"),
    "id_float": (lambda l: l.replace(b'"id": "s3"', b'"id": 1.5', 1), "id: must be text or an integer, got a number"),
    "duplicate_id": (lambda l: l.replace(b'"id": "s3"', b'"id": "s1"', 1), "duplicate id 's1' (first on line 1)"),
    "huge_line": (lambda l: l.replace(b'"summary": "', b'"summary": "' + b"x" * BIG, 1), "longer than 4 MiB"),
    "not_object": (lambda l: b'["a", "list"]', "expected a JSON object, got a list"),
}
COMMANDS = {
    "render": ["prompt", "render"],
    "generate": ["generate", "--no-progress"],
    "eval": ["eval", "run"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_line_is_one_located_error_everywhere(cli, project, case):
    mutate, expected = CASES[case]
    sample = project / "data" / "sample.jsonl"
    edit_line(sample, 2, mutate)
    for name, args in COMMANDS.items():
        code, _out, err = cli(*args, "--project", project)
        line = one_error(err)
        assert code != 0, (name, err)
        assert f"{sample}:3: " in line and expected in line, (name, line)
        assert len(line) < 400, line  # the huge line is never echoed back


def test_finetune_reads_the_same_way(cli, tmp_path, tiny_t5):
    from lifecycle.testing.project import write_project

    from hostile_helpers import FIXTURES

    project = write_project(tmp_path / "ft", "summarization", str(tiny_t5), FIXTURES / "summarization.jsonl")
    sample = project / "data" / "sample.jsonl"
    edit_line(sample, 2, CASES["dialogue_object"][0])
    code, _out, err = cli("finetune", "--max-steps", "1", "--no-eval", "--project", project)
    line = one_error(err)
    assert code != 0 and f"{sample}:3: dialogue: must be text" in line, err


def test_a_bom_is_accepted(cli, project):
    sample = project / "data" / "sample.jsonl"
    sample.write_bytes(b"\xef\xbb\xbf" + sample.read_bytes())
    from lifecycle.data import load_jsonl

    examples = load_jsonl(sample, text_fields=["dialogue"], reference_fields=["summary"])
    assert examples[0]["id"] == "s1" and len(examples) == 8
    code, _out, err = cli("validate", "--project", project)
    assert code == 0, err


def test_integer_ids_and_reference_lists_are_fine(tmp_path):
    from lifecycle.data import load_jsonl

    f = tmp_path / "d.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in [
        {"id": 7, "dialogue": "a", "summary": ["x", "y"]}, {"id": "8", "dialogue": "b", "summary": "z"}]) + "\n")
    rows = load_jsonl(f, text_fields=["dialogue"], reference_fields=["summary"])
    assert [r["id"] for r in rows] == ["7", "8"]


def test_huge_line_is_refused_without_reading_it_all(tmp_path):
    """Bounded memory: a 64 MiB line is refused after reading the cap, not decoded or parsed."""
    import tracemalloc

    from lifecycle.data import load_jsonl
    from lifecycle.errors import DataError

    f = tmp_path / "big.jsonl"
    with f.open("wb") as fh:
        fh.write(b'{"id": "a", "text": "')
        chunk = b"x" * (1 << 20)
        for _ in range(64):
            fh.write(chunk)
        fh.write(b'"}\n')
    tracemalloc.start()
    with pytest.raises(DataError, match=r"big.jsonl:1: the line is longer than 4 MiB"):
        load_jsonl(f)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak


def test_predictions_file_types_and_duplicates(cli, project, tmp_path):
    preds = tmp_path / "preds.jsonl"
    rows = [{"id": f"s{i}", "prediction": "x"} for i in range(1, 9)]
    rows[4] = {"id": "s2", "prediction": "x"}
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _out, err = cli("eval", "run", "--predictions", preds, "--project", project)
    assert code != 0 and f"{preds}:5: duplicate id 's2' (first on line 2)" in one_error(err)
    rows[4] = {"id": None, "prediction": "x"}
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _out, err = cli("eval", "run", "--predictions", preds, "--project", project)
    assert code != 0 and f"{preds}:5: id: must be text or an integer, got null" in one_error(err)
    set_line(preds, 4, b'{"id": "s5", "prediction": "caf\xc3"}')
    code, _out, err = cli("eval", "run", "--predictions", preds, "--project", project)
    assert code != 0 and f"{preds}:5: not UTF-8 (byte 0xc3 at column" in one_error(err)
