"""No code from a model folder runs without consent: remote code needs trust_remote_code and (for
a hub id) a pinned commit; pickle weights need allow_pickle and are read with weights_only=True."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from hostile_helpers import one_error


@pytest.fixture(scope="module")
def pickled_models(tiny_t5, tmp_path_factory):
    """(plain pickle folder, malicious pickle folder, marker the payload would create): tiny T5 with
    its weights saved as pytorch_model.bin (the pre-safetensors format), and one whose
    pytorch_model.bin holds a __reduce__ payload."""
    import torch
    from safetensors.torch import load_file

    root = tmp_path_factory.mktemp("pickles")
    plain = root / "plain"
    shutil.copytree(tiny_t5, plain)
    state = load_file(plain / "model.safetensors")
    (plain / "model.safetensors").unlink()
    torch.save(state, plain / "pytorch_model.bin")
    evil = root / "evil"
    shutil.copytree(plain, evil)
    marker = root / "PAYLOAD_RAN"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"shared.weight": Payload()}, evil / "pytorch_model.bin")
    return plain, evil, marker


def _project(tmp_path, model, **extra):
    from lifecycle.testing.project import write_project

    from hostile_helpers import FIXTURES

    root = write_project(tmp_path / "p", "summarization", str(model), FIXTURES / "summarization.jsonl")
    import yaml

    cfg = root / "configs" / "model.yaml"
    cfg.write_text(yaml.safe_dump({**yaml.safe_load(cfg.read_text()), **extra}))
    return root


def test_pickle_only_folder_is_refused_without_opt_in(cli, tmp_path, pickled_models):
    plain, _, _ = pickled_models
    root = _project(tmp_path, plain)
    code, _out, err = cli("generate", "--limit", "1", "--no-progress", "--project", root)
    line = one_error(err)
    assert code != 0 and "only pickle weights (pytorch_model.bin)" in line and "allow_pickle: true" in err


def test_opted_in_pickle_loads_with_weights_only(pickled_models):
    from lifecycle.loading import load_model

    plain, _, _ = pickled_models
    loaded = load_model(str(plain), allow_pickle=True, device="cpu")
    assert loaded.describe()["code"]["pickle_weights"] == ["pytorch_model.bin"]
    assert loaded.model.shared.weight.abs().sum() > 0


def test_malicious_pickle_is_a_one_line_refusal_and_never_runs(cli, tmp_path, pickled_models):
    _, evil, marker = pickled_models
    root = _project(tmp_path, evil, allow_pickle=True)
    code, _out, err = cli("generate", "--limit", "1", "--no-progress", "--project", root)
    line = one_error(err)
    assert code != 0 and "refused the pickle weights" in line and "posix.system" in line
    assert "weights_only=False" not in err
    assert not marker.exists()
    root2 = _project(tmp_path / "b", evil)  # and without the opt-in it is never even opened
    code, _out, err = cli("generate", "--limit", "1", "--no-progress", "--project", root2)
    assert code != 0 and "only pickle weights" in one_error(err) and not marker.exists()


@pytest.fixture
def remote_code_folder(tiny_t5, tmp_path):
    """A model folder whose config.json asks for its own code; importing that code would write a marker."""
    folder = tmp_path / "custom"
    shutil.copytree(tiny_t5, folder)
    marker = tmp_path / "CODE_RAN"
    (folder / "configuration_custom.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["auto_map"] = {"AutoConfig": "configuration_custom.CustomConfig"}
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder, marker


def test_remote_code_is_refused_naming_its_files(cli, tmp_path, remote_code_folder):
    folder, marker = remote_code_folder
    root = _project(tmp_path, folder)
    code, _out, err = cli("prompt", "render", "--project", root)
    line = one_error(err)
    assert code != 0 and "configuration_custom.py" in line and "remote code is off" in line
    assert not marker.exists()


def test_trusted_local_code_is_announced(remote_code_folder, capsys):
    from lifecycle.loading import check_remote_code

    folder, marker = remote_code_folder
    assert check_remote_code(str(folder), None, True) == ["configuration_custom.py"]
    assert "configuration_custom.py" in capsys.readouterr().err
    assert not marker.exists()  # the check reads file names, it imports nothing


@pytest.mark.parametrize("revision", [None, "main", "v1.0", "abc123"])
def test_hub_remote_code_needs_a_pinned_commit(cli, tmp_path, revision):
    extra = {"trust_remote_code": True} | ({"revision": revision} if revision else {})
    root = _project(tmp_path, "some-org/custom-model", **extra)
    code, _out, err = cli("prompt", "render", "--project", root)
    line = one_error(err)
    assert code != 0 and "remote code runs only from a pinned commit" in line
    assert "40-character commit hash" in err


def test_a_pinned_commit_passes_the_consent_check():
    from lifecycle.loading import check_remote_code

    assert check_remote_code("some-org/custom-model", "0123456789abcdef0123456789abcdef01234567", True) == []
