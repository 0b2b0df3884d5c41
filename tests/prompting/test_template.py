"""Templates: fields from the data, rendered as data; every bad template or example is one clear error."""

from __future__ import annotations

import pytest

from lifecycle.config.prompt import PromptConfig
from lifecycle.errors import PromptError
from lifecycle.prompt_template import render_template, template_fields
from lifecycle.prompting import format_example, format_target


def cfg(**kw) -> PromptConfig:
    base = {"template": "Summarize:\n{dialogue}\n", "answer_prefix": "Summary: ", "target_field": "summary"}
    return PromptConfig(**{**base, **kw})


def test_fields_in_order_of_first_use_and_literal_braces():
    assert template_fields("Q: {question} C: {context} again {question}") == ["question", "context"]
    assert render_template("{{json}} {a}", {"a": 1}) == "{json} 1"


def test_format_example_is_template_plus_answer_prefix(examples):
    ex = examples[0]
    assert format_example(ex, cfg()) == f"Summarize:\n{ex['dialogue']}\nSummary: "
    assert format_target(ex, cfg()) == ex["summary"]


def test_values_are_data_not_templates():
    # A value that looks like a placeholder is inserted literally, never re-expanded.
    out = format_example({"id": "x", "dialogue": "{summary} {0} {{"}, cfg())
    assert "{summary} {0} {{" in out


@pytest.mark.parametrize("template,needle", [
    ("{a.__class__}", "not a field name"),
    ("{a[0]}", "not a field name"),
    ("{}", "not a field name"),
    ("{a!r}", "format spec or conversion"),
    ("{a:>10}", "format spec or conversion"),
    ("open { brace", "expected '}'"),
    ("close } brace", "Single '}'"),
])
def test_bad_template_syntax(template, needle):
    with pytest.raises(PromptError, match="prompt template") as err:
        format_example({"id": "x", "a": "v"}, cfg(template=template))
    assert needle in str(err.value)


def test_field_the_data_lacks_names_it_and_the_available_ones(examples):
    with pytest.raises(PromptError) as err:
        format_example(examples[0], cfg(template="{conversation}"))
    msg = str(err.value)
    assert "'conversation'" in msg and "s1" in msg
    assert "available fields: dialogue, id, summary" in msg


def test_missing_target_field(examples):
    with pytest.raises(PromptError, match="target_field 'answer' is not in example 's1'"):
        format_target(examples[0], cfg(target_field="answer"))


@pytest.mark.parametrize("value", ["", "   \n", None])
def test_empty_input_is_an_error(value):
    with pytest.raises(PromptError, match="example 'e1': field 'dialogue' is empty"):
        format_example({"id": "e1", "dialogue": value}, cfg())


def test_non_string_values_are_rendered_as_text():
    c = cfg(template="n={n}", target_field="label")
    assert format_example({"id": "1", "n": 3}, c) == "n=3Summary: "
    assert format_target({"id": "1", "n": 3, "label": 0}, c) == "0"
