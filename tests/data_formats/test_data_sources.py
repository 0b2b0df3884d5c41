"""One loader for every format `datasets` reads: JSONL (the streamed fast path), CSV/TSV, parquet,
JSON, save_to_disk folders, hf://datasets ids (offline: one line); field mapping from the config."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lifecycle.data import load_examples, resolve_source
from lifecycle.errors import DataError

ROWS = [{"id": "a", "dialogue": "#P1#: hi there", "summary": "P1 greets."},
        {"id": "b", "dialogue": "#P2#: bye now", "summary": "P2 leaves."},
        {"id": "c", "dialogue": "#P1#: ok", "summary": "P1 agrees."}]


@pytest.fixture
def sources(tmp_path):
    import datasets

    ds = datasets.Dataset.from_list(ROWS)
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    ds.to_parquet(str(tmp_path / "d.parquet"))
    ds.to_csv(str(tmp_path / "d.csv"), index=False)
    ds.to_json(str(tmp_path / "d.json"), lines=False)
    ds.save_to_disk(str(tmp_path / "disk"))
    datasets.DatasetDict({"train": ds, "validation": ds.select([0])}).save_to_disk(str(tmp_path / "dict"))
    return tmp_path


@pytest.mark.parametrize("name, fmt", [("d.jsonl", "jsonl"), ("d.parquet", "parquet"), ("d.csv", "csv"),
                                       ("d.json", "json"), ("disk", "save_to_disk folder")])
def test_every_format_loads_the_same_examples(sources, name, fmt):
    assert resolve_source(sources / name).format == fmt
    got = load_examples(sources / name, required=["dialogue", "summary"], text_fields=["dialogue"],
                        reference_fields=["summary"])
    assert got == ROWS


def test_splits_of_a_dataset_dict_folder(sources):
    assert [e["id"] for e in load_examples(f"{sources / 'dict'}:validation")] == ["a"]
    with pytest.raises(DataError) as err:
        load_examples(sources / "dict")
    assert "holds 2 splits (train, validation); name one" in err.value.message
    assert f"{sources / 'dict'}:train" in err.value.hint


def test_field_mapping_renames_columns_in_every_format(sources):
    import datasets

    renamed = [{"id": r["id"], "text": r["dialogue"], "highlights": r["summary"]} for r in ROWS]
    datasets.Dataset.from_list(renamed).to_parquet(str(sources / "cnn.parquet"))
    (sources / "cnn.jsonl").write_text("".join(json.dumps(r) + "\n" for r in renamed), encoding="utf-8")
    for name in ("cnn.parquet", "cnn.jsonl"):
        got = load_examples(sources / name, required=["dialogue", "summary"],
                            fields={"dialogue": "text", "summary": "highlights"})
        assert got == ROWS
    with pytest.raises(DataError) as err:
        load_examples(sources / "cnn.parquet", fields={"dialogue": "body"})
    assert err.value.message.startswith(f"{sources / 'cnn.parquet'}: row 1: column 'body' (read as 'dialogue'")


def test_csv_columns_are_text_and_errors_name_the_row(sources):
    (sources / "labels.csv").write_text("id,text,label\n1,good day,5\n2,bad day,1\n", encoding="utf-8")
    got = load_examples(sources / "labels.csv", text_fields=["text", "label"])
    assert [(e["id"], e["label"]) for e in got] == [("1", "5"), ("2", "1")]  # digits stay text
    (sources / "dup.csv").write_text("id,text\n1,a\n1,b\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_examples(sources / "dup.csv")
    assert err.value.message == f"{sources / 'dup.csv'}: row 2: duplicate id '1' (first on row 1)"


def test_parquet_types_are_checked_like_jsonl(sources):
    import datasets

    datasets.Dataset.from_list([{"id": 1, "dialogue": 7, "summary": "x"}]).to_parquet(str(sources / "t.parquet"))
    with pytest.raises(DataError) as err:
        load_examples(sources / "t.parquet", text_fields=["dialogue"])
    assert err.value.message == f"{sources / 't.parquet'}: row 1: dialogue: must be text, got a number"


def test_corrupt_parquet_is_one_line(sources):
    (sources / "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError) as err:
        load_examples(sources / "bad.parquet")
    msg = err.value.message
    assert msg.startswith(f"{sources / 'bad.parquet'}: cannot read it as parquet (ArrowInvalid:") and "\n" not in msg


def test_hub_id_offline_is_one_line_and_fast(monkeypatch):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    with pytest.raises(DataError) as err:
        load_examples("hf://datasets/knkarthick/dialogsum:validation")
    assert time.monotonic() - start < 30
    assert err.value.message == ("hf://datasets/knkarthick/dialogsum:validation: not in the local datasets cache, "
                                 "and HF_HUB_OFFLINE is set (offline)")
    # an id written without the prefix is a missing path, with the way to say it is a hub id
    with pytest.raises(DataError) as err:
        load_examples("knkarthick/dialogsum")
    assert "hf://datasets/knkarthick/dialogsum" in err.value.hint


def test_hub_unreachable_is_one_line(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused at once
    with pytest.raises(DataError) as err:
        load_examples("hf://datasets/knkarthick/dialogsum")
    assert err.value.message == ("hf://datasets/knkarthick/dialogsum: the dataset hub (127.0.0.1) is not "
                                 "reachable from here")
    assert "save_to_disk" in err.value.hint


def test_jsonl_path_does_not_import_datasets(sources):
    code = ("import sys; from lifecycle.data import load_examples; load_examples(sys.argv[1]); "
            "print('datasets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(sources / "d.jsonl")], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
