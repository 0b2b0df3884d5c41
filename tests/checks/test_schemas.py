"""Exported JSON Schemas are fresh, and the files projects reference exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lifecycle.config.schema_export import (
    MODELS, SCHEMA_DIR, build_schema, export_schemas, schema_file_name, stale_schemas,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(MODELS))
def test_exported_schema_is_not_stale(name):
    path = SCHEMA_DIR / schema_file_name(name)
    assert path.is_file(), f"missing {path}: run `python -m lifecycle.config.schema_export`"
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert exported == build_schema(name), (
        f"{path} is stale: run `python -m lifecycle.config.schema_export` and commit the result")


def test_staleness_is_detected(tmp_path):
    assert stale_schemas(tmp_path) == list(MODELS)  # nothing exported yet
    assert [p.name for p in export_schemas(tmp_path)] == [schema_file_name(n) for n in MODELS]
    assert stale_schemas(tmp_path) == []
    doc = json.loads((tmp_path / "eval.schema.json").read_text())
    doc["properties"].pop("seed")
    (tmp_path / "eval.schema.json").write_text(json.dumps(doc))
    (tmp_path / "model.schema.json").unlink()
    assert stale_schemas(tmp_path) == ["model", "eval"]


def test_schemas_forbid_unknown_keys_and_carry_descriptions():
    manifest = build_schema("lifecycle")
    assert manifest["additionalProperties"] is False
    assert manifest["$defs"]["Scope"]["additionalProperties"] is False
    assert "use case" in manifest["$defs"]["Scope"]["properties"]["use_case"]["description"]
    assert set(manifest["$defs"]["Task"]["enum"]) == {
        "summarization", "classification", "question_answering", "translation", "chat"}


def test_template_yaml_files_reference_exported_schemas():
    """Every `$schema=` line in the project template names a schema we export."""
    template = REPO / "lifecycle" / "templates" / "project"
    if not template.is_dir():
        pytest.skip("lifecycle/templates/project is not in this checkout")
    names = {schema_file_name(n) for n in MODELS}
    refs = []
    for f in template.rglob("*.yaml"):
        for m in re.finditer(r"yaml-language-server: \$schema=(\S+)", f.read_text(encoding="utf-8")):
            refs.append((f.name, Path(m.group(1)).name))
    assert refs, "the template's YAML files should reference their schemas"
    assert {name for _, name in refs} <= names, refs


def test_schema_command_prints_json(cli):
    code, out, err = cli("schema", "configs/eval.yaml")
    assert code == 0 and json.loads(out) == build_schema("eval")
    code, out, err = cli("schema", "evl")
    assert code == 2 and "did you mean 'eval'" in err


KIND_FILES = {"lifecycle": "lifecycle.yaml", "model": "configs/model.yaml", "prompt": "configs/prompt.yaml",
              "generation": "configs/generation.yaml", "eval": "configs/eval.yaml",
              "finetune": "configs/finetune.yaml"}


@pytest.mark.parametrize("task", ["summarization", "question_answering"])
def test_editors_see_the_same_verdict_as_validate(task, make_project):
    """A JSON Schema validator (what an editor runs) accepts the project's files and rejects an unknown
    key and a wrong type, as `lifecycle validate` does."""
    jsonschema = pytest.importorskip("jsonschema")
    from lifecycle.config.yaml_io import load_yaml

    root = make_project(task)
    for name, rel in KIND_FILES.items():
        schema = json.loads((SCHEMA_DIR / schema_file_name(name)).read_text(encoding="utf-8"))
        data = load_yaml(root / rel).data
        jsonschema.validate(data, schema)  # raises on any disagreement
        with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
            jsonschema.validate({**data, "not_a_key": 1}, schema)
    schema = json.loads((SCHEMA_DIR / "generation.schema.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"max_new_tokens": 0}, schema)
