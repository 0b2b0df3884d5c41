"""The upgrade matrix: scripted user edits x template changes, built from synthetic template versions.

The old template is a copy of the shipped template version 1; each "new" template is that copy with
one change (version 2). Each user edit and template change says how to observe it in the upgraded
project (a substring present / a file absent), so "kept" and "applied" are read from the files.
`overlaps` names the user edits a template change collides with: exactly those pairs must be
reported as conflicts. Used by tests/upgrade/test_upgrade_matrix.py and benchmarks/bench_upgrade.py.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SLUG = "{{cookiecutter.project_slug}}"
TPKG = "{{cookiecutter.package}}"  # the package folder in the template
REPO = Path(__file__).resolve().parents[2]
V1 = REPO / "lifecycle" / "templates" / "history" / "1"
V2 = REPO / "lifecycle" / "templates" / "history" / "2"   # the release before the current template
NAME = "support-bot"   # the project the tests render
PKG = "support_bot"


@dataclass
class UserEdit:
    name: str
    path: str                       # project-relative ({pkg} is the package)
    apply: Callable[[Path, str], None]
    present: tuple[str, ...] = ()   # substrings that must survive in `path`
    absent_file: bool = False       # the edit deletes `path`; it must stay deleted


@dataclass
class TemplateChange:
    name: str
    edits: dict[str, Callable[[str], str]]   # template-relative path -> text transform (None: delete)
    check: Callable[[Path, str], bool]       # observed in the upgraded project
    conflict_path: dict[str, str] = field(default_factory=dict)   # overlapping user edit -> conflicted file


def _replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert text.count(old) >= 1, f"template text not found: {old!r}"
        return text.replace(old, new) if count == 0 else text.replace(old, new, count)
    return edit


def _sub_line(text: str, prefix: str, value: str) -> str:
    """The first line starting with `prefix` gets `value` after it (whatever it held)."""
    lines = text.splitlines(True)
    i = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    lines[i] = prefix + value + "\n"
    return "".join(lines)


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


def _edit_file(rel: str, fn: Callable[[str], str]) -> Callable[[Path, str], None]:
    def apply(root: Path, pkg: str) -> None:
        p = root / rel.format(pkg=pkg)
        p.write_text(fn(p.read_text(encoding="utf-8")), encoding="utf-8")
    return apply


def _delete(rel: str) -> Callable[[Path, str], None]:
    return lambda root, pkg: (root / rel.format(pkg=pkg)).unlink()


def _read(root: Path, rel: str, pkg: str) -> str:
    p = root / rel.format(pkg=pkg)
    return p.read_text(encoding="utf-8") if p.is_file() else ""


CUSTOM_METRIC = '''

def exclamation_rate(predictions: list[str]) -> float:
    """Our team's metric: share of predictions that shout."""
    return sum("!" in p for p in predictions) / max(len(predictions), 1)
'''

USER_EDITS = [
    UserEdit("README prose", "README.md",
             _edit_file("README.md", lambda t: t.replace("Run these from this folder:",
                                                         "Run these from this folder (CI runs them nightly):")
                        + "\n## Team notes\n\nOwned by the support-tools team.\n"),
             present=("Run these from this folder (CI runs them nightly):", "Owned by the support-tools team.")),
    UserEdit("config value", "configs/generation.yaml",
             _edit_file("configs/generation.yaml", _replace("max_new_tokens: 128", "max_new_tokens: 96")),
             present=("max_new_tokens: 96",)),
    UserEdit("custom metric in src/", "src/{pkg}/metrics.py",
             _edit_file("src/{pkg}/metrics.py", _append(CUSTOM_METRIC)), present=("def exclamation_rate(",)),
    UserEdit("added dependency", "pyproject.toml",
             _edit_file("pyproject.toml", _replace('"pyyaml>=6"]', '"pyyaml>=6", "rouge-score>=0.1"]')),
             present=('"rouge-score>=0.1"',)),
    UserEdit("decision in lifecycle.yaml", "lifecycle.yaml",
             _edit_file("lifecycle.yaml", lambda t: _sub_line(t, "  use_case: ",
                                                             "summarize escalated chats for tier 2  # agreed with ops, 2026-11")),
             present=("use_case: summarize escalated chats for tier 2  # agreed with ops, 2026-11\n",)),
    UserEdit("deleted sample file", "configs/accelerate/fsdp.yaml", _delete("configs/accelerate/fsdp.yaml"),
             absent_file=True),
]

NEW_TEST = '''

def test_generation_names_a_preset():
    config = yaml.safe_load((ROOT / "configs" / "generation.yaml").read_text(encoding="utf-8"))
    assert config["preset"] in {"greedy", "sampling", "beam"}
'''
TOOLS = '"""Tools the application calls (added in template 2)."""\n\n\ndef tool_names() -> list[str]:\n    return []\n'

TEMPLATE_CHANGES = [
    TemplateChange("new config key", {f"{SLUG}/configs/finetune.yaml": _replace(
        "  min_train_examples: 1\n", "  min_train_examples: 1\n  report_to: none\n")},
        lambda root, pkg: "  report_to: none\n" in _read(root, "configs/finetune.yaml", pkg)),
    TemplateChange("new file", {f"{SLUG}/src/{TPKG}/tools.py": lambda _text: TOOLS},
                   lambda root, pkg: _read(root, "src/{pkg}/tools.py", pkg) == TOOLS),
    TemplateChange("changed generated test", {f"{SLUG}/tests/test_configs.py": _append(NEW_TEST)},
                   lambda root, pkg: "def test_generation_names_a_preset" in _read(root, "tests/test_configs.py", pkg)),
    TemplateChange("renamed field", {f"{SLUG}/src/{TPKG}/data.py": _replace("def load_examples(", "def read_examples("),
                                     f"{SLUG}/tests/test_data.py": _replace("load_examples", "read_examples", 0),
                                     f"{SLUG}/tests/test_prompts.py": _replace("load_examples", "read_examples", 0)},
                   lambda root, pkg: "def read_examples(" in _read(root, "src/{pkg}/data.py", pkg)
                   and "load_examples" not in _read(root, "tests/test_data.py", pkg) + _read(root, "tests/test_prompts.py", pkg)),
    # Next to a user edit: one hunk to a line merge, separate keys to the YAML merge (no conflict).
    TemplateChange("neighbouring config value", {f"{SLUG}/configs/generation.yaml": _replace(
        "min_new_tokens: null  #", "min_new_tokens: 1     #")},
        lambda root, pkg: "min_new_tokens: 1     #" in _read(root, "configs/generation.yaml", pkg)),
    TemplateChange("neighbouring comment", {f"{SLUG}/lifecycle.yaml": _replace(
        "  # summarization | classification | question_answering | translation | chat.\n",
        "  # summarization | classification | question_answering | translation | chat (see `lifecycle models ls`).\n")},
        lambda root, pkg: "| chat (see `lifecycle models ls`).\n" in _read(root, "lifecycle.yaml", pkg)),
    TemplateChange("removed file", {f"{SLUG}/configs/accelerate/multi_node.yaml": None},
                   lambda root, pkg: not (root / "configs/accelerate/multi_node.yaml").exists()),
    # Overlapping changes: each collides with one user edit.
    TemplateChange("README line rewritten", {f"{SLUG}/README.md": _replace("Run these from this folder:",
                                                                          "Run these from the project folder:")},
                   lambda root, pkg: "Run these from the project folder:" in _read(root, "README.md", pkg),
                   conflict_path={"README prose": "README.md"}),
    TemplateChange("same config value changed", {f"{SLUG}/configs/generation.yaml": _replace(
        "max_new_tokens: {{ p.spec.max_new_tokens | yaml }}", "max_new_tokens: 160")},
        lambda root, pkg: "max_new_tokens: 160" in _read(root, "configs/generation.yaml", pkg),
        conflict_path={"config value": "configs/generation.yaml"}),
    TemplateChange("dependency line changed", {f"{SLUG}/pyproject.toml": _replace('"pyyaml>=6"]', '"pyyaml>=6.0.1"]')},
                   lambda root, pkg: '"pyyaml>=6.0.1"' in _read(root, "pyproject.toml", pkg),
                   conflict_path={"added dependency": "pyproject.toml"}),
    TemplateChange("deleted file changed", {f"{SLUG}/configs/accelerate/fsdp.yaml": _replace(
        "fsdp_version: 2", "fsdp_version: 2\n  fsdp_cpu_ram_efficient_loading: true")},
        lambda root, pkg: "fsdp_cpu_ram_efficient_loading" in _read(root, "configs/accelerate/fsdp.yaml", pkg),
        conflict_path={"deleted sample file": "configs/accelerate/fsdp.yaml"}),
]


def make_template(dest: Path, changes: list[TemplateChange], version: str) -> Path:
    """A template folder: shipped version 1 with `changes` applied, declaring `version`."""
    shutil.copytree(V1, dest)
    ctx_path = dest / "cookiecutter.json"
    ctx = json.loads(ctx_path.read_text(encoding="utf-8"))
    ctx["_template_version"] = version
    ctx_path.write_text(json.dumps(ctx, indent=2), encoding="utf-8")
    for change in changes:
        for rel, fn in change.edits.items():
            p = dest / rel
            if fn is None:
                p.unlink()
                continue
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(fn(p.read_text(encoding="utf-8") if p.is_file() else ""), encoding="utf-8")
    return dest


@dataclass
class Cell:
    edit: str
    change: str
    expected_conflict: str | None
    reported: list[str]
    kept: bool
    applied: bool
    merges: dict[str, str] = field(default_factory=dict)   # path -> "yaml" | "text", where both sides changed it


def run_matrix(work: Path, pristine: Path, pkg: str, engine: str = "auto",
               changes: list[TemplateChange] | None = None, by_key: bool = True) -> list[Cell]:
    """Every user edit against every template change, each in a fresh copy of `pristine` (a v1 project)."""
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import apply_plan, plan_upgrade

    old = make_template(work / "t1", [], "1")
    cache: dict = {}
    cells = []
    for ci, change in enumerate(TEMPLATE_CHANGES if changes is None else changes):
        templates = TemplateSet({"1": old, "2": make_template(work / f"t2-{ci}", [change], "2")})
        for ui, edit in enumerate(USER_EDITS):
            root = work / f"p-{ci}-{ui}"
            shutil.copytree(pristine, root, symlinks=True)
            edit.apply(root, pkg)
            plan = plan_upgrade(root, templates=templates, engine=engine, cache=cache, by_key=by_key)
            apply_plan(plan)
            target = edit.path.format(pkg=pkg)
            if edit.absent_file:
                kept = not (root / target).exists()
            else:
                kept = all(s in _read(root, target, pkg) for s in edit.present)
            cells.append(Cell(edit.name, change.name, change.conflict_path.get(edit.name),
                              [f.path for f in plan.conflicts], kept, change.check(root, pkg),
                              {f.path: f.merge for f in plan.files if f.merge}))
    return cells


def counts(cells: list[Cell]) -> dict[str, tuple[int, int]]:
    clean = [c for c in cells if c.expected_conflict is None]
    overlap = [c for c in cells if c.expected_conflict is not None]
    return {
        "user edits kept": (sum(c.kept for c in cells), len(cells)),
        "non-overlapping template changes applied": (sum(c.applied for c in clean), len(clean)),
        "overlaps reported as conflicts": (sum(c.reported == [c.expected_conflict] for c in overlap), len(overlap)),
        "clean cells without a false conflict": (sum(not c.reported for c in clean), len(clean)),
        "YAML files changed on both sides merged key by key": (
            sum(m == "yaml" for c in clean for p, m in c.merges.items() if p.endswith(".yaml")),
            sum(p.endswith(".yaml") for c in clean for p in c.merges)),
    }
