"""Where the project template lives and what it declares (cookiecutter.json, prompts.yaml)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from lifecycle.errors import ScaffoldError

TEMPLATE_NAME = "project"


def templates_root() -> Path:
    """Installed from the wheel: lifecycle/templates (force-included). Editable: the repo's templates/."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / TEMPLATE_NAME / "cookiecutter.json").is_file():
            return candidate
    raise ScaffoldError(f"project template not found next to {package}",
                        hint="reinstall genai-lifecycle; the wheel ships lifecycle/templates/")


def template_dir(name: str = TEMPLATE_NAME) -> Path:
    return templates_root() / name


@lru_cache(maxsize=4)
def template_context(name: str = TEMPLATE_NAME) -> dict:
    """cookiecutter.json as a dict (answers' defaults plus the private `_` keys)."""
    return json.loads((template_dir(name) / "cookiecutter.json").read_text(encoding="utf-8"))


def context_of(folder: Path) -> dict:
    """cookiecutter.json of any template folder: the current one or a shipped older version
    (templates/history/<version>/, read by `lifecycle upgrade`)."""
    return json.loads((Path(folder) / "cookiecutter.json").read_text(encoding="utf-8"))


def template_version(name: str = TEMPLATE_NAME) -> str:
    return str(template_context(name)["_template_version"])


def questions(name: str = TEMPLATE_NAME) -> dict[str, dict]:
    """prompts.yaml: the wizard's questions, in order."""
    from lifecycle.config.yaml_io import load_yaml

    return load_yaml(template_dir(name) / "prompts.yaml").data
