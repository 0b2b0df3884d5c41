"""The one error hierarchy. The CLI boundary catches `LifecycleError`, prints `str(err)` as one
line to stderr (plus the hint) and exits with `err.exit_code`; `--verbose` shows the traceback."""

from __future__ import annotations

from pathlib import Path


class LifecycleError(Exception):
    """Base of every error a user can cause and fix."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(LifecycleError):
    """A YAML/JSON file the user wrote is wrong. Carries every problem found, each with a location."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, *, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        message = self.problems[0] if len(self.problems) == 1 else (
            f"{len(self.problems)} problems:\n  " + "\n  ".join(self.problems)
        )
        super().__init__(message, hint=hint)


def located(path: str | Path | None, line: int | None, field: str | None, what: str) -> str:
    """`file:line: field: what` with the parts that are known."""
    where = str(path) if path else "<input>"
    if line:
        where += f":{line}"
    return f"{where}: {field}: {what}" if field else f"{where}: {what}"


class ProjectNotFoundError(LifecycleError):
    """No lifecycle.yaml in the directory or any parent."""


class ScaffoldError(LifecycleError):
    """`lifecycle new` refused or failed; nothing was left behind."""


class CatalogError(LifecycleError):
    """Unknown model id, or a model config that cannot be read."""


class ModelLoadError(LifecycleError):
    """A model or tokenizer could not be loaded (offline, remote code, bad path)."""


class PromptError(LifecycleError):
    """A prompt template, shot selection or token budget problem."""


class DataError(LifecycleError):
    """A dataset file is missing, malformed (file:line) or lacks a field."""


class GenerationError(LifecycleError):
    """Generation settings are invalid or generation failed."""


class EvaluationError(LifecycleError):
    """Metric, scoring, comparison or report problem."""


class RunError(LifecycleError):
    """A run folder is missing, incomplete or inconsistent."""


class LockedError(LifecycleError):
    """Another live process is writing this file or run; nothing was changed."""


class RunInterruptedError(LifecycleError):
    """Ctrl-C or SIGTERM stopped a run; it is recorded `interrupted` and can be resumed."""

    exit_code = 130


class FinetuneError(LifecycleError):
    """Fine-tuning configuration, checkpoint or resume problem."""


class DependencyError(LifecycleError):
    """An optional dependency or hardware feature (bitsandbytes, CUDA) is missing."""


def did_you_mean(name: str, choices, *, kind: str = "name") -> str:
    """One-line 'unknown X; did you mean Y?' message using difflib."""
    import difflib

    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    msg = f"unknown {kind} '{name}'"
    if close:
        msg += "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    else:
        shown = ", ".join(choices[:12]) + (" ..." if len(choices) > 12 else "")
        msg += f"; known: {shown}"
    return msg


def os_error_line(err: OSError) -> tuple[str, str]:
    """(message, hint) for an OSError that reached the CLI boundary: the file it concerns, what
    happened, and for a full disk how much space is left where it was writing."""
    import errno
    import shutil

    where = err.filename or "a file"
    if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        free = ""
        folder = Path(str(err.filename)).parent if err.filename else None
        if folder is not None and folder.exists():
            free = f", {shutil.disk_usage(folder).free / 2**20:.1f} MiB free there"
        what = "file too large for this filesystem" if err.errno == errno.EFBIG else "the disk is full"
        return (f"{where}: could not write it ({what}{free})",
                "free disk space, then run the same command again (an interrupted run resumes with --resume)")
    return (f"{where}: {err.strerror or err}",
            "check that the path exists and that you may read and write it")
