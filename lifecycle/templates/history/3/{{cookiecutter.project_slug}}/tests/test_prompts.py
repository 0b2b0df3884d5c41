{%- set p = project(cookiecutter) -%}
"""The examples become prompts the way the tool builds them (lifecycle.prompting), after this
project's own `prepare` (configs/prompt.yaml `preprocess`)."""

from pathlib import Path

from lifecycle.project import Project
from lifecycle.prompting import format_example, template_fields
from lifecycle.prompting.project_inputs import load_prompt_config, load_prompt_examples

from {{ p.manifest.project.package }}.prompts import prepare

ROOT = Path(__file__).resolve().parents[1]


def test_prepare_trims_and_keeps_every_field():
    example = {"id": "x1", {{ p.spec.input_fields[0] | json_line }}: "  two   spaces \nand a line  ", "n": 3}
    out = prepare(dict(example))
    assert out == {"id": "x1", {{ p.spec.input_fields[0] | json_line }}: "two spaces \nand a line", "n": 3}


def test_every_sample_example_becomes_a_prompt():
    project = Project(ROOT)
    cfg = load_prompt_config(project)
    examples, _ = load_prompt_examples(project, cfg, ROOT / "data" / "sample.jsonl")
    fields = template_fields(cfg.template)
    assert fields, "the template should read at least one field"
    for example in examples:
        prompt = format_example(example, cfg)
        for field in fields:
            assert prepare(example)[field] in prompt
