"""Your preparation of each example before the prompt template is filled.

The tool calls `prepare` (configs/prompt.yaml `preprocess: {{cookiecutter.package}}.prompts:prepare`) for
every example it prompts with: the query, its shots, and the fine-tuning examples, so a tuned model
trains on exactly what it is later prompted with. The wording itself lives in configs/prompt.yaml;
see the result with `lifecycle prompt render --shots 2`.

Change `prepare` for project-specific cleaning (remove signatures, mask e-mail addresses, shorten
boilerplate). It takes one example (a dict of the data's fields) and returns the changed dict.
Remove the `preprocess:` line from configs/prompt.yaml to turn it off.
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"[ \t]+")


def prepare(example: dict) -> dict:
    """Trim each text field and collapse runs of spaces (line breaks are kept: dialogues use them)."""
    return {key: _SPACES.sub(" ", value).strip() if isinstance(value, str) else value
            for key, value in example.items()}
