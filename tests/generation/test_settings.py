"""configs/generation.yaml: presets, ranges, conversion to a strict-valid GenerationConfig."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lifecycle.config.generation import PRESET_DEFAULTS, GenerationSettings
from lifecycle.config.yaml_io import load_config
from lifecycle.errors import ConfigError
from lifecycle.generation.decoding import to_generation_config

PRESET_CASES = [
    {"preset": "greedy"},
    {"preset": "greedy", "max_new_tokens": 50, "min_new_tokens": 50, "repetition_penalty": 1.2, "no_repeat_ngram_size": 3},
    {"preset": "sampling"},
    {"preset": "sampling", "temperature": 0.7, "top_k": 40, "top_p": 0.9},
    {"preset": "sampling", "temperature": 2.0},
    {"preset": "beam"},
    {"preset": "beam", "num_beams": 6, "length_penalty": 0.5, "early_stopping": False},
    {"preset": "beam", "do_sample": True, "top_p": 0.8},
]


@pytest.mark.parametrize("fields", PRESET_CASES, ids=lambda f: "-".join(f"{k}={v}" for k, v in f.items()))
def test_every_preset_gives_a_strict_valid_generation_config(fields, loaded_t5):
    settings = GenerationSettings(**fields)
    config = to_generation_config(settings, loaded_t5.model, loaded_t5.tokenizer)
    config.validate(strict=True)  # raises on any inconsistency
    resolved = settings.resolved()
    assert config.do_sample is bool(resolved.do_sample)
    assert config.num_beams == resolved.num_beams
    assert config.max_new_tokens == settings.max_new_tokens
    for name, value in fields.items():
        if name != "preset":
            assert getattr(config, name) == value, name
    assert config.pad_token_id == loaded_t5.tokenizer.pad_token_id
    assert config.eos_token_id == loaded_t5.tokenizer.eos_token_id


def test_resolved_fills_each_presets_defaults():
    for preset, defaults in PRESET_DEFAULTS.items():
        resolved = GenerationSettings(preset=preset).resolved()
        for name, value in defaults.items():
            assert getattr(resolved, name) == value
    assert GenerationSettings(preset="sampling", temperature=0.3).resolved().temperature == 0.3


@pytest.mark.parametrize("fields, word", [
    ({"max_new_tokens": 0}, "max_new_tokens"),
    ({"max_new_tokens": -5}, "max_new_tokens"),
    ({"preset": "sampling", "top_p": 0}, "top_p"),
    ({"preset": "sampling", "top_p": 1.5}, "top_p"),
    ({"preset": "sampling", "temperature": 0}, "temperature"),
    ({"preset": "sampling", "temperature": -1}, "temperature"),
    ({"preset": "sampling", "top_k": 0}, "top_k"),
    ({"preset": "beam", "num_beams": 0}, "num_beams"),
    ({"preset": "beam", "num_beams": 1}, "num_beams"),
    ({"repetition_penalty": 0}, "repetition_penalty"),
    ({"seed": -1}, "seed"),
    ({"batch_tokens": 0}, "batch_tokens"),
    ({"min_new_tokens": 60, "max_new_tokens": 50}, "min_new_tokens"),
    ({"preset": "nucleus"}, "preset"),
    ({"temperature": 0.5}, "temperature"),          # greedy: sampling-only field
    ({"preset": "sampling", "num_beams": 4}, "num_beams"),
    ({"preset": "greedy", "do_sample": True}, "do_sample"),
    ({"preset": "sampling", "do_sample": False}, "do_sample"),
    ({"preset": "beam", "temperature": 0.5}, "temperature"),
    ({"stop": [""]}, "stop"),
    ({"tempreature": 0.5}, "tempreature"),
])
def test_out_of_range_or_contradictory_values_are_refused(fields, word):
    with pytest.raises(ValidationError) as info:
        GenerationSettings(**fields)
    assert word in str(info.value)


def test_a_bad_value_in_the_file_names_file_line_and_field(tmp_path):
    f = tmp_path / "generation.yaml"
    f.write_text("# Used by: lifecycle generate\npreset: sampling\nmax_new_tokens: 50\ntop_p: 1.5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(f, GenerationSettings)
    msg = str(info.value)
    assert f"{f}:4" in msg and "top_p" in msg


def test_with_preset_keeps_common_fields_and_drops_the_old_presets():
    s = GenerationSettings(preset="sampling", temperature=0.4, top_k=5, max_new_tokens=33, seed=7, stop=["\n"])
    g = s.with_preset("greedy")
    assert (g.preset, g.temperature, g.top_k, g.max_new_tokens, g.seed, g.stop) == ("greedy", None, None, 33, 7, ["\n"])
    b = GenerationSettings(max_new_tokens=12).with_preset("beam").resolved()
    assert (b.num_beams, b.max_new_tokens) == (4, 12)


def test_template_generation_yaml_is_valid():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "lifecycle" / "templates" / "project"
    files = list(root.glob("*/configs/generation.yaml"))
    if not files:
        pytest.skip("project template not written yet")
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert "# Used by: lifecycle generate" in text
        if "{{" in text or "{%" in text:
            continue  # a Jinja template: the scaffold tests render it and validate the result
        load_config(f, GenerationSettings)
