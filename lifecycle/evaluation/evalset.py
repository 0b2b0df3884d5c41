"""The eval set of configs/eval.yaml: examples, references by id, and the key that says whether
two runs were scored on the same thing (same data file, same prompt wording, same references)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.data import DataNotFound, load_examples, resolve_source, source_sha256
from lifecycle.errors import DataError
from lifecycle.hashing import stable_hash
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
        wording = {k: v for k, v in (prompt or {}).items() if k not in ("shots", "budget")
                   and not (k in ("fields", "preprocess") and v is None)}  # keys of runs recorded before `fields` existed
        return stable_hash({"dataset_sha256": self.sha256, "limit": self.limit,
                            "references": self.references_hash, "prompt": wording}, 16)


def load_eval_set(path: str | Path, *, id_field: str, reference_field: str, limit: int | None = None,
                  input_fields: list[str] | None = None, fields: dict[str, str] | None = None) -> EvalSet:
    """The eval set from any source lifecycle.data reads (JSONL, CSV, parquet, JSON, arrow, a
    save_to_disk folder, hf://datasets/OWNER/NAME), with `fields` mapping columns to the names the
    configs use. `path` stays as given (prompts are built from the same source)."""
    p = Path(path)
    try:
        source = resolve_source(p)
    except DataNotFound:
        raise DataError(f"{p}: eval set not found", hint="check dataset.path in configs/eval.yaml") from None
    # Typed by the loader: inputs must be text, references a text or a non-empty list of texts
    # (a `true` or an object is a located error, never stringified and scored).
    examples = load_examples(p, required=[reference_field, *(input_fields or [])], id_field=id_field, limit=limit,
                             text_fields=input_fields or [], reference_fields=[reference_field], allow_empty=True,
                             fields=fields)
    if not examples:
        raise DataError(f"{p}: the eval set is empty", hint="add examples (one JSON object per line)")
    refs: dict[str, list[str]] = {}
    for ex in examples:
        refs[str(ex[id_field])] = as_references(ex[reference_field])
    rows = examples if source.kind == "hub" else None
    return EvalSet(p, source_sha256(source, rows), id_field, reference_field, limit, examples, refs)


def _prompt_fields(project) -> dict[str, str] | None:
    """configs/prompt.yaml `fields` (the project's one column mapping), when that file exists."""
    if not project.path(project.manifest.adaptation.prompt).is_file():
        return None
    return dict(project.prompt_config().fields or {}) or None


def project_eval_set(project, cfg) -> EvalSet:
    d = cfg.dataset
    return load_eval_set(project.path(d.path), id_field=d.id_field, reference_field=d.reference_field,
                         limit=d.limit, input_fields=d.input_fields, fields=_prompt_fields(project))
