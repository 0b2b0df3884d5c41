{%- set p = project(cookiecutter) -%}
"""Every sample example formats into a prompt with configs/prompt.yaml."""

from pathlib import Path

import pytest

from {{ p.manifest.project.package }}.data import INPUT_FIELDS, load_examples
from {{ p.manifest.project.package }}.prompts import format_prompt, format_shot, load_prompt_config, placeholders

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config():
    return load_prompt_config(ROOT / "configs" / "prompt.yaml")


def test_template_uses_only_input_fields(config):
    used = placeholders(config["template"])
    assert used, "the template should read at least one field"
    assert set(used) <= set(INPUT_FIELDS)


def test_every_example_formats(config):
    for example in load_examples(ROOT / "data" / "sample.jsonl"):
        prompt = format_prompt(example, config["template"], config.get("answer_prefix", ""))
        for field in placeholders(config["template"]):
            assert example[field].strip() in prompt


def test_a_shot_ends_with_its_answer(config):
    example = load_examples(ROOT / "data" / "sample.jsonl")[0]
    shot = format_shot(example, config["template"], config["target_field"])
    assert shot.endswith(example[config["target_field"]])


def test_missing_field_is_an_error(config):
    with pytest.raises(KeyError):
        format_prompt({"id": "x"}, config["template"])
