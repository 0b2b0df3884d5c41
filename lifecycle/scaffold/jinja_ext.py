"""Jinja extension named in templates/project/cookiecutter.json (`_extensions`).

`| yaml` writes any value as one YAML flow scalar, so free text (a use case holding `{{ 7*7 }}`,
quotes, colons, '#') lands in the file literally and can never change the YAML's structure.
`project(cookiecutter)` gives the template the validated answers and derived values (view.py).
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import yaml
from jinja2.ext import Extension


def yaml_scalar(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    style = '"' if isinstance(value, str) and not value.isprintable() else None
    text = yaml.safe_dump(value, default_flow_style=True, default_style=style, allow_unicode=True,
                          width=1_000_000, sort_keys=False)
    text = text.rstrip("\n")
    if text.endswith("\n..."):  # safe_dump marks the end of a bare scalar document
        text = text[: -len("\n...")]
    if "\n" in text:
        raise ValueError(f"value does not fit on one YAML line: {value!r}")
    return text


def json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def project(cookiecutter: dict[str, Any]):
    from lifecycle.scaffold.view import view_from_context

    return view_from_context(dict(cookiecutter))


class LifecycleExtension(Extension):
    def __init__(self, environment) -> None:
        super().__init__(environment)
        environment.filters["yaml"] = yaml_scalar
        environment.filters["json_line"] = json_line
        environment.globals["project"] = project
