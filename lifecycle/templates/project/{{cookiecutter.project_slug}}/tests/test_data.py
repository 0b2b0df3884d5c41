{%- set p = project(cookiecutter) -%}
"""The data sample parses and every example has the task's fields."""

import json
from pathlib import Path

import pytest

from {{ p.manifest.project.package }}.data import FIELDS, DataError, load_examples

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample.jsonl"


def test_sample_has_at_least_20_examples_with_the_task_fields():
    examples = load_examples(SAMPLE)
    assert len(examples) >= 20
    for example in examples:
        assert set(example) == set(FIELDS), example["id"]


def test_ids_are_unique():
    ids = [e["id"] for e in load_examples(SAMPLE)]
    assert len(ids) == len(set(ids))


def test_a_missing_field_is_reported_with_file_and_line(tmp_path):
    good = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    bad = {k: v for k, v in good.items() if k != FIELDS[-1]}
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: field '" + FIELDS[-1] + "'"):
        load_examples(path)
