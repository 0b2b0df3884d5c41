"""`lifecycle --help` and `lifecycle new --no-input` never import the heavy ML libraries
(and --help does not even import cookiecutter)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["torch", "transformers", "peft", "evaluate", "datasets", "accelerate", "matplotlib"]

RUNNER = """
import json, sys
sys.argv = ["lifecycle", *json.loads(sys.argv[1])]
from lifecycle.cli.main import run
try:
    run()
except SystemExit as exit:
    code = exit.code
loaded = sorted({name.split(".")[0] for name in sys.modules})
sys.__stdout__.write("\\nMODULES " + json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def loaded_modules(args, cwd) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    line = next(l for l in proc.stdout.splitlines() if l.startswith("MODULES "))
    result = json.loads(line[len("MODULES "):])
    return result["code"], set(result["loaded"])


@pytest.mark.parametrize("args", [["--help"], ["new", "--help"]])
def test_help_is_light(tmp_path, args):
    code, loaded = loaded_modules(args, tmp_path)
    assert code == 0
    assert not loaded & set(HEAVY + ["cookiecutter"]), sorted(loaded & set(HEAVY + ["cookiecutter"]))
    assert "typer" in loaded  # the check sees real imports


def test_new_no_input_is_light(tmp_path):
    code, loaded = loaded_modules(["new", "demo", "--no-input"], tmp_path)
    assert code == 0 and (tmp_path / "demo" / "lifecycle.yaml").is_file()
    assert "cookiecutter" in loaded and "jinja2" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
