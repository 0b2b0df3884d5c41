"""Paths inside a project stay inside it: a symlink under the project (in data/, runs/, configs/)
that resolves outside is refused, for reading and for writing, so a planted link cannot make the
tool read a file it was not pointed at, or write through to one.

A path the user names explicitly outside the project (`dataset.path: /mnt/corpus/train.jsonl`) is
their choice and is used as given; only a path that *looks* inside the project and is not is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from lifecycle.errors import LifecycleError

MANIFEST = "lifecycle.yaml"


class UnsafePathError(LifecycleError):
    """A path inside the project leads outside it (a symlink), or would be written through a link."""


def _lexical(path: str | Path) -> Path:
    return Path(os.path.normpath(os.path.abspath(os.path.expanduser(str(path)))))


def enclosing_project(path: str | Path) -> Path | None:
    """The nearest folder holding lifecycle.yaml that contains `path` as written (links not followed)."""
    here = _lexical(path)
    for folder in (here.parent, *here.parent.parents):
        if (folder / MANIFEST).is_file():
            return folder
    return None


def _first_link(root: Path, path: Path) -> Path | None:
    """The first component of `path` below `root` that is a symlink."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def safe_path(path: str | Path, project_root: str | Path | None = None, *, what: str = "file",
              for_write: bool = False) -> Path:
    """`path` unchanged when it is safe; UnsafePathError when it lies (as written) inside
    `project_root` (default: the project that contains it) but resolves outside that project.
    With `for_write`, the last component must not be a symlink at all: writes never go through a
    link, even one that stays inside the project (it could point at another run's files)."""
    p = Path(path)
    lexical = _lexical(p)
    root = _lexical(project_root) if project_root is not None else enclosing_project(lexical)
    if for_write and lexical.is_symlink():
        raise UnsafePathError(f"{p}: is a symlink (to {os.readlink(lexical)}); refusing to write through it",
                              hint="remove the link; the tool writes only real files it created")
    if root is None or not lexical.is_relative_to(root):
        return p
    real_root = root.resolve()
    real = lexical.resolve()
    if real.is_relative_to(real_root):
        return p
    link = _first_link(root, lexical) or lexical
    raise UnsafePathError(
        f"{p}: {what} inside the project is a symlink that leads outside it ({link} -> {real}); refusing to "
        f"{'write' if for_write else 'read'} through it",
        hint="copy the file into the project, or name its real path in the config")
