"""Presets per task, including the course lab's FLAN-T5 dialogue prompts, merged under user fields."""

from __future__ import annotations

import pytest

from lifecycle.config.prompt import PromptConfig
from lifecycle.config.yaml_io import load_config
from lifecycle.errors import ConfigError, PromptError
from lifecycle.manifest import Task
from lifecycle.config.prompt import PRESETS, presets_for, resolve_prompt_config
from lifecycle.prompting import format_example

DIALOGUE = {"id": "d1", "dialogue": "#Person1#: Hi.\n#Person2#: Hello.", "summary": "They greet."}


def test_lab_prompts_render_exactly():
    # The lab's three zero-shot prompts, character for character.
    assert format_example(DIALOGUE, PromptConfig(preset="dialogue-none")) == DIALOGUE["dialogue"]
    assert format_example(DIALOGUE, PromptConfig(preset="dialogue-instruction")) == (
        f"Summarize the following conversation.\n\n{DIALOGUE['dialogue']}\n\nSummary: ")
    assert format_example(DIALOGUE, PromptConfig(preset="dialogue-flan")) == (
        f"Dialogue:\n\n{DIALOGUE['dialogue']}\n\nWhat was going on?\n")


def test_every_task_has_presets_and_every_preset_is_a_valid_config():
    for task in Task:
        assert presets_for(task), f"no preset for {task.value}"
    for name, preset in PRESETS.items():
        resolved = resolve_prompt_config(PromptConfig(preset=name))
        assert resolved.template == preset.fields["template"]
        assert resolved.target_field == preset.fields["target_field"]


def test_user_fields_override_the_preset_and_resolve_is_idempotent():
    cfg = PromptConfig(preset="dialogue-instruction", target_field="abstract", shots={"k": 2})
    resolved = resolve_prompt_config(cfg)
    assert resolved.target_field == "abstract"
    assert resolved.answer_prefix == "Summary: "
    assert resolved.shots.k == 2
    assert resolve_prompt_config(resolved) == resolved


def test_unknown_preset_suggests_the_closest():
    with pytest.raises(PromptError, match="unknown prompt preset 'dialogue-flna'; did you mean 'dialogue-flan'"):
        resolve_prompt_config(PromptConfig(preset="dialogue-flna"))


def test_yaml_without_template_or_preset_is_a_located_error(tmp_path):
    f = tmp_path / "prompt.yaml"
    f.write_text("answer_prefix: 'A: '\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="template and target_field required unless `preset` is set"):
        load_config(f, PromptConfig)
    f.write_text("preset: dialogue-flan\nshots:\n  k: 1\n", encoding="utf-8")
    assert resolve_prompt_config(load_config(f, PromptConfig)).answer_prefix == "\n"


def test_null_next_to_a_preset_keeps_the_presets_value():
    cfg = PromptConfig(preset="dialogue-flan", template=None, target_field=None, answer_prefix="\n\n")
    resolved = resolve_prompt_config(cfg)
    assert resolved.template == "Dialogue:\n\n{dialogue}\n\nWhat was going on?"
    assert resolved.target_field == "summary" and resolved.answer_prefix == "\n\n"


def test_empty_stop_sequence_is_rejected():
    with pytest.raises(ValueError, match="stop sequences must not be empty"):
        PromptConfig(preset="dialogue-flan", stop=["\n", ""])


def test_project_prompt_config_applies_the_preset(make_project):
    from lifecycle.project import Project

    root = make_project("summarization")
    (root / "configs" / "prompt.yaml").write_text("preset: dialogue-flan\nshots:\n  k: 2\n", encoding="utf-8")
    cfg = Project(root).prompt_config()
    assert cfg.template == "Dialogue:\n\n{dialogue}\n\nWhat was going on?" and cfg.shots.k == 2


def test_json_schema_states_preset_or_template():
    schema = PromptConfig.model_json_schema()
    assert {"required": ["preset"]} in schema["anyOf"] and {"required": ["template", "target_field"]} in schema["anyOf"]
    assert schema["additionalProperties"] is False
