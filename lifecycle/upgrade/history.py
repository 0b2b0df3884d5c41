"""Every released version of the project template the package ships.

The current template is lifecycle/templates/project/; each earlier release is frozen, byte for
byte, in lifecycle/templates/history/<version>/ (same layout: cookiecutter.json, prompts.yaml,
_includes/, the project folder). Both are package data of the wheel (pyproject.toml).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import LifecycleError, did_you_mean


class UpgradeError(LifecycleError):
    """The project cannot be upgraded as asked (unknown version, dirty tree, ...)."""


def version_key(version: str) -> tuple:
    """'2' < '10'; dotted versions compare part by part; anything else sorts after, as text."""
    try:
        return (0, tuple(int(p) for p in str(version).split(".")))
    except ValueError:
        return (1, (str(version),))


@dataclass(frozen=True)
class TemplateSet:
    """version -> template folder. Tests build their own; `shipped()` is what the package has."""

    versions: dict[str, Path]

    @property
    def latest(self) -> str:
        return max(self.versions, key=version_key)

    def ordered(self) -> list[str]:
        return sorted(self.versions, key=version_key)

    def folder(self, version: str) -> Path:
        version = str(version)
        if version not in self.versions:
            raise UpgradeError(did_you_mean(version, self.ordered(), kind="template version"),
                               hint=f"shipped versions: {', '.join(self.ordered())}")
        return self.versions[version]


def shipped() -> TemplateSet:
    from lifecycle.scaffold.template import context_of, template_dir, templates_root

    versions: dict[str, Path] = {}
    history = templates_root() / "history"
    if history.is_dir():
        for folder in sorted(history.iterdir()):
            if (folder / "cookiecutter.json").is_file():
                versions[str(context_of(folder)["_template_version"])] = folder
    current = template_dir()
    versions[str(context_of(current)["_template_version"])] = current
    return TemplateSet(versions)


def render_tree(folder: Path, answers, *, model_chosen: bool) -> dict[str, bytes]:
    """The files a template folder produces for these answers, as {relative path: bytes}.
    Rendered in a private temporary folder that is always removed."""
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_files
    from jinja2 import TemplateError

    from lifecycle.scaffold.render import cookiecutter_context

    context = {"cookiecutter": cookiecutter_context(answers, model_chosen=model_chosen, template=folder)}
    staging = Path(tempfile.mkdtemp(prefix="lifecycle-upgrade-"))
    cwd = os.getcwd()  # generate_files chdirs into the template
    try:
        out = Path(generate_files(repo_dir=str(folder), context=context, output_dir=str(staging),
                                  accept_hooks=False))
        return {p.relative_to(out).as_posix(): p.read_bytes()
                for p in sorted(out.rglob("*")) if p.is_file()}
    except (CookiecutterException, TemplateError) as err:
        raise UpgradeError(f"rendering template {folder.name} failed: {err}",
                           hint="this is a bug in genai-lifecycle's shipped template history; please report it") from err
    finally:
        os.chdir(cwd)
        shutil.rmtree(staging, ignore_errors=True)
