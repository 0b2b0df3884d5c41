"""Registry-backed option values: `--task`, `--method` and friends accept exactly the registered
names, read when the command runs (a method registered later counts), and a typo fails as a usage
error with "did you mean" (`lifecycle eval metrics --task summarisation`), as `models ls` does.

Use as `typer.Option(None, "--task", parser=TASK, metavar="TASK", help=TASK_HELP)`. Light: the
registries import no heavy library."""

from __future__ import annotations

from typing import Callable


def registry_choice(names: Callable[[], list[str]], kind: str, option: str) -> Callable[[str], str]:
    """A typer `parser` accepting only `names()`; anything else is a click usage error that
    reports as "Invalid value for '--task': unknown task 'x'; did you mean 'y'?" (exit 2)."""

    def parse(value: str) -> str:
        from lifecycle.errors import did_you_mean

        value = getattr(value, "value", value)
        known = names()
        if value in known:
            return value
        import click

        raise click.BadParameter(did_you_mean(str(value), known, kind=kind), param_hint=f"'{option}'")

    parse.__name__ = kind.replace(" ", "_")
    return parse


def _tasks() -> list[str]:
    from lifecycle.tasks import task_names

    return task_names()


def _methods() -> list[str]:
    from lifecycle.methods import method_names

    return method_names()


def _estimator_methods() -> list[str]:
    from lifecycle.methods import estimator_methods

    return estimator_methods()


def _generation_presets() -> list[str]:
    from typing import get_args

    from lifecycle.config.generation import Preset

    return list(get_args(Preset))


TASK = registry_choice(_tasks, "task", "--task")
METHOD = registry_choice(_methods, "fine-tuning method", "--method")
ESTIMATE_METHOD = registry_choice(_estimator_methods, "method", "--method")
GENERATION_PRESET = registry_choice(_generation_presets, "generation preset", "--preset")


def _joined(names: list[str], sep: str = ", ") -> str:
    return sep.join(names)


# Help texts from the registries (computed at import: light, and they list the built-ins).
TASK_LIST = _joined(_tasks())
METHOD_LIST = _joined(_methods())
TASK_HELP = "One of: " + TASK_LIST + "."
METHOD_HELP = "One of: " + METHOD_LIST + "."
ESTIMATE_METHOD_HELP = "One of: " + _joined(_estimator_methods()) + "."
