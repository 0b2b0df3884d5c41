"""`lifecycle upgrade` on a project made by the shipped template 1, upgraded to the shipped current one."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from upgrade_matrix import PKG


def _version(root):
    return yaml.safe_load((root / ".lifecycle" / "template.yaml").read_text())["template_version"]


def test_check_then_upgrade_then_check(v1_project, cli):
    from lifecycle.scaffold.template import template_version

    root = v1_project
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\nOur escalation policy: page the on-call.\n")
    code, out, _ = cli("upgrade", "--check", "-p", root)
    assert code == 1 and f"the latest is {template_version()}" in out
    code, out, err = cli("upgrade", "--dry-run", "-p", root)
    assert code == 0 and "updated    configs/finetune.yaml" in out and "dry run" in out
    assert "report_to" not in (root / "configs" / "finetune.yaml").read_text()   # nothing written
    code, out, err = cli("upgrade", "-p", root)
    assert code == 0, out + err
    assert "updated    configs/finetune.yaml" in out
    assert yaml.safe_load((root / "configs" / "finetune.yaml").read_text())["training"]["report_to"] == "none"
    assert "page the on-call" in readme.read_text()
    assert _version(root) == template_version()
    assert cli("upgrade", "--check", "-p", root)[0] == 0
    code, out, _ = cli("upgrade", "-p", root)
    assert code == 0 and "nothing to do" in out
    assert cli("validate", "-p", root)[0] == 0   # the new key validates against the installed schema


def _latest() -> str:
    from lifecycle.upgrade.history import shipped

    return shipped().latest


def test_an_edit_next_to_a_template_change_merges_key_by_key(v1_project, cli):
    """Template 2 added `report_to` right under `min_train_examples`: one hunk to a line merge, two
    keys to the YAML merge. Your value and your comment stay, the new key comes in."""
    ft = v1_project / "configs" / "finetune.yaml"
    ft.write_text(ft.read_text().replace("  min_train_examples: 1\n", "  min_train_examples: 4  # our smallest split\n"))
    code, out, err = cli("upgrade", "-p", v1_project)
    assert code == 0, out + err
    assert "merged (yaml) configs/finetune.yaml" in out
    data = yaml.safe_load(ft.read_text())["training"]
    assert data["min_train_examples"] == 4 and data["report_to"] == "none"
    assert "  min_train_examples: 4  # our smallest split\n  report_to: none" in ft.read_text()
    assert _version(v1_project) == _latest()


def test_conflict_blocks_recording_until_resolved(v1_project, cli):
    root = v1_project
    latest = _latest()
    ft = root / "configs" / "finetune.yaml"
    # Both sides add report_to, with different values: a real conflict, marked in the file.
    ft.write_text(ft.read_text().replace("  min_train_examples: 1\n", "  min_train_examples: 1\n  report_to: wandb\n"))
    code, out, err = cli("upgrade", "-p", root)
    assert code == 1 and "conflict (text) configs/finetune.yaml" in out and "resolve" in err
    assert "not merged as YAML: changed on both sides: training.report_to" in out
    text = ft.read_text()
    assert "<<<<<<< yours" in text and f">>>>>>> template {latest}" in text and "report_to: wandb" in text
    assert "report_to: none" in text and not list(root.rglob("*.rej")) and not list(root.rglob("*.orig"))
    assert _version(root) == "1" and (root / ".lifecycle" / "upgrade.yaml").is_file()
    assert cli("upgrade", "--check", "-p", root)[0] == 1
    code, out, _ = cli("check", "integrate", "-p", root)
    assert "FAIL integrate.template_current" in out
    code, out, _ = cli("upgrade", "-p", root)            # markers still there
    assert code == 1 and "conflict markers still in the file" in out
    resolved = [l for l in text.splitlines(True) if not l.startswith(("<<<<<<<", "=======", ">>>>>>>"))
                and not l.startswith("  report_to: none")]
    ft.write_text("".join(resolved))
    code, out, _ = cli("upgrade", "-p", root)
    assert code == 0 and f"now at template {latest}" in out
    assert _version(root) == latest and not (root / ".lifecycle" / "upgrade.yaml").exists()
    data = yaml.safe_load(ft.read_text())["training"]
    assert data["min_train_examples"] == 1 and data["report_to"] == "wandb"
    code, out, _ = cli("check", "integrate", "-p", root)
    assert "PASS integrate.template_current" in out


def _paths(node, prefix=""):
    if not isinstance(node, dict):
        return {prefix: node}
    out = {}
    for k, v in node.items():
        out.update(_paths(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def test_real_upgrade_from_the_previous_release_keeps_your_decisions(v2_project, cli):
    """A project made by lifecycle/templates/history/2, with decisions and comments of the team's own in
    lifecycle.yaml, upgraded to the current template: every edit kept, every new key taken."""
    from lifecycle.scaffold.answers import Answers
    from lifecycle.upgrade.history import render_tree, shipped

    templates = shipped()
    if templates.latest == "2":
        pytest.skip("the current template is still version 2")
    manifest = v2_project / "lifecycle.yaml"
    before = manifest.read_text()
    edits = {"  use_case: summarize support chats for the next agent\n":
             "  use_case: summarize escalated chats for tier 2  # agreed with ops\n",
             "  model: null\n": "  model: google/flan-t5-small  # fits the 8 GiB laptop GPU\n",
             "selection:\n": "# Picked after the November bake-off; see docs/bakeoff.md.\nselection:\n"}
    for old, new in edits.items():
        assert before.count(old) == 1, old
        before = before.replace(old, new)
    manifest.write_text(before)
    code, out, err = cli("upgrade", "-p", v2_project)
    assert code == 0, out + err
    assert "merged (yaml) lifecycle.yaml" in out
    text = manifest.read_text()
    assert all(new in text for new in edits.values()) and "<<<<<<<" not in text
    # Every key the template added since version 2, with the template's value.
    answers = Answers(name="support-bot", use_case="summarize support chats for the next agent", task="summarization")
    old_keys, new_keys = (_paths(yaml.safe_load(render_tree(templates.folder(v), answers, model_chosen=False)
                                                ["lifecycle.yaml"])) for v in ("2", templates.latest))
    added = {k: v for k, v in new_keys.items() if k not in old_keys}
    assert {"alignment.method", "integration.latency_p95_ms"} <= set(added)
    got = _paths(yaml.safe_load(text))
    assert all(got.get(k, "missing") == v for k, v in added.items()), {k: got.get(k, "missing") for k in added}
    assert got["scope.use_case"] == "summarize escalated chats for tier 2" and got["selection.model"] == "google/flan-t5-small"
    assert "# ADAPT & ALIGN with human feedback" in text and _version(v2_project) == templates.latest
    assert cli("validate", "-p", v2_project)[0] == 0


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_refuses_a_dirty_git_tree_unless_forced(v1_project, cli):
    root = v1_project
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "v1"], check=True)
    (root / "data" / "README.md").write_text("uncommitted\n")  # user-owned: the upgrade never merges it
    before = (root / "configs" / "finetune.yaml").read_text()
    code, _, err = cli("upgrade", "-p", root)
    assert code == 1 and "uncommitted change" in err and "data/README.md" in err and "--force" in err
    assert (root / "configs" / "finetune.yaml").read_text() == before and _version(root) == "1"
    code, out, err = cli("upgrade", "--force", "-p", root)
    assert code == 0, out + err
    assert _version(root) == _latest()


def test_unknown_and_older_versions_are_refused(v1_project, cli):
    from lifecycle.upgrade.history import shipped

    code, _, err = cli("upgrade", "--to", "999", "-p", v1_project)
    assert code == 1 and "template version" in err and ", ".join(shipped().ordered()) in err
    rec = v1_project / ".lifecycle" / "template.yaml"
    rec.write_text(rec.read_text().replace("template_version: '1'", "template_version: '2'"))
    code, _, err = cli("upgrade", "--to", "1", "-p", v1_project)
    assert code == 1 and "not supported" in err


def test_user_owned_paths_are_never_touched_and_removed_files_are_reported(v1_project, tmp_path):
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import apply_plan, plan_upgrade
    from upgrade_matrix import SLUG, make_template

    root = v1_project
    (root / "data" / "README.md").write_text("our data lives in s3://bucket\n")
    (root / "runs" / "note.txt").write_text("keep\n")
    metrics = root / "src" / PKG / "metrics.py"
    metrics.write_text(metrics.read_text() + "\n# our tweak\n")
    old = make_template(tmp_path / "t1", [], "1")
    new = make_template(tmp_path / "t2", [], "2")
    (new / SLUG / "data" / "README.md").write_text("a new data README\n")
    (new / SLUG / "data" / "sample.jsonl").write_text("")
    (new / SLUG / "runs" / "README.md").write_text("runs\n")
    (new / SLUG / "src" / "{{cookiecutter.package}}" / "metrics.py").unlink()
    (new / SLUG / "src" / "{{cookiecutter.package}}" / "prompts.py").unlink()
    sample = (root / "data" / "sample.jsonl").read_bytes()
    plan = plan_upgrade(root, templates=TemplateSet({"1": old, "2": new}))
    by_path = {f.path: f for f in plan.files}
    assert by_path["data/README.md"].action == "user-owned" and by_path["runs/README.md"].action == "user-owned"
    assert by_path[f"src/{PKG}/prompts.py"].action == "removed"
    assert by_path[f"src/{PKG}/metrics.py"].conflict and "yours kept" in by_path[f"src/{PKG}/metrics.py"].detail
    apply_plan(plan)
    assert (root / "data" / "README.md").read_text() == "our data lives in s3://bucket\n"
    assert (root / "data" / "sample.jsonl").read_bytes() == sample
    assert not (root / "runs" / "README.md").exists() and (root / "runs" / "note.txt").is_file()
    assert metrics.is_file() and "# our tweak" in metrics.read_text()
    assert not (root / "src" / PKG / "prompts.py").exists()


def test_a_symlinked_file_is_not_written_through(v1_project, tmp_path):
    from lifecycle.upgrade.plan import apply_plan, plan_upgrade

    outside = tmp_path / "outside.yaml"
    ft = v1_project / "configs" / "finetune.yaml"
    outside.write_text(ft.read_text())
    ft.unlink()
    ft.symlink_to(outside)
    plan = plan_upgrade(v1_project)
    [f] = [f for f in plan.files if f.path == "configs/finetune.yaml"]
    assert f.conflict and "symlink" in f.detail
    apply_plan(plan)
    assert "report_to" not in outside.read_text()


def test_every_shipped_version_renders_valid_files_with_this_code(tmp_path):
    """Upgrades re-render old versions with today's code: each must still produce files that
    validate (render_project checks every config against its model), under its own version."""
    from lifecycle.scaffold.answers import Answers
    from lifecycle.scaffold.render import NewProject, render_project
    from lifecycle.scaffold.template import template_version
    from lifecycle.upgrade.history import shipped

    templates = shipped()
    assert templates.latest == template_version() and len(templates.versions) >= 2
    for version, folder in templates.versions.items():
        if folder.parent.name == "history":
            assert folder.name == version   # lifecycle/templates/history/<version>/ declares that version
        root = tmp_path / f"v{version}"
        render_project(NewProject(Answers(name="p", use_case="summarize chats", task="summarization"), root,
                                  template=folder))
        assert _version(root) == version


def test_an_untouched_file_is_taken_even_if_the_old_version_now_renders_differently(tmp_path):
    """The base is re-rendered with today's code; if that differs from what `lifecycle new` wrote,
    the hashes recorded at `new` still say the user never changed the file: no false conflict."""
    from lifecycle.scaffold.answers import Answers
    from lifecycle.scaffold.render import NewProject, render_project
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import apply_plan, plan_upgrade
    from upgrade_matrix import SLUG, make_template

    line = "stop: []              # extra stop sequences"
    old = make_template(tmp_path / "t1", [], "1")
    root = tmp_path / "p"
    render_project(NewProject(Answers(name="p", use_case="summarize chats", task="summarization"), root, template=old))
    gen = old / SLUG / "configs" / "generation.yaml"
    gen.write_text(gen.read_text().replace(line, "stop: []  # drifted rendering"))   # today's code renders it so
    new = make_template(tmp_path / "t2", [], "2")
    new_gen = new / SLUG / "configs" / "generation.yaml"
    new_gen.write_text(new_gen.read_text().replace(line, "stop: ['###']   # the template's new default"))
    plan = plan_upgrade(root, templates=TemplateSet({"1": old, "2": new}))
    [f] = [f for f in plan.files if f.path == "configs/generation.yaml"]
    assert f.action == "updated" and not plan.conflicts
    apply_plan(plan)
    assert "stop: ['###']" in (root / "configs" / "generation.yaml").read_text()
    record = yaml.safe_load((root / ".lifecycle" / "template.yaml").read_text())
    assert record["template_version"] == "2" and record["files"] == plan.template_files
