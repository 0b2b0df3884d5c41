"""lifecycle.yaml and configs merged key by key (ruamel round trip), falling back to the line merge."""

from __future__ import annotations

import pytest
import yaml

from upgrade_matrix import SLUG, make_template

BASE = """\
# Our project. Header comment.
scope:
  use_case: TODO
  # summarization | chat.
  task: summarization
  hardware:
    device: cpu   # gpu | cpu
selection:
  model: null
  reason: null
"""


def _merge(ours, base, theirs):
    from lifecycle.upgrade.yaml_merge import merge_yaml

    return merge_yaml(ours, base, theirs)


def test_neighbouring_edits_merge_key_by_key_where_lines_conflict():
    from lifecycle.upgrade.merge import merge_text

    ours = BASE.replace("  use_case: TODO\n", "  use_case: 'summarize chats'  # agreed with ops\n")
    theirs = (BASE.replace("  use_case: TODO\n", "  use_case: TODO\n  goal: null  # what success means\n")
              .replace("  # summarization | chat.\n", "  # summarization | classification | chat.\n")
              .replace("device: cpu   # gpu | cpu", "device: cpu   # gpu | cpu | mps"))
    assert merge_text(ours, BASE, theirs, engine="python").conflicts == 1   # one hunk to a line merge
    m = _merge(ours, BASE, theirs)
    assert m.text is not None and not m.conflicts and not m.kept, m.reason
    assert m.text == theirs.replace("  use_case: TODO\n", "  use_case: 'summarize chats'  # agreed with ops\n")


def test_your_comment_on_a_line_and_the_templates_lines_after_it_both_stay():
    """Version 3 rewrote the section comment under evaluation.config; a team that commented that
    very line keeps its comment, and gets the template's new section comment."""
    base = "evaluation:\n  config: eval.yaml  # metric suite\n\n# INTEGRATE: later.\nintegration:\n  serving: null\n"
    theirs = base.replace("# INTEGRATE: later.\n", "# ALIGN: optional.\nalignment:\n  method: null  # dpo | ipo\n\n"
                                                    "# INTEGRATE: serve bench measures it.\n")
    ours = base.replace("# metric suite", "# we added exact match")
    m = _merge(ours, base, theirs)
    assert m.text == theirs.replace("# metric suite", "# we added exact match"), m.reason


def test_user_comments_order_and_quoting_survive_a_template_value_change():
    ours = ("# Our project. Header comment.\n# and a line of ours\n"
            + BASE.split("\n", 1)[1].replace("  model: null\n", "  reason: \"small enough\"  # why\n  model: null\n", 1)
            .replace("  reason: null\n", ""))
    theirs = BASE.replace("  task: summarization\n", "  task: chat\n").replace("  reason: null\n", "  reason: null\n  revision: main\n")
    m = _merge(ours, BASE, theirs)
    assert m.text is not None, m.reason
    assert m.text.startswith("# Our project. Header comment.\n# and a line of ours\n")
    assert "  task: chat\n" in m.text
    # revision follows reason in the template: it lands after reason, wherever you moved reason to
    assert m.text.endswith('selection:\n  reason: "small enough"  # why\n  revision: main\n  model: null\n')


def test_the_same_key_changed_differently_is_a_conflict():
    m = _merge(BASE.replace("TODO", "ours"), BASE, BASE.replace("TODO", "theirs"))
    assert m.text is None and m.conflicts == ["scope.use_case"] and "scope.use_case" in m.reason
    same = BASE.replace("TODO", "both")
    assert _merge(same.replace("cpu   #", "gpu   #"), BASE, same).text == same.replace("cpu   #", "gpu   #")


def test_removed_keys_go_only_when_untouched_and_deleted_keys_stay_deleted():
    theirs = BASE.replace("  reason: null\n", "").replace("    device: cpu   # gpu | cpu\n", "    device: gpu   # gpu | cpu\n")
    m = _merge(BASE.replace("  reason: null\n", "  reason: fits in 8 GiB\n"), BASE, theirs)
    assert m.text is not None and "reason: fits in 8 GiB" in m.text and "device: gpu" in m.text
    assert m.kept == ["selection.reason: removed by the template, changed by you: yours kept"]
    assert "reason" not in yaml.safe_load(_merge(BASE, BASE, theirs).text)["selection"]   # untouched: removed
    m = _merge(BASE.replace("  hardware:\n    device: cpu   # gpu | cpu\n", ""), BASE, theirs)
    assert "hardware" not in yaml.safe_load(m.text)["scope"]
    assert m.kept[-1] == "scope.hardware: deleted by you, changed by the template: left deleted"


@pytest.mark.parametrize("ours", ["scope: [unclosed\n", "{%- set p = 1 -%}\nscope: {}\n", "- a list\n"])
def test_what_is_not_a_yaml_mapping_is_left_to_the_line_merge(ours):
    m = _merge(ours, BASE, BASE.replace("TODO", "x"))
    assert m.text is None and m.reason


def test_a_layout_ruamel_would_rewrite_is_left_to_the_line_merge():
    ours = BASE.replace("  model: null\n", "  model:   null\n")   # ruamel writes `model: null`
    m = _merge(ours, BASE, BASE.replace("TODO", "x"))
    assert m.text is None and "byte for byte" in m.reason


def test_block_lists_keep_their_indentation():
    base = "metrics:\n  - name: rouge1  # overlap\n    higher_is_better: true\nseed: 1\n"
    ours = base.replace("rouge1", "rougeL")
    m = _merge(ours, base, base.replace("seed: 1", "seed: 2"))
    assert m.text == ours.replace("seed: 1", "seed: 2")


def _plan_file(plan, path):
    [f] = [f for f in plan.files if f.path == path]
    return f


def test_plan_reports_the_merge_used_and_keeps_a_removed_key_you_edited(v1_project, tmp_path):
    """(c) at the plan level: template 2 drops integration.notes and changes data.source's comment;
    the user filled notes in and changed the use case: notes kept and reported, the rest merged."""
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import apply_plan, plan_upgrade

    manifest = v1_project / "lifecycle.yaml"
    manifest.write_text(manifest.read_text().replace("  notes: null", "  notes: \"ask the ops team\"")
                        .replace("  use_case: summarize support chats for the next agent",
                                 "  use_case: summarize escalations  # narrower, after the pilot"))
    old = make_template(tmp_path / "t1", [], "1")
    new = make_template(tmp_path / "t2", [], "2")
    tpl = new / SLUG / "lifecycle.yaml"
    tpl.write_text(tpl.read_text().replace("  notes: {{ m.integration.notes | yaml }}\n", "")
                   .replace("  # Where the real data lives (hub id or path); see data/README.md.\n",
                            "  # Where the real data lives (a hub id or a path); see data/README.md.\n"))
    plan = plan_upgrade(v1_project, templates=TemplateSet({"1": old, "2": new}))
    f = _plan_file(plan, "lifecycle.yaml")
    assert f.merge == "yaml" and f.conflict and not f.markers
    assert "integration.notes: removed by the template, changed by you: yours kept" in f.detail
    assert any(line.startswith("  conflict (yaml) lifecycle.yaml: merged key by key") for line in plan.summary_lines())
    apply_plan(plan)
    text = manifest.read_text()
    assert 'notes: "ask the ops team"' in text and "use_case: summarize escalations  # narrower, after the pilot" in text
    assert "(a hub id or a path)" in text and "<<<<<<<" not in text


def test_a_both_sides_conflict_falls_back_to_markers_and_says_why(v1_project, tmp_path):
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import plan_upgrade

    gen = v1_project / "configs" / "generation.yaml"
    gen.write_text(gen.read_text().replace("max_new_tokens: 128", "max_new_tokens: 96"))
    old = make_template(tmp_path / "t1", [], "1")
    new = make_template(tmp_path / "t2", [], "2")
    tpl = new / SLUG / "configs" / "generation.yaml"
    tpl.write_text(tpl.read_text().replace("max_new_tokens: {{ p.spec.max_new_tokens | yaml }}", "max_new_tokens: 160"))
    f = _plan_file(plan_upgrade(v1_project, templates=TemplateSet({"1": old, "2": new})), "configs/generation.yaml")
    assert f.conflict and f.markers and f.merge == "text"
    assert "not merged as YAML: changed on both sides: max_new_tokens" in f.detail
    text = f.write.decode()
    assert "max_new_tokens: 96" in text and "max_new_tokens: 160" in text and "<<<<<<< yours" in text


def test_a_key_added_on_both_sides_is_never_resolved_by_last_wins(v1_project, tmp_path):
    """PyYAML reads a duplicated key as the last one; the merged file must be refused instead."""
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import plan_upgrade

    gen = v1_project / "configs" / "generation.yaml"
    gen.write_text(gen.read_text() + "length_penalty: 1.2\n")
    old = make_template(tmp_path / "t1", [], "1")
    new = make_template(tmp_path / "t2", [], "2")
    tpl = new / SLUG / "configs" / "generation.yaml"
    tpl.write_text(tpl.read_text().replace("max_new_tokens:", "length_penalty: 0.8\nmax_new_tokens:", 1))
    f = _plan_file(plan_upgrade(v1_project, templates=TemplateSet({"1": old, "2": new})), "configs/generation.yaml")
    assert f.conflict and "duplicate key" in f.detail and "length_penalty" in f.detail


def test_a_file_you_broke_goes_to_the_line_merge_and_is_reported(v1_project, tmp_path):
    from lifecycle.upgrade.history import TemplateSet
    from lifecycle.upgrade.plan import plan_upgrade

    gen = v1_project / "configs" / "generation.yaml"
    gen.write_text(gen.read_text().replace("stop: []", "stop: [\"###\""))   # unclosed: not YAML any more
    old = make_template(tmp_path / "t1", [], "1")
    new = make_template(tmp_path / "t2", [], "2")
    tpl = new / SLUG / "configs" / "generation.yaml"
    tpl.write_text(tpl.read_text().replace("max_batch_size: 64", "max_batch_size: 32"))
    f = _plan_file(plan_upgrade(v1_project, templates=TemplateSet({"1": old, "2": new})), "configs/generation.yaml")
    assert f.conflict and f.merge == "text" and "not merged as YAML: your file is not valid YAML (line" in f.detail
    text = f.write.decode()
    assert 'stop: ["###"' in text and "max_batch_size: 32" in text   # both sides there, for you to fix
