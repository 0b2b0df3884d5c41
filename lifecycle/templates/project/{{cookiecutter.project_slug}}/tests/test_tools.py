"""The generated arithmetic eval set (data/tools/arith.jsonl): `lifecycle tools eval` measures the
model's accuracy with and without the calculator on it. Every answer is the calculator's."""

import json
from pathlib import Path

from lifecycle.tools.calculator import evaluate, format_number

ROOT = Path(__file__).resolve().parents[1]


def test_arithmetic_answers_are_the_calculators():
    rows = [json.loads(line) for line in (ROOT / "data" / "tools" / "arith.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len({r["id"] for r in rows}) >= 20
    for row in rows:
        assert row["answer"] == format_number(evaluate(row["expression"]))
