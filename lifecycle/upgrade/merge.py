"""Three-way merge of one text file with standard conflict markers.

git's `merge-file` where git is installed (what users know from `git merge`), the pure-Python
merge3 otherwise. Both write the same markers (`<<<<<<< yours`, `=======`, `>>>>>>> template N`), and
nothing is ever written beside the file (no .rej): a conflict stays in the file until resolved.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Engine = Literal["auto", "git", "python"]
MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ")


@dataclass
class Merged:
    text: str
    conflicts: int   # number of conflicting hunks left in `text`
    engine: str


def has_markers(text: str) -> bool:
    """Whether a file still holds an unresolved conflict (a start and an end marker on their own lines)."""
    lines = text.splitlines()
    return any(l.startswith(MARKERS[0]) for l in lines) and any(l.startswith(MARKERS[2]) for l in lines)


def _git_merge(ours: str, base: str, theirs: str, labels: tuple[str, str, str]) -> Merged:
    with tempfile.TemporaryDirectory(prefix="lifecycle-merge-") as tmp:
        paths = []
        for name, text in zip(("ours", "base", "theirs"), (ours, base, theirs)):
            p = Path(tmp) / name
            p.write_bytes(text.encode("utf-8"))
            paths.append(str(p))
        proc = subprocess.run(["git", "merge-file", "-p", "-L", labels[0], "-L", labels[1], "-L", labels[2],
                               *paths], capture_output=True, env={**os.environ, "LC_ALL": "C"})
    # Exit status: the number of conflicts (capped at 127); negative / >127 is a real error.
    if proc.returncode < 0 or proc.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {proc.stderr.decode(errors='replace').strip()}")
    return Merged(proc.stdout.decode("utf-8"), proc.returncode, "git")


def _python_merge(ours: str, base: str, theirs: str, labels: tuple[str, str, str]) -> Merged:
    import merge3

    # A last line without its newline would glue onto the next marker: end every side with one.
    ours, base, theirs = (t if not t or t.endswith("\n") else t + "\n" for t in (ours, base, theirs))
    m = merge3.Merge3(base.splitlines(True), ours.splitlines(True), theirs.splitlines(True))
    conflicts = sum(1 for group in m.merge_groups() if group[0] == "conflict")
    lines = list(m.merge_lines(name_a=labels[0], name_b=labels[2]))
    text = "".join(lines)
    return Merged(text, conflicts, "python")


def merge_text(ours: str, base: str, theirs: str, *, labels: tuple[str, str, str] = ("yours", "base", "template"),
               engine: Engine = "auto") -> Merged:
    if ours == theirs:
        return Merged(ours, 0, "none")
    if base == theirs:
        return Merged(ours, 0, "none")
    if base == ours:
        return Merged(theirs, 0, "none")
    if engine == "git" or (engine == "auto" and shutil.which("git")):
        return _git_merge(ours, base, theirs, labels)
    return _python_merge(ours, base, theirs, labels)
