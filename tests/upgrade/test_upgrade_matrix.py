"""The must-show matrix: every scripted user edit against every template change (synthetic
template versions built here), plus all of them at once with the project's own tests run after."""

from __future__ import annotations

import subprocess
import sys

import pytest

from upgrade_matrix import PKG, TEMPLATE_CHANGES, USER_EDITS, counts, make_template, run_matrix


@pytest.fixture(scope="module")
def cells(pristine_v1, tmp_path_factory):
    return run_matrix(tmp_path_factory.mktemp("matrix"), pristine_v1, PKG)


def test_matrix_keeps_every_edit_applies_every_change_reports_every_overlap(cells):
    assert len(cells) == len(USER_EDITS) * len(TEMPLATE_CHANGES) == 66
    got = counts(cells)
    print("\n" + "\n".join(f"  {k}: {a}/{b}" for k, (a, b) in got.items()))
    for name, (ok, total) in got.items():
        bad = [c for c in cells if (name == "user edits kept" and not c.kept)
               or (name.startswith("non-overlapping") and c.expected_conflict is None and not c.applied)
               or (name.startswith("overlaps") and c.expected_conflict and c.reported != [c.expected_conflict])
               or (name.startswith("clean") and c.expected_conflict is None and c.reported)]
        assert ok == total, f"{name}: {ok}/{total}; failing cells: {bad[:3]}"
    assert got["overlaps reported as conflicts"][1] == 4  # the four designed collisions
    # Edits next to each other (one hunk to a line merge) merge key by key, without a conflict.
    for edit, change, path in (("config value", "neighbouring config value", "configs/generation.yaml"),
                               ("decision in lifecycle.yaml", "neighbouring comment", "lifecycle.yaml")):
        [cell] = [c for c in cells if (c.edit, c.change) == (edit, change)]
        assert cell.kept and cell.applied and not cell.reported and cell.merges == {path: "yaml"}, cell
    assert got["YAML files changed on both sides merged key by key"][1] >= 2


def test_matrix_with_the_pure_python_merge(pristine_v1, tmp_path):
    """Without git, merge3 gives the same outcome: the overlapping changes (where the engine decides)
    and one clean change, against every user edit."""
    changes = [c for c in TEMPLATE_CHANGES if c.conflict_path] + [TEMPLATE_CHANGES[0]]
    cells = run_matrix(tmp_path, pristine_v1, PKG, engine="python", changes=changes)
    got = counts(cells)
    assert len(cells) == 5 * len(USER_EDITS) and got["overlaps reported as conflicts"] == (4, 4)
    assert all(ok == total for ok, total in got.values()), got


def test_line_merge_alone_reports_the_neighbouring_edits_as_false_conflicts(pristine_v1, tmp_path):
    """The baseline the key-by-key merge replaces: the same neighbouring cells conflict line by line."""
    changes = [c for c in TEMPLATE_CHANGES if c.name.startswith("neighbouring")]
    cells = run_matrix(tmp_path, pristine_v1, PKG, changes=changes, by_key=False)
    false = {(c.edit, c.change) for c in cells if c.reported}
    assert false == {("config value", "neighbouring config value"), ("decision in lifecycle.yaml", "neighbouring comment")}


def test_all_edits_and_all_clean_changes_at_once_then_the_project_tests_pass(v1_project, tmp_path):
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import apply_plan, plan_upgrade, template_status

    clean = [c for c in TEMPLATE_CHANGES if not c.conflict_path]
    templates = TemplateSet({"1": make_template(tmp_path / "t1", [], "1"),
                             "2": make_template(tmp_path / "t2", clean, "2")})
    for edit in USER_EDITS:
        edit.apply(v1_project, PKG)
    assert template_status(v1_project, templates).behind
    plan = plan_upgrade(v1_project, templates=templates)
    assert not plan.conflicts, plan.summary_lines()
    apply_plan(plan)
    assert all(c.check(v1_project, PKG) for c in clean)
    for edit in USER_EDITS:
        text = (v1_project / edit.path.format(pkg=PKG))
        assert (not text.exists()) if edit.absent_file else all(s in text.read_text() for s in edit.present)
    status = template_status(v1_project, templates)
    assert not status.behind and status.current == "2"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=v1_project,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "passed" in proc.stdout
