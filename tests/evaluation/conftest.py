"""Real text for metric tests: DialogSum dev when it is present, the project's fixtures otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DIALOGSUM = REPO.parent / "shared" / "data" / "dialogsum" / "dev.jsonl"
FIXTURES = REPO / "tests" / "fixtures"


def _rows() -> tuple[list[str], list[str], list[str]]:
    """(summaries, dialogues, short labels) from real data."""
    if DIALOGSUM.is_file():
        rows = [json.loads(x) for x in DIALOGSUM.read_text(encoding="utf-8").splitlines()[:300]]
        return [r["summary"] for r in rows], [r["dialogue"] for r in rows], [r["topic"] for r in rows]
    summ = [json.loads(x) for x in (FIXTURES / "summarization.jsonl").read_text().splitlines()]
    chat = [json.loads(x) for x in (FIXTURES / "chat.jsonl").read_text().splitlines()]
    qa = [json.loads(x) for x in (FIXTURES / "question_answering.jsonl").read_text().splitlines()]
    cls = [json.loads(x) for x in (FIXTURES / "classification.jsonl").read_text().splitlines()]
    summaries = [r["summary"] for r in summ] + [r["response"] for r in chat] + [r["context"] for r in qa]
    dialogues = [r["dialogue"] for r in summ] * 2
    labels = [r["label"] for r in cls] + [r["answer"] for r in qa]
    return summaries, dialogues, labels


@pytest.fixture(scope="session")
def summary_pairs() -> tuple[list[str], list[list[str]]]:
    """Predictions and multi-references exercising every ROUGE path: other summaries, multi-line
    dialogue excerpts (summary-level LCS), exact copies, empty and punctuation-only texts."""
    summaries, dialogues, _ = _rows()
    n = len(summaries)
    preds, refs = [], []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            pred = summaries[(i + 1) % n]
        elif kind == 1:
            pred = "\n".join(dialogues[i % len(dialogues)].split("\n")[:3])
        elif kind == 2:
            pred = summaries[i]
        elif kind == 3:
            pred = summaries[i].replace(". ", ".\n")
        else:
            pred = summaries[(i + 3) % n].upper()
        ref = [summaries[i]] if i % 3 else [summaries[i], summaries[(i + 7) % n].replace(". ", ".\n")]
        preds.append(pred)
        refs.append(ref)
    preds[:3] = ["", "!!! ...", "\n\n"]
    return preds, refs


@pytest.fixture(scope="session")
def label_pairs() -> tuple[list[str], list[list[str]]]:
    """Short answers/labels: predictions shifted against references so that some match."""
    _, _, labels = _rows()
    n = len(labels)
    preds = [labels[(i + (i % 3 == 0)) % n] for i in range(n)]
    preds = [p.upper() if i % 4 == 0 else p for i, p in enumerate(preds)]
    refs = [[labels[i]] if i % 2 else [labels[i], labels[(i + 5) % n]] for i in range(n)]
    return preds, refs
