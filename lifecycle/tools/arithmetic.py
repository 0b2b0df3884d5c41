"""The generated arithmetic eval set: word problems with their expression and exact answer.

Light on purpose (no numpy): `lifecycle new` renders it into the project's data/tools/arith.jsonl."""

from __future__ import annotations

import json
import random
from pathlib import Path

from lifecycle.tools.calculator import evaluate, format_number

_OPS = [("+", "plus"), ("-", "minus"), ("*", "times")]
LOW, HIGH = 12, 999  # operands: two or three digits, so a direct answer needs real multi-digit arithmetic


def arithmetic_set(n: int = 50, *, seed: int = 0, terms: int = 2) -> list[dict]:
    """`n` word problems ("What is 412 times 37?"; with terms=3 "What is 412 minus 37 times 5?") with
    their expression ("412 * 37") and exact answer (computed by the calculator; usual precedence),
    deterministic for a seed. Operands in [12, 999]; answers are never negative (a draw that would be
    is drawn again), so a sign can never be lost by answer normalisation. Ids: arith-000, arith-001, ..."""
    if n < 1 or terms not in (2, 3):
        raise ValueError("n must be at least 1 and terms 2 or 3")
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        nums = [rng.randint(LOW, HIGH) for _ in range(terms)]
        ops = [rng.choice(_OPS) for _ in range(terms - 1)]
        expr, words = str(nums[0]), str(nums[0])
        for (sym, word), x in zip(ops, nums[1:]):
            expr += f" {sym} {x}"
            words += f" {word} {x}"
        value = evaluate(expr)
        if value < 0:
            continue
        out.append({"id": f"arith-{len(out):03d}", "question": f"What is {words}?", "expression": expr,
                    "answer": format_number(value)})
    return out


def write_arithmetic_set(path: str | Path, n: int = 50, *, seed: int = 0, terms: int = 2) -> Path:
    """The generated set as JSONL (what the scaffold writes to data/tools/arith.jsonl)."""
    from lifecycle.config.yaml_io import atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, arithmetic_jsonl(n, seed=seed, terms=terms))
    return path


def arithmetic_jsonl(n: int = 50, *, seed: int = 0, terms: int = 2) -> str:
    """The set as JSONL text, one problem per line."""
    return "".join(json.dumps(r) + "\n" for r in arithmetic_set(n, seed=seed, terms=terms))
