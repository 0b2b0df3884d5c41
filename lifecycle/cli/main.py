"""The `lifecycle` entry point and the one exception boundary."""

from __future__ import annotations

import sys
import traceback

import typer

from lifecycle import __version__
from lifecycle.cli import eval as eval_cli
from lifecycle.cli import finetune, generate, models, new, project_cmds, prompt
from lifecycle.cli import select as select_cli
from lifecycle.cli import rag as rag_cli
from lifecycle.cli import tools as tools_cli
from lifecycle.cli import serve as serve_cli
from lifecycle.cli import optimize as optimize_cli
from lifecycle.cli import align as align_cli, judge as judge_cli, review as review_cli
from lifecycle.cli import runs as runs_cli, upgrade as upgrade_cli

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


class Settings:
    """Root options, carried to every command through the click context (ctx.obj)."""

    def __init__(self) -> None:
        self.verbose = False


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show full tracebacks on errors."),
) -> None:
    if isinstance(ctx.obj, Settings):
        ctx.obj.verbose = verbose


# The composition root: each cli module defines its own Typer and never imports this module back,
# so the command order and help style do not depend on import order. A new stage adds its lines here.
app.add_typer(new.app)                      # new
app.add_typer(project_cmds.app)             # validate, check, status, schema
app.add_typer(select_cli.app)               # select
app.add_typer(generate.app)                 # generate
app.add_typer(models.models_app, name="models")
app.add_typer(prompt.prompt_app, name="prompt")
app.add_typer(eval_cli.eval_app, name="eval")
app.add_typer(finetune.finetune_app, name="finetune")
app.add_typer(rag_cli.rag_app, name="rag")
app.add_typer(tools_cli.tools_app, name="tools")
app.add_typer(serve_cli.serve_app, name="serve")
app.add_typer(optimize_cli.optimize_app, name="optimize")
app.add_typer(upgrade_cli.app)              # upgrade
app.add_typer(runs_cli.runs_app, name="runs")
app.add_typer(align_cli.align_app, name="align")
app.add_typer(review_cli.app)              # review
app.add_typer(judge_cli.judge_app, name="judge")


def run(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app, turn our errors into one clear line and an exit code."""
    import click
    try:  # typer >= 0.2x vendors click as typer._click: its usage errors are not click's
        from typer._click.exceptions import ClickException as _TyperClickException
    except ImportError:
        _TyperClickException = click.ClickException

    from lifecycle.errors import LifecycleError

    settings = Settings()
    try:
        rv = app(args=argv, standalone_mode=False, obj=settings)
        code = rv if isinstance(rv, int) else 0
    except LifecycleError as err:
        if settings.verbose:
            traceback.print_exc()
        from lifecycle.text_safety import printable  # messages quote file contents: show escapes, never obey

        typer.echo(f"error: {printable(err)}", err=True)
        if err.hint:
            typer.echo(f"hint: {printable(err.hint)}", err=True)
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
    except OSError as err:  # a full disk or a permission problem anywhere: one line, not a traceback
        if settings.verbose:
            traceback.print_exc()
        from lifecycle.errors import os_error_line

        message, hint = os_error_line(err)
        typer.echo(f"error: {message}", err=True)
        typer.echo(f"hint: {hint}", err=True)
        code = 1
    sys.exit(code)
