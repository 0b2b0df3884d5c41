"""The project commands have worked examples in --help and stay light: no torch/transformers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "peft", "evaluate", "datasets", "accelerate", "cookiecutter", "matplotlib")


@pytest.mark.parametrize("cmd", [["validate"], ["check"], ["status"], ["schema"], ["eval", "init"]])
def test_help_has_examples(cmd, cli):
    code, out, _ = cli(*cmd, "--help")
    assert code == 0 and "Examples:" in out and f"lifecycle {' '.join(cmd)}" in out


def test_status_check_and_validate_do_not_import_heavy_libraries(make_project):
    """The board on a project with a hub model id (not measured: cached only) loads nothing heavy."""
    root = make_project()
    code = (
        "import sys, json\n"
        "from lifecycle.cli.main import run\n"
        "for argv in (['status', '--project', sys.argv[1]], ['validate', '--project', sys.argv[1]],\n"
        "             ['check', 'scope', '--project', sys.argv[1]], ['check', 'adapt', '--project', sys.argv[1]]):\n"
        "    try:\n"
        "        run(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120)
    loaded = json.loads(proc.stderr.strip().splitlines()[-1])
    assert loaded == [], loaded
