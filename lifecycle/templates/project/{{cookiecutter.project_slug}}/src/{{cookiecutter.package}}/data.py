{%- set p = project(cookiecutter) -%}
"""Load the project's examples (JSONL, one object per line) and check they have the task's fields.

Change FIELDS if your data has other columns, and configs/prompt.yaml / configs/eval.yaml with it.
"""

from __future__ import annotations

import json
from pathlib import Path

TASK = {{ p.task | json_line }}
FIELDS = {{ p.spec.fields | list | json_line }}
INPUT_FIELDS = {{ p.spec.input_fields | list | json_line }}
REFERENCE_FIELD = {{ p.spec.reference_field | json_line }}


class DataError(ValueError):
    """A data file problem, located as `file:line: what`."""


def load_examples(path: str | Path, fields: list[str] = FIELDS) -> list[dict]:
    """Read a JSONL file; every line must be an object with non-empty string `fields` and a unique id."""
    path = Path(path)
    examples, seen = [], {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                example = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{lineno}: not valid JSON ({err.msg})") from err
            if not isinstance(example, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object")
            for field in fields:
                value = example.get(field)
                if not isinstance(value, str) or not value.strip():
                    raise DataError(f"{path}:{lineno}: field '{field}' is missing or empty")
            if example["id"] in seen:
                raise DataError(f"{path}:{lineno}: duplicate id '{example['id']}' (first on line {seen[example['id']]})")
            seen[example["id"]] = lineno
            examples.append(example)
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples
