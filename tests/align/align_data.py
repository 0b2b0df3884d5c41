"""Prompts for the alignment tests: many short dialogues written for them (no dataset text)."""

from __future__ import annotations

import json
import random
from pathlib import Path

NAMES = ["Anna", "Ben", "Carla", "Dev", "Ema", "Finn", "Gia", "Hugo", "Ines", "Jon"]
ITEMS = ["lamp", "chair", "kettle", "phone", "desk", "bike", "radio", "watch"]
ISSUES = ["arrived broken", "is late", "was the wrong colour", "stopped working", "is missing a part"]


def dialogues(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        who, item, issue = rng.choice(NAMES), rng.choice(ITEMS), rng.choice(ISSUES)
        rows.append({"id": f"d{i}", "dialogue": f"#Person1#: Hi, I am {who}. My {item} {issue}.\n"
                     f"#Person2#: Sorry, {who}. I will send a new {item} today.",
                     "summary": f"{who}'s {item} {issue}; a new one is sent."})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
