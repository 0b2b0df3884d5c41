"""The QA set of `lifecycle rag eval`: one JSON object a line with
id, question, answer (text or list; empty when unanswerable), gold (passage/document ids), answerable."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.data import iter_json_objects
from lifecycle.errors import DataError, located


@dataclass
class Question:
    id: str
    question: str
    answers: list[str]
    gold: list[str] = field(default_factory=list)
    answerable: bool = True


def load_qa(path: Path, limit: int | None = None) -> list[Question]:
    if not path.is_file():
        raise DataError(f"{path}: QA file not found",
                        hint="write one (id, question, answer, gold, answerable per line) or `lifecycle rag samples`")
    out: list[Question] = []
    seen: dict[str, int] = {}
    # Streamed a bounded line at a time: bad UTF-8, bad JSON or a non-object is one file:line error,
    # and --limit stops reading early.
    for i, obj in iter_json_objects(path, kind="QA file"):
        qid = obj.get("id")
        if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
            raise DataError(located(path, i, "id", "missing, or not text/integer"))
        qid = str(qid)
        if qid in seen:
            raise DataError(located(path, i, "id", f"duplicate id '{qid}' (first on line {seen[qid]})"))
        seen[qid] = i
        q = obj.get("question")
        if not isinstance(q, str) or not q.strip():
            raise DataError(located(path, i, "question", "missing or empty"))
        answerable = obj.get("answerable", True)
        if not isinstance(answerable, bool):
            raise DataError(located(path, i, "answerable", "must be true or false"))
        ans = obj.get("answer", "")
        answers = [ans] if isinstance(ans, str) else ans
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise DataError(located(path, i, "answer", "must be text or a list of texts"))
        answers = [a for a in answers if a.strip()]
        if answerable and not answers:
            raise DataError(located(path, i, "answer", "an answerable question needs an answer"))
        gold = obj.get("gold", [])
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            raise DataError(located(path, i, "gold", "must be a list of passage/document ids"))
        out.append(Question(qid, q, answers, gold, answerable))
        if limit and len(out) >= limit:
            break
    if not out:
        raise DataError(located(path, None, None, "no questions"))
    return out
