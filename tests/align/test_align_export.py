"""`lifecycle align export --to trl|axolotl|llama-factory`: the preference data and a DPO config
in the form each tool documents, headed by the command that runs it. TRL is installed here, so
its config is parsed by TRL's own argument classes (unknown keys refused) and its data folder
loaded the way `trl dpo` loads `dataset_name`."""

from __future__ import annotations

import json

import pytest
import yaml

from align_data import dialogues

# Field names from the tools' documentation (their example DPO configs and config references):
# axolotl docs/rlhf.qmd + docs/config-reference; LLaMA-Factory examples/train_lora/llama3_lora_dpo.yaml
# and data/README.md (preference datasets: "ranking": true, columns prompt/query/chosen/rejected).
AXOLOTL_KEYS = {"base_model", "rl", "rl_beta", "datasets", "test_datasets", "output_dir", "sequence_len",
                "micro_batch_size", "gradient_accumulation_steps", "num_epochs", "max_steps", "learning_rate",
                "logging_steps", "save_steps", "seed", "adapter", "lora_r", "lora_alpha", "lora_dropout",
                "lora_target_modules", "lora_target_linear", "bf16", "fp16"}
LLAMA_FACTORY_KEYS = {"model_name_or_path", "stage", "do_train", "finetuning_type", "pref_beta", "pref_loss",
                      "dataset", "eval_dataset", "dataset_dir", "template", "cutoff_len", "output_dir",
                      "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate",
                      "num_train_epochs", "max_steps", "logging_steps", "save_steps", "seed", "lora_rank",
                      "lora_alpha", "lora_dropout", "lora_target", "bf16", "fp16"}


@pytest.fixture
def project(align_project, align_gpt2):
    root = align_project(align_gpt2, n_prompts=4)
    rows = [{"prompt": r["dialogue"], "chosen": r["summary"], "rejected": "Thanks."} for r in dialogues(12, seed=5)]
    out = root / "data" / "preferences"
    out.mkdir(parents=True)
    (out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:9]))
    (out / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[9:]))
    (root / "configs" / "align.yaml").write_text(yaml.safe_dump({"dpo": {"loss": "ipo", "beta": 0.2, "training": {
        "learning_rate": 1e-4, "batch_size": 2, "max_steps": 7, "mixed_precision": "no"}}}))
    return root, rows


def _head(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    return first


def test_trl_export_parses_with_trl_and_loads_as_trl_does(project, cli):
    from datasets import load_dataset
    from transformers import HfArgumentParser
    from trl import DPOConfig, ModelConfig, ScriptArguments

    root, rows = project
    code, out, err = cli("align", "export", "--to", "trl", "--project", root)
    assert code == 0, err
    folder = root / "exports" / "align-trl"
    assert _head(folder / "dpo.yaml") == "# Run it: trl dpo --config dpo.yaml   (from this folder)"
    script, dpo, model = HfArgumentParser((ScriptArguments, DPOConfig, ModelConfig)).parse_yaml_file(
        str(folder / "dpo.yaml"), allow_extra_keys=False)  # an unknown key raises
    assert dpo.beta == 0.2 and dpo.loss_type == ["ipo"] and dpo.max_steps == 7 and dpo.per_device_train_batch_size == 2
    assert model.use_peft and model.lora_r == 32
    data = load_dataset(str(folder / script.dataset_name))
    assert data[script.dataset_train_split].num_rows == 9 and data[script.dataset_test_split].num_rows == 3
    assert data["train"][0] == {k: rows[0][k] for k in ("prompt", "chosen", "rejected")}
    # again: refused without --overwrite, replaced with it; a folder we did not write is never replaced
    assert cli("align", "export", "--to", "trl", "--project", root)[0] != 0
    assert cli("align", "export", "--to", "trl", "--overwrite", "--project", root)[0] == 0
    code, _, err = cli("align", "export", "--to", "trl", "--out", "data", "--overwrite", "--project", root)
    assert code != 0 and "refusing" in err and (root / "data" / "preferences" / "train.jsonl").is_file()


def test_axolotl_and_llama_factory_exports_use_their_documented_fields(project, cli):
    root, rows = project
    assert cli("align", "export", "--to", "axolotl", "--project", root)[0] == 0
    ax = root / "exports" / "align-axolotl"
    assert _head(ax / "dpo.yaml") == "# Run it: axolotl train dpo.yaml   (from this folder)"
    cfg = yaml.safe_load((ax / "dpo.yaml").read_text())
    assert set(cfg) <= AXOLOTL_KEYS and cfg["rl"] == "ipo" and cfg["rl_beta"] == 0.2 and cfg["adapter"] == "lora"
    ds = cfg["datasets"][0]
    assert ds["type"] == "user_defined.default" and ds["ds_type"] == "json"
    lines = [json.loads(x) for x in (ax / ds["path"]).read_text().splitlines()]
    assert [set(x) for x in lines] == [{"prompt", "chosen", "rejected"}] * 9  # user_defined.default's fields

    assert cli("align", "export", "--to", "llama-factory", "--project", root)[0] == 0
    lf = root / "exports" / "align-llama-factory"
    assert _head(lf / "dpo.yaml") == "# Run it: llamafactory-cli train dpo.yaml   (from this folder)"
    cfg = yaml.safe_load((lf / "dpo.yaml").read_text())
    assert set(cfg) <= LLAMA_FACTORY_KEYS and cfg["stage"] == "dpo" and cfg["pref_loss"] == "ipo"
    info = json.loads((lf / cfg["dataset_dir"] / "dataset_info.json").read_text())
    entry = info[cfg["dataset"]]
    assert entry["ranking"] is True and entry["columns"] == {"prompt": "instruction", "query": "input",
                                                             "chosen": "chosen", "rejected": "rejected"}
    data = json.loads((lf / cfg["dataset_dir"] / entry["file_name"]).read_text())
    assert data[0] == {"instruction": rows[0]["prompt"], "input": "", "chosen": rows[0]["chosen"],
                       "rejected": rows[0]["rejected"]}


def test_export_bad_input_is_one_line(project, cli):
    root, _ = project
    code, _, err = cli("align", "export", "--to", "trll", "--project", root)
    assert code != 0 and "trl" in err and "Traceback" not in err
    (root / "data" / "preferences" / "train.jsonl").write_text('{"prompt": "p", "chosen": "x", "rejected": "x"}\n')
    code, _, err = cli("align", "export", "--to", "axolotl", "--project", root)
    assert code != 0 and "train.jsonl:1" in err and not (root / "exports" / "align-axolotl").exists()
