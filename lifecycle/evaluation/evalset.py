"""The eval set of configs/eval.yaml: examples, references by id, and the key that says whether
two runs were scored on the same thing (same data file, same prompt wording, same references)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import DataError
from lifecycle.runs.store import file_sha256, stable_hash


def as_references(value) -> list[str]:
    """A reference field holds one text or a list of texts (types are checked when the file is
    read, by lifecycle.data.check_references)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


@dataclass
class EvalSet:
    path: Path
    sha256: str
    id_field: str
    reference_field: str
    limit: int | None
    examples: list[dict]
    references: dict[str, list[str]]  # id -> references, in file order

    @property
    def ids(self) -> list[str]:
        return list(self.references)

    def describe(self) -> dict:
        """What run.yaml records under `dataset`."""
        return {"path": str(self.path), "sha256": self.sha256, "n": len(self.examples), "limit": self.limit,
                "id_field": self.id_field, "reference_field": self.reference_field,
                "references_hash": self.references_hash}

    @property
    def references_hash(self) -> str:
        return stable_hash(self.references)

    def eval_key(self, prompt: dict | None) -> str:
        """Same key <=> same examples, references and prompt wording. The number of shots is left
        out on purpose: the ladder compares 0/1/3 shots on one eval set."""
        wording = {k: v for k, v in (prompt or {}).items() if k not in ("shots", "budget")}
        return stable_hash({"dataset_sha256": self.sha256, "limit": self.limit,
                            "references": self.references_hash, "prompt": wording}, 16)


def load_eval_set(path: str | Path, *, id_field: str, reference_field: str, limit: int | None = None,
                  input_fields: list[str] | None = None) -> EvalSet:
    from lifecycle.data import load_jsonl

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: eval set not found", hint="check dataset.path in configs/eval.yaml")
    # Streamed and typed by load_jsonl: inputs must be text, references a text or a non-empty list
    # of texts (a `true` or an object is a located error, never stringified and scored).
    examples = load_jsonl(p, required=[reference_field, *(input_fields or [])], id_field=id_field, limit=limit,
                          text_fields=input_fields or [], reference_fields=[reference_field], allow_empty=True)
    if not examples:
        raise DataError(f"{p}: the eval set is empty", hint="add examples (one JSON object per line)")
    refs: dict[str, list[str]] = {}
    for ex in examples:
        refs[str(ex[id_field])] = as_references(ex[reference_field])
    return EvalSet(p, file_sha256(p), id_field, reference_field, limit, examples, refs)


def project_eval_set(project, cfg) -> EvalSet:
    d = cfg.dataset
    return load_eval_set(project.path(d.path), id_field=d.id_field, reference_field=d.reference_field,
                         limit=d.limit, input_fields=d.input_fields)
