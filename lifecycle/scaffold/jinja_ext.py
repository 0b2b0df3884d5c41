"""Jinja extension named in lifecycle/templates/project/cookiecutter.json (`_extensions`).

`| yaml` writes any value as one YAML flow scalar, so free text (a use case holding `{{ 7*7 }}`,
quotes, colons, '#') lands in the file literally and can never change the YAML's structure.
`project(cookiecutter)` gives the template the validated answers and derived values (view.py).
`{% include "samples/..." %}` finds the template's `_includes/` folder (see INCLUDES).
"""

from __future__ import annotations

import json
import os
from enum import Enum
from typing import Any

import yaml
from jinja2 import FileSystemLoader, TemplateNotFound
from jinja2.ext import Extension

# The files a template includes (the data samples) live in `_includes/` beside its cookiecutter.json,
# not in cookiecutter's default `templates/` (inside lifecycle/templates/ that name would mean two
# things). cookiecutter points Jinja at `templates/` only (FileSystemLoader(['.', '../templates']),
# relative to the project folder it renders from), so an include it cannot find is looked up in
# `../_includes` the same way: plain `cookiecutter`, `lifecycle new` and upgrades render alike.
INCLUDES = "_includes"


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


def _include_from_includes(environment) -> None:
    includes = FileSystemLoader(os.path.join(os.pardir, INCLUDES))
    find = environment.get_template  # what `{% include %}` calls; cookiecutter sets the loader later

    def get_template(name, parent=None, globals=None):
        try:
            return find(name, parent, globals)
        except TemplateNotFound:
            if not isinstance(name, str):
                raise
            if parent is not None:
                name = environment.join_path(name, parent)
            return includes.load(environment, name, environment.make_globals(globals))

    environment.get_template = get_template


class LifecycleExtension(Extension):
    def __init__(self, environment) -> None:
        super().__init__(environment)
        _include_from_includes(environment)
        environment.filters["yaml"] = yaml_scalar
        environment.filters["json_line"] = json_line
        environment.globals["project"] = project
