"""lifecycle.yaml and every file in configs/ parse as YAML and name the command that uses them.
(`lifecycle validate` checks them against their schemas.)"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def test_all_configs_exist():
    names = {p.name for p in CONFIGS}
    assert {"model.yaml", "prompt.yaml", "generation.yaml", "eval.yaml", "finetune.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_parses_and_names_its_command(path):
    text = path.read_text(encoding="utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    assert "# Used by: lifecycle " in text


def test_manifest_parses():
    manifest = yaml.safe_load((ROOT / "lifecycle.yaml").read_text(encoding="utf-8"))
    assert manifest["project"]["name"]
    assert manifest["scope"]["success"]["metric"]


def test_eval_targets_match_the_scope():
    manifest = yaml.safe_load((ROOT / "lifecycle.yaml").read_text(encoding="utf-8"))
    evaluation = yaml.safe_load((ROOT / "configs" / "eval.yaml").read_text(encoding="utf-8"))
    success = manifest["scope"]["success"]
    assert {"metric": success["metric"], "value": success["target"],
            "higher_is_better": success["higher_is_better"]} in evaluation["targets"]
    assert success["metric"] in [m["name"] for m in evaluation["metrics"]]
