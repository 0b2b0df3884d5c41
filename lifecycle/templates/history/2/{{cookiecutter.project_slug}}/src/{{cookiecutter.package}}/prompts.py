{%- set p = project(cookiecutter) -%}
"""Turn an example into the prompt text the model sees.

`lifecycle prompt render` / `eval run` build prompts from configs/prompt.yaml the same way: the
template's {field} placeholders are filled from the example. Change the wording in
configs/prompt.yaml; change *how* fields are prepared (cleaning, truncation) in `prepare` below.
"""

from __future__ import annotations

import string
from pathlib import Path


def load_prompt_config(path: str | Path = "configs/prompt.yaml") -> dict:
    import yaml  # PyYAML comes with lifecycle

    with Path(path).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def placeholders(template: str) -> list[str]:
    """Field names used by a template, e.g. ['dialogue']."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def prepare(example: dict) -> dict:
    """Clean fields before formatting. The place for project-specific preprocessing."""
    return {key: value.strip() if isinstance(value, str) else value for key, value in example.items()}


def format_prompt(example: dict, template: str, answer_prefix: str = "") -> str:
    """Fill the template from the example; a missing field is an error, not an empty string."""
    fields = prepare(example)
    missing = [name for name in placeholders(template) if name not in fields]
    if missing:
        raise KeyError(f"example {example.get('id', '?')} lacks field(s) {missing} used by the prompt template")
    return template.format_map(fields) + answer_prefix


def format_shot(example: dict, template: str, target_field: str = {{ p.spec.reference_field | json_line }},
                answer_prefix: str = "") -> str:
    """A solved example for few-shot prompts: the prompt followed by its reference answer."""
    return format_prompt(example, template, answer_prefix) + " " + example[target_field]
