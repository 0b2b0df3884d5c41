"""The `lifecycle` entry point and the one exception boundary."""

from __future__ import annotations

import os
import sys
import traceback

import typer

from lifecycle import __version__

app = typer.Typer(
    name="lifecycle",
    help="Walk a generative-AI project through scope -> select -> adapt & align -> integrate, "
    "with evidence at every step.",
    epilog="Examples:\n\n"
    "  lifecycle new support-summarizer --no-input --task summarization\n\n"
    "  cd support-summarizer && lifecycle status\n\n"
    "  lifecycle check scope --strict",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: typer's rich formatter imports rich.markdown, markdown_it and pygments,
    # which doubled the start-up of `lifecycle --help` (benchmarks/bench_cli.py).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lifecycle {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show full tracebacks on errors."),
) -> None:
    if verbose:
        os.environ["LIFECYCLE_VERBOSE"] = "1"


def _register() -> None:
    # Each module adds its commands to `app`; importing them is cheap (no heavy imports).
    from lifecycle.cli import (  # noqa: F401
        new, project_cmds, models, prompt, generate, eval as eval_cmds, finetune,
    )
    for group in app.registered_groups:  # sub-apps too: plain help everywhere (see above)
        group.typer_instance.rich_markup_mode = None


_register()


def _verbose() -> bool:
    return os.environ.get("LIFECYCLE_VERBOSE") == "1" or "--verbose" in sys.argv[1:] or "-v" in sys.argv[1:2]


def run(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app, turn our errors into one clear line and an exit code."""
    import click
    try:  # typer >= 0.2x vendors click as typer._click: its usage errors are not click's
        from typer._click.exceptions import ClickException as _TyperClickException
    except ImportError:
        _TyperClickException = click.ClickException

    from lifecycle.errors import LifecycleError

    try:
        rv = app(args=argv, standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except LifecycleError as err:
        if _verbose():
            traceback.print_exc()
        typer.echo(f"error: {err}", err=True)
        if err.hint:
            typer.echo(f"hint: {err.hint}", err=True)
        code = err.exit_code
    except (click.exceptions.Exit, typer.Exit) as err:
        code = err.exit_code
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("aborted", err=True)
        code = 130
    except (click.ClickException, _TyperClickException) as err:
        err.show()
        code = err.exit_code
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    sys.exit(code)
