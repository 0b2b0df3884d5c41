"""Instruction templates: `{field}` placeholders filled with an example's values, as data.

The template is parsed once with `string.Formatter.parse`, and values are concatenated as plain
strings: no `str.format` call, so `{x.__class__}`-style attribute access can never run."""

from __future__ import annotations

import string
from functools import lru_cache
from typing import Any

from lifecycle.errors import PromptError

_FORMATTER = string.Formatter()


@lru_cache(maxsize=64)
def parse_template(template: str) -> tuple[tuple[str, str | None], ...]:
    """(literal text, field name or None) pairs; PromptError for anything but plain `{name}`."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as err:
        raise PromptError(f"prompt template: {err}",
                          hint="write literal braces as {{ and }}; placeholders look like {dialogue}") from err
    out: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in parts:
        if name is not None:
            if not name or not name.replace("_", "a").replace("-", "a").isalnum():
                raise PromptError(f"prompt template: placeholder {{{name}}} is not a field name",
                                  hint="use {field} with a field of the data; write literal braces as {{ and }}")
            if spec or conversion:
                raise PromptError(f"prompt template: placeholder {{{name}...}} has a format spec or conversion",
                                  hint=f"write just {{{name}}}")
        out.append((literal, name))
    return tuple(out)


def template_fields(template: str) -> list[str]:
    """Field names the template reads, in order of first use."""
    seen: dict[str, None] = {}
    for _, name in parse_template(template):
        if name is not None:
            seen.setdefault(name)
    return list(seen)


def value_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def render_template(template: str, values: dict) -> str:
    """The template with each `{field}` replaced by `values[field]` (fields are checked beforehand)."""
    return "".join(literal + (value_text(values[name]) if name is not None else "")
                   for literal, name in parse_template(template))


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
