"""Decide, per file, what an upgrade does; then apply it and record the new version when clean.

    template did not change it              -> left as it is (whatever you did to it)
    you did not change it                   -> the new version            (updated / added / removed)
    both changed                            -> three-way merge            (merged / conflict, markers in the file)
                                               lifecycle.yaml and configs/**/*.yaml key by key (yaml_merge),
                                               falling back to lines when that cannot decide: "merged (yaml)"
                                               or "merged (text)" in the summary says which
    you deleted it, the template changed it -> left deleted               (conflict: reported, nothing written)
    the template removed it, you changed it -> yours kept                 (conflict: reported)
    user-owned (data/, runs/, attestations) -> never touched              (reported when the template changed it;
                                               a data file new in the template is added where none exists)

A conflict blocks recording the new version: the pending upgrade is written to
.lifecycle/upgrade.yaml, and running `lifecycle upgrade` again after resolving (no conflict markers
left) records it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from lifecycle.scaffold.render import tree_hashes
from lifecycle.upgrade.history import TemplateSet, UpgradeError, render_tree, shipped, version_key
from lifecycle.upgrade.merge import Engine, has_markers, merge_text
from lifecycle.upgrade.migrations import migrate_text, schema_version_of
from lifecycle.upgrade.yaml_merge import merge_yaml, yaml_problem

RECORD = ".lifecycle/template.yaml"
STATE = ".lifecycle/upgrade.yaml"
SCHEMAS = ".lifecycle/schemas/"
# Never written by an upgrade: the team's data and evidence, and the tool's own records.
USER_OWNED = ("data/", "runs/", ".lifecycle/attestations.yaml", RECORD, STATE, SCHEMAS)
# Printed in this order; `unchanged` and `same` only as a count.
ACTIONS = ("updated", "added", "removed", "merged", "conflict", "user-owned", "same", "unchanged")
RECORD_HEADER = "# Written by `lifecycle new`: the template and answers this project came from. Tool-owned.\n"


@dataclass
class FileResult:
    path: str
    action: str
    detail: str = ""
    conflict: bool = False
    write: Optional[bytes] = None
    delete: bool = False
    markers: bool = False   # the conflict is marked inside the file (resolved once the markers are gone)
    merge: Optional[str] = None   # "yaml" (key by key) or "text" (line by line) when both sides changed it


@dataclass
class Plan:
    root: Path
    from_version: str
    to_version: str
    files: list[FileResult] = field(default_factory=list)
    template_files: dict[str, str] = field(default_factory=dict)   # sha256 of the target's render

    @property
    def conflicts(self) -> list[FileResult]:
        return [f for f in self.files if f.conflict]

    def counts(self) -> dict[str, int]:
        c = Counter(f.action for f in self.files)
        return {a: c[a] for a in ACTIONS if c[a]}

    def summary_lines(self) -> list[str]:
        lines = [f"template {self.from_version} -> {self.to_version}: {self.root}"]
        for action in ACTIONS[:-2]:
            for f in self.files:
                if f.action == action:
                    label = f"{action} ({f.merge})" if f.merge else action
                    lines.append(f"  {label:10} {f.path}" + (f": {f.detail}" if f.detail else ""))
        counts = self.counts()
        quiet = [f"{counts[a]} {a}" for a in ("same", "unchanged") if counts.get(a)]
        if quiet:
            lines.append(f"  ({', '.join(quiet)})")
        return lines


# reading the project ---------------------------------------------------------------------------

def read_record(root: Path) -> dict:
    import yaml

    from lifecycle.config.yaml_io import load_yaml

    path = root / RECORD
    if not path.is_file():
        raise UpgradeError(f"{path}: missing: the project does not record which template it came from",
                           hint="only projects made by `lifecycle new` can be upgraded")
    # Tool-written and small: the C loader reads it; the careful loader runs only to locate a problem.
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        data = load_yaml(path).data
    if not isinstance(data, dict) or "template_version" not in data or not isinstance(data.get("answers"), dict):
        raise UpgradeError(f"{path}:1: expected template_version and answers",
                           hint="restore .lifecycle/template.yaml from version control")
    return data


def _answers(record: dict, root: Path):
    from pydantic import ValidationError

    from lifecycle.scaffold.answers import Answers

    try:
        return Answers.model_validate(record["answers"])
    except ValidationError as err:
        first = err.errors()[0]
        field_name = ".".join(str(p) for p in first["loc"])
        raise UpgradeError(f"{root / RECORD}: answers.{field_name}: {first['msg']}",
                           hint="restore .lifecycle/template.yaml from version control") from None


def _user_owned(rel: str) -> bool:
    return any(rel == p.rstrip("/") or (p.endswith("/") and rel.startswith(p)) for p in USER_OWNED)


def _through_symlink(root: Path, rel: str) -> bool:
    p = root / rel
    return any(q.is_symlink() for q in (p, *list(p.parents)[: len(Path(rel).parts) - 1]))


def _is_yaml(rel: str) -> bool:
    return rel == "lifecycle.yaml" or (rel.startswith("configs/") and rel.endswith((".yaml", ".yml")))


# deciding --------------------------------------------------------------------------------------

@dataclass
class _Ctx:
    root: Path
    labels: tuple[str, str, str]
    engine: Engine
    target_schema: Optional[int]
    recorded: dict   # sha256 per file as `lifecycle new` (or the last upgrade) wrote it
    by_key: bool = True   # YAML files key by key first (False: lines only, the baseline benchmarks compare with)


def _merge(ctx: _Ctx, rel: str, o: bytes, b: Optional[bytes], t: bytes) -> FileResult:
    try:
        ours, base, theirs = o.decode("utf-8"), (b or b"").decode("utf-8"), t.decode("utf-8")
    except UnicodeDecodeError:
        return FileResult(rel, "conflict", "not text, changed by you and by the template: yours kept", conflict=True)
    if rel == "lifecycle.yaml" and ctx.target_schema is not None:
        # Both sides at the target schema first: a renamed field then merges as a value change.
        ours = migrate_text(ours, ctx.target_schema, where=str(ctx.root / rel))
        base = migrate_text(base, ctx.target_schema, where=f"template {ctx.labels[1]} {rel}")
    why = ""
    if ctx.by_key and _is_yaml(rel) and len({ours, base, theirs}) == 3:
        # Key by key first: neighbouring edits by you and by the template do not collide there.
        ym = merge_yaml(ours, base if b is not None else None, theirs)
        if ym.text is not None:
            data = ym.text.encode("utf-8")
            if ym.kept:
                return FileResult(rel, "conflict", "merged key by key, but " + "; ".join(ym.kept), conflict=True,
                                  write=data, merge="yaml")
            return FileResult(rel, "merged", "your edits and the template's, combined key by key", write=data,
                              merge="yaml")
        why = f" (not merged as YAML: {ym.reason})"
    merged = merge_text(ours, base, theirs, labels=ctx.labels, engine=ctx.engine)
    data = merged.text.encode("utf-8")
    how = "text" if merged.engine != "none" else None
    if merged.conflicts:
        return FileResult(rel, "conflict", f"{merged.conflicts} conflicting hunk(s) marked in the file{why}",
                          conflict=True, write=data, markers=True, merge=how)
    if _is_yaml(rel):
        problem = yaml_problem(merged.text)   # ruamel: a key both sides added twice is an error, not "last wins"
        if problem:
            return FileResult(rel, "conflict", f"merged line by line, but the result {problem}{why}: fix it by hand",
                              conflict=True, write=data, merge=how)
    return FileResult(rel, "merged", f"your edits and the template's, combined line by line{why}", write=data,
                      merge=how)


def _decide(ctx: _Ctx, rel: str, b: Optional[bytes], t: Optional[bytes]) -> FileResult:
    if b == t:
        return FileResult(rel, "unchanged")
    if _user_owned(rel):
        # A data file new in this version (data/train.jsonl in 4) is added where the project has none:
        # it overwrites nothing, and the configs that name it keep working.
        if (rel.startswith("data/") and b is None and not os.path.lexists(ctx.root / rel)
                and not _through_symlink(ctx.root, rel)):
            return FileResult(rel, "added", "new in the template; nothing of yours in data/ changed", write=t)
        return FileResult(rel, "user-owned", "changed by the template; yours is never touched")
    p = ctx.root / rel
    if _through_symlink(ctx.root, rel):
        return FileResult(rel, "conflict", "a symlink in the project: not followed, not touched", conflict=True)
    if p.exists() and not p.is_file():
        return FileResult(rel, "conflict", "not a file in the project: not touched", conflict=True)
    o = p.read_bytes() if p.is_file() else None
    if o == t:
        return FileResult(rel, "same")
    # Untouched: equal to the re-rendered base, or to the recorded hash of what was written then.
    untouched = o is not None and (o == b or ctx.recorded.get(rel) == hashlib.sha256(o).hexdigest())
    if t is None:  # removed by the template
        if untouched:
            return FileResult(rel, "removed", "no longer in the template, and you never changed it", delete=True)
        return FileResult(rel, "conflict", "removed by the template, changed by you: yours kept; delete it "
                          "if you no longer need it", conflict=True)
    if b is None:  # added by the template
        if o is None:
            return FileResult(rel, "added", write=t)
        return _merge(ctx, rel, o, None, t)
    if o is None:
        return FileResult(rel, "conflict", "deleted by you, changed by the template: left deleted; restore it "
                          "from the template if you want the change", conflict=True)
    if untouched:
        return FileResult(rel, "updated", write=t)
    return _merge(ctx, rel, o, b, t)


def _rendered(folder: Path, answers, chosen: bool, cache: Optional[dict]) -> dict[str, bytes]:
    if cache is None:
        return render_tree(folder, answers, model_chosen=chosen)
    key = (str(folder), answers.model_dump_json(), chosen)
    if key not in cache:
        cache[key] = render_tree(folder, answers, model_chosen=chosen)
    return cache[key]


def plan_upgrade(root: str | Path, *, templates: Optional[TemplateSet] = None, to: Optional[str] = None,
                 engine: Engine = "auto", cache: Optional[dict] = None, by_key: bool = True) -> Plan:
    """`cache` (any dict) keeps rendered trees across calls: many projects against the same templates.
    `by_key=False` merges YAML files line by line only (what upgrades did before yaml_merge)."""
    root = Path(root).resolve()
    record = read_record(root)
    templates = templates or shipped()
    frm = str(record["template_version"])
    to = str(to) if to is not None else templates.latest
    templates.folder(to)
    if frm not in templates.versions:
        raise UpgradeError(f"{root / RECORD}: template_version {frm} is not a version this genai-lifecycle "
                           f"ships ({', '.join(templates.ordered())})",
                           hint="install the genai-lifecycle release that made the project, or a newer one")
    if version_key(to) < version_key(frm):
        raise UpgradeError(f"the project is at template {frm}; going back to {to} is not supported",
                           hint="use version control to return to an older state")
    plan = Plan(root, frm, to)
    if frm == to:
        return plan
    answers = _answers(record, root)
    chosen = bool(record.get("model_chosen", False))
    base, theirs = (_rendered(templates.folder(v), answers, chosen, cache) for v in (frm, to))
    target_schema = schema_version_of(theirs.get("lifecycle.yaml", b"").decode("utf-8", "replace"))
    recorded = record.get("files") if isinstance(record.get("files"), dict) else {}
    ctx = _Ctx(root, ("yours", f"template {frm}", f"template {to}"), engine, target_schema, recorded, by_key)
    plan.template_files = tree_hashes(theirs)
    plan.files = [_decide(ctx, rel, base.get(rel), theirs.get(rel)) for rel in sorted(set(base) | set(theirs))]
    return plan


# applying --------------------------------------------------------------------------------------

def _refresh_schemas(root: Path) -> None:
    """.lifecycle/schemas/ is tool-owned: always the schemas of the installed genai-lifecycle."""
    from lifecycle.config.schema_export import MODELS, SCHEMA_DIR, render_schema, schema_file_name
    from lifecycle.config.yaml_io import atomic_write_text

    folder = root / SCHEMAS
    folder.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        exported = SCHEMA_DIR / schema_file_name(name)
        text = exported.read_text(encoding="utf-8") if exported.is_file() else render_schema(name)
        dest = folder / schema_file_name(name)
        if dest.is_symlink() or not dest.is_file() or dest.read_text(encoding="utf-8") != text:
            if dest.is_symlink():
                dest.unlink()
            atomic_write_text(dest, text)


def record_version(root: Path, to: str, frm: str, template_files: Optional[dict] = None) -> None:
    from lifecycle import __version__
    from lifecycle.config.yaml_io import atomic_write_text, dump_yaml

    record = read_record(root)
    record.update(template_version=to, upgraded_from=frm, lifecycle_version=__version__,
                  upgraded=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat())
    if template_files is not None:  # the baseline of the next upgrade: the template as now rendered
        record["files"] = template_files
    atomic_write_text(root / RECORD, RECORD_HEADER + dump_yaml(record))
    state = root / STATE
    if state.is_file():
        state.unlink()


def apply_plan(plan: Plan) -> None:
    from lifecycle.config.yaml_io import atomic_write_bytes, atomic_write_text, dump_yaml

    root = plan.root
    for f in plan.files:
        if f.write is not None:
            (root / f.path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(root / f.path, f.write)
        elif f.delete:
            (root / f.path).unlink()
    _refresh_schemas(root)
    if plan.conflicts:
        state = {"from_version": plan.from_version, "to_version": plan.to_version, "files": plan.template_files,
                 "conflicts": [{"path": f.path, "detail": f.detail, "markers": f.markers} for f in plan.conflicts]}
        atomic_write_text(root / STATE, "# Written by `lifecycle upgrade`: conflicts left to resolve. Tool-owned.\n"
                          + dump_yaml(state))
    else:
        record_version(root, plan.to_version, plan.from_version, plan.template_files)


# pending upgrades and status -------------------------------------------------------------------

def pending(root: Path) -> Optional[dict]:
    from lifecycle.config.yaml_io import load_yaml

    path = root / STATE
    if not path.is_file():
        return None
    data = load_yaml(path).data
    if not isinstance(data, dict) or "to_version" not in data:
        raise UpgradeError(f"{path}:1: expected from_version, to_version and conflicts",
                           hint="delete it and run `lifecycle upgrade` again")
    return data


def unresolved(root: Path, state: dict) -> list[str]:
    """Conflicts whose markers are still in the file (a reported-only conflict is settled by rerunning)."""
    left = []
    for c in state.get("conflicts") or []:
        p = root / c["path"]
        if c.get("markers") and p.is_file() and not p.is_symlink():
            if has_markers(p.read_text(encoding="utf-8", errors="replace")):
                left.append(c["path"])
    return left


@dataclass
class TemplateStatus:
    current: str
    latest: str
    pending: Optional[dict]

    @property
    def behind(self) -> bool:
        return version_key(self.current) < version_key(self.latest) or self.pending is not None

    def describe(self) -> str:
        if self.pending is not None:
            return (f"an upgrade to template {self.pending['to_version']} has unresolved conflicts "
                    f"({len(self.pending.get('conflicts') or [])} file(s))")
        if self.behind:
            return f"template {self.current}, the latest is {self.latest}"
        return f"template {self.current} (the latest)"


def template_status(root: str | Path, templates: Optional[TemplateSet] = None) -> TemplateStatus:
    root = Path(root)
    record = read_record(root)
    templates = templates or shipped()
    return TemplateStatus(str(record["template_version"]), templates.latest, pending(root))


def git_dirty(root: Path) -> Optional[list[str]]:
    """Changed or untracked files under `root` when it is in a git work tree; None without git/repo."""
    try:
        inside = subprocess.run(["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True)
    except OSError:
        return None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    proc = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "."],
                          capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
    return [line[3:] for line in proc.stdout.splitlines() if line.strip()]
