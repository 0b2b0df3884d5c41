"""Predictions to score: a user's JSONL file or a run's predictions.jsonl, aligned with the eval set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.data import check_id, iter_json_objects, json_type
from lifecycle.errors import DataError, EvaluationError
from lifecycle.evaluation.evalset import EvalSet
from lifecycle.textio import MAX_PREDICTION_LINE_BYTES

PREDICTION_KEYS = ("prediction", "text", "output")


@dataclass
class Aligned:
    ids: list[str]
    predictions: list[str]
    references: list[list[str]]
    records: list[dict]  # the source records, eval-set order


def read_prediction_records(path: str | Path) -> list[dict]:
    """Objects with an `id` and a `prediction` (or `text`/`output`); file:line for any problem."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: predictions file not found")
    records = []
    seen: dict[str, int] = {}
    for lineno, obj in iter_json_objects(p, max_line=MAX_PREDICTION_LINE_BYTES, kind="predictions file"):
        if "id" not in obj:
            raise DataError(f"{p}:{lineno}: no 'id' field; each line needs the id of its eval example")
        key = next((k for k in PREDICTION_KEYS if k in obj), None)
        if key is None:
            raise DataError(f"{p}:{lineno}: no 'prediction' field; fields present: {', '.join(sorted(obj))}")
        if not isinstance(obj[key], str):
            raise DataError(f"{p}:{lineno}: {key}: must be text, got {json_type(obj[key])}")
        ex_id = check_id(obj["id"], p, lineno, "id")
        if ex_id in seen:
            raise DataError(f"{p}:{lineno}: duplicate id '{ex_id}' (first on line {seen[ex_id]})")
        seen[ex_id] = lineno
        records.append({**obj, "id": ex_id, "prediction": obj[key]})
    if not records:
        raise DataError(f"{p}: no predictions (the file is empty)")
    return records


def _ids_text(ids: list[str], shown: int = 5) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def align(records: list[dict], evalset: EvalSet, *, source: str) -> Aligned:
    """One prediction per eval example, in eval-set order; refuse missing or unknown ids."""
    by_id = {r["id"]: r for r in records}
    missing = [i for i in evalset.ids if i not in by_id]
    extra = [i for i in by_id if i not in evalset.references]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} eval example(s) have no prediction ({_ids_text(missing)})")
        if extra:
            parts.append(f"{len(extra)} prediction id(s) are not in the eval set ({_ids_text(extra)})")
        raise EvaluationError(
            f"{source}: {len(records)} predictions do not match the {len(evalset.ids)} examples of "
            f"{evalset.path}: " + "; ".join(parts),
            hint="predictions must have exactly the ids of the eval set (dataset.path / limit in configs/eval.yaml)")
    ordered = [by_id[i] for i in evalset.ids]
    return Aligned(evalset.ids, [r["prediction"] for r in ordered], [evalset.references[i] for i in evalset.ids],
                   ordered)
