"""The CLI's shared behaviour: version, help with worked examples everywhere, the error boundary."""

from __future__ import annotations

import pytest
import typer

from lifecycle import __version__
from lifecycle.cli.main import app


def _walk(cmd, path: tuple[str, ...] = ()):
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _walk(sub, path + (name,))


COMMANDS = list(_walk(typer.main.get_command(app)))


def test_version(run_cli):
    res = run_cli("--version")
    assert res.returncode == 0
    assert res.stdout.strip() == f"lifecycle {__version__}"


def test_expected_commands_exist():
    names = {" ".join(p) for p, _ in COMMANDS}
    for expected in ("new", "validate", "status", "check", "models ls", "models show", "models estimate",
                     "select", "prompt render", "prompt budget", "generate", "eval init", "eval run",
                     "eval sweep", "eval compare", "eval export", "eval metrics", "finetune"):
        assert expected in names, f"`lifecycle {expected}` is missing"


@pytest.mark.parametrize("path,cmd", COMMANDS[1:], ids=[" ".join(p) for p, _ in COMMANDS[1:]])
def test_every_command_has_help_with_examples(path, cmd):
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, [*path, "--help"], terminal_width=120)
    assert res.exit_code == 0, res.output
    assert "lifecycle " + path[0] in res.output, f"`lifecycle {' '.join(path)} --help` shows no worked example"
    assert "Example" in res.output


def test_error_boundary_one_line_and_verbose_traceback(tmp_path, run_cli):
    res = run_cli("status", cwd=tmp_path)
    assert res.returncode != 0
    assert res.stderr.startswith("error: no lifecycle.yaml")
    assert "Traceback" not in res.stderr
    res = run_cli("--verbose", "status", cwd=tmp_path)
    assert res.returncode != 0
    assert "Traceback" in res.stderr


def test_unknown_command_is_a_usage_error(run_cli):
    res = run_cli("frobnicate")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr


ROOT_ORDER = ["new", "validate", "check", "status", "schema", "select", "generate", "models", "prompt", "eval",
              "finetune", "rag", "tools", "serve", "optimize", "upgrade", "runs", "align", "review", "judge"]


def test_commands_live_in_files_named_by_verb_in_help_order():
    root = typer.main.get_command(app)
    assert [n for n in root.commands if n in ROOT_ORDER] == ROOT_ORDER
    evals = root.commands["eval"].commands
    assert list(evals) == ["metrics", "run", "init", "compare", "sweep", "export"]
    assert {c.callback.__module__ for c in evals.values()} == {"lifecycle.cli.eval"}
    assert root.commands["select"].callback.__module__ == "lifecycle.cli.select"
    assert {c.callback.__module__ for c in root.commands["models"].commands.values()} == {"lifecycle.cli.models"}


@pytest.mark.parametrize("first", ["new", "eval", "select", "models"])
def test_help_does_not_depend_on_which_cli_module_is_imported_first(first):
    import subprocess
    import sys

    code = (f"import lifecycle.cli.{first}, typer; from lifecycle.cli.main import app; "
            "cmd = typer.main.get_command(app); "
            "print(' '.join(cmd.commands)); print(cmd.commands['eval'].rich_markup_mode)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert [n for n in out[0].split() if n in ROOT_ORDER] == ROOT_ORDER
    assert out[1] == "None"  # plain click help, never rich mode
