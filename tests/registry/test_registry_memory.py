"""One memory question: `lifecycle select`, `lifecycle check select`, `models estimate --project`
and the fine-tune pre-flight ask `MemoryRequest.for_project` and give the same number; one memory
string parser, so `80GB` means the same in `new` and `select`."""

from __future__ import annotations

import json

import pytest

MODEL = "google/flan-t5-small"  # a catalog model: estimated from its config, offline


def test_the_four_commands_give_one_number(make_project, cli):
    from lifecycle.catalog.memory import MemoryRequest
    from lifecycle.checks import run_checks
    from lifecycle.finetune.resources import estimate_request, preflight_request
    from lifecycle.project import Project

    root = make_project(model=MODEL, adaptation="peft", gpu_memory_gib=8.0)
    project = Project(root)
    request = MemoryRequest.for_project(project)
    ft = project.finetune_config()
    # derived once: the adaptation's method, finetune.yaml's batch, rank and dropout, the data's lengths
    assert (request.method, request.dtype, request.batch_size, request.lora_r, request.lora_dropout) == (
        "lora", "bf16", ft.training.batch_size, ft.peft.r, ft.peft.dropout)
    assert request.target_len and request.seq_len >= 128

    code, out, err = cli("select", "--json", "--candidate", MODEL, "--project", root)
    assert code == 0, err
    selected = json.loads(out)
    by_select = selected["candidates"][0]["memory_bytes"]
    assert selected["memory_request"]["lora_r"] == ft.peft.r

    check = {r.id: r for r in run_checks(root, "select")}["select.memory"]
    by_check = check.evidence["estimate_bytes"]

    code, out, err = cli("models", "estimate", "--project", root, "--json")
    assert code == 0, err
    by_estimate = json.loads(out)["total_bytes"]

    by_preflight = estimate_request(MODEL, preflight_request(project))["total_bytes"]
    assert by_select == by_check == by_estimate == by_preflight
    assert check.status == "pass" and f"(batch {ft.training.batch_size}, " in check.message


def test_qlora_is_int4_once_for_every_command(make_project):
    from lifecycle.catalog.memory import MemoryRequest
    from lifecycle.project import Project

    root = make_project(model=MODEL, adaptation="peft", gpu_memory_gib=8.0)
    ft_yaml = root / "configs" / "finetune.yaml"
    ft_yaml.write_text(ft_yaml.read_text(encoding="utf-8").replace("method: lora", "method: qlora"), encoding="utf-8")
    request = MemoryRequest.for_project(Project(root))
    assert (request.method, request.dtype) == ("qlora", "int4")
    assert MemoryRequest.for_project(Project(root), {"method": "lora"}).dtype == "bf16"
    cpu = MemoryRequest.for_project(Project(make_project(name="cpu", model=MODEL, gpu_memory_gib=None)))
    assert (cpu.method, cpu.dtype, cpu.device, cpu.batch_size) == ("inference", "fp32", "cpu", 1)


@pytest.mark.parametrize("text", ["80GB", "80GiB", "80 gb", "80"])
def test_80gb_means_the_same_in_new_and_select(text):
    from lifecycle.catalog.selection import Budget, parse_memory
    from lifecycle.manifest import Hardware
    from lifecycle.scaffold.answers import parse_memory_gib

    assert parse_memory_gib(text) == 80.0
    assert parse_memory(text) == 80 * 1024**3
    assert Budget.for_hardware(Hardware(), gpu_memory=text).bytes == 80 * 1024**3


def test_select_budget_from_the_flag(make_project, cli):
    root = make_project(model=MODEL, gpu_memory_gib=8.0)
    code, out, err = cli("select", "--json", "--candidate", MODEL, "--gpu-memory", "80GB", "--project", root)
    assert code == 0, err
    assert json.loads(out)["budget_bytes"] == 80 * 1024**3
