"""Options and parsers shared by several CLI modules (light: typer only)."""

from __future__ import annotations

from typing import Optional

import typer

# One typer.Option can be the default of any number of parameters; each command still gets its own value.
PROJECT_OPTION = typer.Option(None, "--project", "-p", help="Project folder (default: found from here).")


def sub_app(**kwargs) -> typer.Typer:
    """A command group (or a module's top-level verbs) with the CLI's shared settings.

    Plain click help (rich_markup_mode=None) is set here, at construction, so it never depends on
    which module was imported first; lifecycle.cli.main composes the apps and nothing imports it back.
    """
    settings = {"no_args_is_help": True, "add_completion": False,
                "context_settings": {"help_option_names": ["-h", "--help"]}, **kwargs}
    return typer.Typer(rich_markup_mode=None, **settings)


def parse_shots(text: Optional[str], example: str = "0,1,3") -> Optional[list[int]]:
    """`"3,0,1"` -> `[0, 1, 3]` (sorted, unique); None stays None. Bad input: a --shots usage error."""
    if text is None:
        return None
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a comma-separated list of integers, e.g. {example}",
                                 param_hint="--shots") from None
    if not ks or ks[0] < 0:
        raise typer.BadParameter(f"give one or more K >= 0, e.g. {example}", param_hint="--shots")
    return ks
