"""Render the project template into a staging folder beside the target, check the result, then
move it into place. Nothing is left behind on any failure or Ctrl-C: the staging folder is removed
in a `finally`, and the target is touched only after the staging copy is complete and valid.

Only cookiecutter's `generate_files` is used (not `cookiecutter.main.cookiecutter`): its prompt step
renders answer values as Jinja (`{{ 7*7 }}` -> 49) and it writes a replay file into the user's home.
Here the context is built from already-validated answers and passed as data.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from lifecycle.errors import ScaffoldError
from lifecycle.outputs import new_staging
from lifecycle.scaffold.answers import Answers
from lifecycle.scaffold.template import TEMPLATE_NAME, context_of, template_context, template_dir, template_version


@dataclass
class NewProject:
    """What to create: validated answers and where."""

    answers: Answers
    target: Path
    model_chosen: bool = False
    force: bool = False
    template: Optional[Path] = None  # a template folder (an older shipped version, for upgrades); None: current


@dataclass
class Rendered:
    target: Path
    files: list[str] = field(default_factory=list)        # relative paths written
    kept: list[str] = field(default_factory=list)  # existing files left as they were (--force)


def cookiecutter_context(answers: Answers, *, model_chosen: bool, template: Optional[Path] = None) -> dict:
    """cookiecutter.json's private keys plus the answers, as plain data (never rendered as Jinja)."""
    declared = context_of(template) if template is not None else template_context()
    ctx = {k: v for k, v in declared.items() if k.startswith("_")}
    ctx.update({k: v for k, v in answers.model_dump(mode="json").items()})
    ctx.update(project_slug=answers.name, package=answers.package, model_chosen=model_chosen)
    return ctx


JINJA_DELIMITERS = ("{{", "{%", "{#")


def _check_target(target: Path, force: bool) -> None:
    # cookiecutter renders the absolute output path of every sub-folder as a template: a parent
    # folder named `{{ 7*7 }}` would be evaluated and files written to `49/`. Refuse such paths.
    for shown in {os.path.abspath(target), str(target.resolve())}:
        if any(d in shown for d in JINJA_DELIMITERS):
            raise ScaffoldError(f"{shown}: a path containing '{{{{', '{{%' or '{{#' cannot be used: the template "
                                "engine would evaluate it; nothing was written",
                                hint="create the project in a folder whose path has no such characters")
    if not target.parent.is_dir():
        raise ScaffoldError(f"{target.parent}: folder does not exist", hint="create it first, or pick another --output-dir")
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target}: exists and is not a folder")
    if target.is_dir() and ((target / "lifecycle.yaml").exists() or (target / ".lifecycle").exists()):
        # --force once re-rendered over a project, resetting its decisions, configs and data at once.
        raise ScaffoldError(f"{target}: already a lifecycle project; `new` never rewrites one, nothing was written",
                            hint="take template changes with `lifecycle upgrade` (it keeps your edits), "
                                 "or pick a new folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ScaffoldError(f"{target}: folder exists and is not empty; nothing was written",
                            hint="pick a new name, or add --force to add the template's files and keep every file there")


def tree_hashes(tree: dict[str, bytes]) -> dict[str, str]:
    """{relative path: sha256} of a rendered tree, as .lifecycle/template.yaml records it (upgrades
    tell "the user never changed this file" from it)."""
    import hashlib

    return {rel: hashlib.sha256(data).hexdigest() for rel, data in sorted(tree.items())}


def _relative_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def _write_tool_files(project: Path, request: NewProject) -> None:
    """.lifecycle/template.yaml (for upgrades) and the JSON Schemas the YAML headers point at."""
    from lifecycle import __version__
    from lifecycle.config.schema_export import MODELS, SCHEMA_DIR, render_schema, schema_file_name
    from lifecycle.config.yaml_io import dump_yaml

    record = {
        "template": TEMPLATE_NAME,
        "template_version": (str(context_of(request.template)["_template_version"]) if request.template
                             else template_version()),
        "lifecycle_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "model_chosen": request.model_chosen,
        "answers": request.answers.model_dump(mode="json"),
    }

    # sha256 of each file as rendered: `lifecycle upgrade` tells "you never changed it" from this,
    # not only from re-rendering the old version (which today's code might render differently).
    record["files"] = tree_hashes({p.relative_to(project).as_posix(): p.read_bytes()
                                   for p in sorted(project.rglob("*")) if p.is_file()})
    meta = project / ".lifecycle"
    (meta / "template.yaml").write_text(
        "# Written by `lifecycle new`: the template and answers this project came from. Tool-owned.\n"
        + dump_yaml(record), encoding="utf-8")
    schemas = meta / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        exported = SCHEMA_DIR / schema_file_name(name)
        text = exported.read_text(encoding="utf-8") if exported.is_file() else render_schema(name)
        (schemas / schema_file_name(name)).write_text(text, encoding="utf-8")


def check_rendered(project: Path) -> None:
    """Every YAML the template produced must validate against its model: a template bug is caught
    here, in staging, instead of in the user's first command. The files are ours, so the fast C
    loader is enough; the careful loader runs only to locate a problem."""
    import yaml
    from pydantic import ValidationError

    from lifecycle.config.schema_export import model_class
    from lifecycle.config.yaml_io import load_config
    from lifecycle.errors import ConfigError

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    files = {"lifecycle": project / "lifecycle.yaml"}
    files.update({name: project / "configs" / f"{name}.yaml"
                  for name in ("model", "prompt", "generation", "eval", "finetune")})
    for name, path in files.items():
        try:
            model_class(name).model_validate(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
        except (ValidationError, yaml.YAMLError):
            try:
                load_config(path, model_class(name))
                problem = "does not validate"
            except ConfigError as err:
                problem = str(err)
            raise ScaffoldError(f"the project template produced an invalid {path.relative_to(project)}: {problem}",
                                hint="this is a bug in genai-lifecycle's template; please report it") from None


def _generate(staging: Path, request: NewProject) -> Path:
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_files
    from jinja2 import TemplateError

    context = {"cookiecutter": cookiecutter_context(request.answers, model_chosen=request.model_chosen,
                                                    template=request.template)}
    cwd = os.getcwd()  # generate_files chdirs into the template while rendering
    try:
        out = generate_files(repo_dir=str(request.template or template_dir()), context=context, output_dir=str(staging),
                             accept_hooks=False)
    except (CookiecutterException, TemplateError) as err:
        raise ScaffoldError(f"rendering the project template failed: {err}",
                            hint="this is a bug in genai-lifecycle's template; please report it") from err
    finally:
        os.chdir(cwd)
    return Path(out)


def _move_into_place(staged: Path, target: Path, announce: Callable[[list[str]], None]) -> list[str]:
    """New target: one rename. Existing (empty, or --force): file by file, adding only the template
    files that are not there; every existing file (or link) is kept as it is. Returns the kept ones."""
    if not target.exists():
        os.rename(staged, target)
        return []
    files = _relative_files(staged)
    conflicts = []
    for rel in files:
        dest = target / rel
        if dest.is_dir() and not dest.is_symlink():
            conflicts.append(f"{rel} (a folder in the target)")
        for parent in list(Path(rel).parents)[:-1]:
            if (target / parent).is_symlink():  # writing through it could land outside the target
                conflicts.append(f"{parent} (a symlink in the target, the template needs a real folder)")
            elif (target / parent).exists() and not (target / parent).is_dir():
                conflicts.append(f"{parent} (a file in the target, the template needs a folder)")
    if conflicts:
        raise ScaffoldError(f"{target}: cannot overwrite {', '.join(sorted(set(conflicts)))}; nothing was written")
    kept = [rel for rel in files if (target / rel).exists() or (target / rel).is_symlink()]
    announce(kept)
    for rel in files:
        if rel in kept:
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        _add_file(staged / rel, dest)
    return kept


def _add_file(src: Path, dest: Path) -> None:
    """Put `src` at `dest` only if nothing is there: a hard link is atomic and fails on an existing
    name; where links are not supported, an exclusive create does the same."""
    try:
        os.link(src, dest)
    except FileExistsError:
        raise
    except OSError:
        with src.open("rb") as fin, dest.open("xb") as fout:
            shutil.copyfileobj(fin, fout)


def render_project(request: NewProject, announce: Optional[Callable[[list[str]], None]] = None) -> Rendered:
    """Create the project. `announce(paths)` is called with the existing files --force keeps,
    before anything is written."""
    target = request.target
    _check_target(target, request.force)
    done = None
    try:
        # a staging folder that a killed `new` left beside the target is removed here (its lock is free)
        staging, done = new_staging(target.parent, f".{target.name}.lifecycle-new-")
        staged = _generate(staging, request)
        _write_tool_files(staged, request)
        check_rendered(staged)
        files = _relative_files(staged)
        kept = _move_into_place(staged, target, announce or (lambda paths: None))
        return Rendered(target=target, files=files, kept=kept)
    except OSError as err:  # permissions, disk full: one line, not a traceback
        raise ScaffoldError(f"{target}: could not write the project ({err.strerror or err})",
                            hint="check the folder's permissions and free space") from err
    finally:
        if done is not None:
            done()
