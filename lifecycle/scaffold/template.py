"""Where the project template lives and what it declares (cookiecutter.json, prompts.yaml)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from lifecycle.errors import ScaffoldError

TEMPLATE_NAME = "project"


def templates_root() -> Path:
    """lifecycle/templates/, package data found through importlib.resources: the same folder from a
    checkout, an editable install or a wheel. cookiecutter renders from a real folder, so a package
    that is not on the file system (a zip) is refused with one line."""
    root = files("lifecycle") / "templates"
    if isinstance(root, Path) and (root / TEMPLATE_NAME / "cookiecutter.json").is_file():
        return root
    raise ScaffoldError(f"project template not found at {root}",
                        hint="reinstall genai-lifecycle from its wheel: it ships lifecycle/templates/")


def template_dir(name: str = TEMPLATE_NAME) -> Path:
    return templates_root() / name


@lru_cache(maxsize=4)
def template_context(name: str = TEMPLATE_NAME) -> dict:
    """cookiecutter.json as a dict (answers' defaults plus the private `_` keys)."""
    return json.loads((template_dir(name) / "cookiecutter.json").read_text(encoding="utf-8"))


def context_of(folder: Path) -> dict:
    """cookiecutter.json of any template folder: the current one or a shipped older version
    (lifecycle/templates/history/<version>/, read by `lifecycle upgrade`)."""
    return json.loads((Path(folder) / "cookiecutter.json").read_text(encoding="utf-8"))


def template_version(name: str = TEMPLATE_NAME) -> str:
    return str(template_context(name)["_template_version"])


def questions(name: str = TEMPLATE_NAME) -> dict[str, dict]:
    """prompts.yaml: the wizard's questions, in order."""
    from lifecycle.config.yaml_io import load_yaml

    return load_yaml(template_dir(name) / "prompts.yaml").data
