"""Every catalog entry: its stored parameter count is what its stored config builds (all of them)."""

from __future__ import annotations

import pytest

from lifecycle.catalog import load_catalog

ENTRIES = list(load_catalog())


def test_catalog_is_broad():
    assert len(ENTRIES) >= 20
    archs = {e.architecture for e in ENTRIES}
    assert archs == {"encoder", "encoder-decoder", "decoder"}
    ids = [n.lower() for e in ENTRIES for n in e.names]
    assert len(ids) == len(set(ids)), "an id or alias appears twice"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_stored_count_matches_meta_build(entry):
    from lifecycle.catalog.params import count_parameters

    assert count_parameters(entry.id) == entry.parameters


@pytest.mark.parametrize("model_id, expected", [
    # published exact figures (safetensors totals on the hub) that pin down tying and head handling
    ("google/flan-t5-base", 247_577_856),  # untied lm_head, though transformers 5 ties T5 from a bare config
    ("gpt2", 124_439_808),
    ("meta-llama/Llama-3.2-1B-Instruct", 1_235_814_400),
    ("meta-llama/Llama-3.1-8B-Instruct", 8_030_261_248),
    ("Qwen/Qwen2.5-0.5B-Instruct", 494_032_768),
])
def test_known_published_counts(model_id, expected):
    from lifecycle.catalog import lookup

    assert lookup(model_id).parameters == expected


def test_every_fact_has_a_source():
    for e in ENTRIES:
        for fact, where in e.source.model_dump().items():
            assert where.strip(), f"{e.id}: no source for {fact}"
        assert e.tasks, e.id


def test_licences_are_consistent():
    # non-commercial licences must not be marked commercial
    for e in ENTRIES:
        if e.licence in ("qwen-research", "cc-by-nc-4.0"):
            assert not e.commercial_use, e.id
    assert not [e for e in ENTRIES if e.id == "Qwen/Qwen2.5-3B-Instruct"][0].commercial_use


def test_lookup_aliases_and_unknown():
    from lifecycle.catalog import get_entry, lookup
    from lifecycle.errors import CatalogError

    assert lookup("gpt2").id == "openai-community/gpt2"
    assert lookup("GOOGLE/FLAN-T5-BASE").id == "google/flan-t5-base"
    assert lookup("no/such-model") is None
    with pytest.raises(CatalogError, match="did you mean 'google/flan-t5-base'"):
        get_entry("google/flan-t5-bsae")


def test_catalog_file_is_validated(tmp_path, monkeypatch):
    """A wrong key in the data file is a located ConfigError, not a silent default."""
    import lifecycle.catalog as catalog
    from lifecycle.errors import ConfigError

    bad = tmp_path / "models.yaml"
    text = catalog.CATALOG_FILE.read_text(encoding="utf-8").replace("    context_window: 512\n", "    context_windw: 512\n", 1)
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setattr(catalog, "CATALOG_FILE", bad)
    catalog.load_catalog.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"models.yaml:\d+: .*context_windw: unknown key"):
            catalog.load_catalog()
    finally:
        monkeypatch.undo()
        catalog.load_catalog.cache_clear()


def test_count_from_dims_and_config_objects():
    """count_parameters takes catalog-style dims or a transformers config, T5 v1.1 untied head included."""
    from lifecycle.catalog import lookup
    from lifecycle.catalog.params import config_from_dims, count_parameters

    dims = lookup("google/flan-t5-small").config
    assert count_parameters(dict(dims)) == 76_961_152
    assert count_parameters(config_from_dims(dims)) == 76_961_152
    assert count_parameters(config_from_dims(lookup("google-t5/t5-base").config)) == 222_903_552


@pytest.mark.parametrize("fixture", ["tiny_t5", "tiny_gpt2", "tiny_bert"])
def test_local_folder_count_matches_the_loaded_model(request, fixture):
    """A model folder is counted from its config.json as from_pretrained would load it."""
    import transformers

    from lifecycle.catalog.params import count_parameters, resolve_spec

    folder = str(request.getfixturevalue(fixture))
    spec = resolve_spec(folder)
    loaded = getattr(transformers, spec.model_class).from_pretrained(folder)
    assert count_parameters(folder) == loaded.num_parameters()
