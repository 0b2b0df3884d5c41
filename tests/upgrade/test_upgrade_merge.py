"""The three-way text merge (git and pure Python agree) and lifecycle.yaml schema migrations."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from upgrade_matrix import SLUG, make_template

ENGINES = ["python"] + (["git"] if shutil.which("git") else [])
BASE = "a\nb\nc\nd\ne\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_non_overlapping_changes_combine(engine):
    from lifecycle.upgrade.merge import merge_text

    m = merge_text("a\nB\nc\nd\ne\n", BASE, "a\nb\nc\nd\nE\nf\n", engine=engine)
    assert (m.text, m.conflicts) == ("a\nB\nc\nd\nE\nf\n", 0)


@pytest.mark.parametrize("engine", ENGINES)
def test_overlap_is_marked_with_both_sides(engine):
    from lifecycle.upgrade.merge import has_markers, merge_text

    m = merge_text("a\nOURS\nc\nd\ne\n", BASE, "a\nTHEIRS\nc\nd\ne", labels=("yours", "template 1", "template 2"),
                   engine=engine)
    assert m.conflicts == 1 and has_markers(m.text)
    assert m.text.splitlines() == ["a", "<<<<<<< yours", "OURS", "=======", "THEIRS", ">>>>>>> template 2",
                                   "c", "d", "e"]


def test_identical_or_one_sided_changes_need_no_engine():
    from lifecycle.upgrade.merge import merge_text

    assert merge_text("x\n", "y\n", "x\n").engine == "none"
    assert merge_text("x\n", "y\n", "y\n").text == "x\n"
    assert merge_text("y\n", "y\n", "z\n").text == "z\n"


@pytest.fixture
def rename_notes():
    """A schema step 1 -> 2 renaming integration.notes to integration.remarks (registered for the test)."""
    from lifecycle.upgrade import migrations

    @migrations.migration(1)
    def rename(doc):
        migrations.rename_key(doc["integration"], "notes", "remarks")

    yield rename
    del migrations.MIGRATIONS[1]


def test_migration_step_keeps_comments_and_value(rename_notes):
    from lifecycle.upgrade.migrations import migrate_text

    text = "# top\nschema_version: 1\nintegration:\n  serving: null  # later\n  notes: 'ask ops'  # who\n"
    out = migrate_text(text, 2)
    assert "# top" in out and "# later" in out and "# who" in out
    assert "  serving: null  # later\n" in out and re.search(r"  remarks: 'ask ops' +# who\n", out)
    data = yaml.safe_load(out)
    assert data == {"schema_version": 2, "integration": {"serving": None, "remarks": "ask ops"}}
    assert migrate_text(out, 2) == out


def test_a_missing_step_is_refused_not_guessed():
    from lifecycle.upgrade.history import UpgradeError
    from lifecycle.upgrade.migrations import migrate_text

    with pytest.raises(UpgradeError, match="no migration from schema_version 1 to 2"):
        migrate_text("schema_version: 1\n", 2)


def test_a_renamed_manifest_field_carries_the_users_value(rename_notes, v1_project, tmp_path):
    """Template 2 renames integration.notes (schema 2); the user had filled notes in: the upgrade
    migrates their file first, so the value lands under the new name without a conflict."""
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import apply_plan, plan_upgrade

    manifest = v1_project / "lifecycle.yaml"
    manifest.write_text(manifest.read_text().replace("  notes: null", "  notes: \"ask the ops team\""))
    old = make_template(tmp_path / "t1", [], "1")
    new = make_template(tmp_path / "t2", [], "2")
    tpl = new / SLUG / "lifecycle.yaml"
    tpl.write_text(tpl.read_text().replace("schema_version: {{ m.schema_version | yaml }}", "schema_version: 2")
                   .replace("  notes: {{ m.integration.notes | yaml }}", "  remarks: {{ m.integration.notes | yaml }}"))
    plan = plan_upgrade(v1_project, templates=TemplateSet({"1": old, "2": new}))
    assert not plan.conflicts, plan.summary_lines()
    apply_plan(plan)
    data = yaml.safe_load(manifest.read_text())
    assert data["schema_version"] == 2 and data["integration"]["remarks"] == "ask the ops team"
    assert "notes" not in data["integration"]
    assert "# INTEGRATE: how the adapted model will be served" in manifest.read_text()
