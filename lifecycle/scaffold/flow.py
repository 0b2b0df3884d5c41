"""From what `lifecycle new` was given (DIR, flags, answers file, --no-input, a terminal or not) to
validated answers, before anything is written. The CLI module only parses and prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lifecycle.errors import ScaffoldError
from lifecycle.scaffold.answers import (
    PLACEHOLDER_USE_CASE, Answers, Sources, check_name, load_answers_file, missing_answers, validate_answers,
)


@dataclass
class NewOptions:
    directory: Optional[str] = None                        # DIR: a plain folder name, or "."
    flags: dict[str, Any] = field(default_factory=dict)    # answer name -> flag value (None: not given)
    answers_file: Optional[Path] = None
    no_input: bool = False
    interactive: bool = False                              # stdin and stdout are a terminal
    output_dir: Path = Path(".")


@dataclass
class Gathered:
    answers: Answers
    model_chosen: bool  # the team named a model (flag, file or wizard), not the task default
    target: Path


def gather_answers(options: NewOptions) -> Gathered:
    sources = Sources()
    sources.flags = {k: v for k, v in options.flags.items() if v is not None}
    here = options.directory == "."  # scaffold into the (empty) current folder, named after it
    if here:
        sources.defaults["name"] = options.output_dir.resolve().name
    elif options.directory is not None:
        try:
            check_name(options.directory)
        except ValueError as err:
            raise ScaffoldError(f"DIR: {err}; nothing was written",
                                hint="give a plain folder name; use --output-dir PARENT to create it elsewhere") from None
        sources.defaults["name"] = options.directory
    if options.answers_file is not None:
        load_answers_file(options.answers_file, sources)
    if options.no_input:
        sources.defaults.setdefault("use_case", PLACEHOLDER_USE_CASE)
        sources.defaults.setdefault("task", "summarization")

    if options.interactive and not options.no_input:
        from lifecycle.scaffold.wizard import run_wizard

        answers = run_wizard(sources)
    else:
        missing = missing_answers(sources.merged())
        if missing:
            flags_needed = ", ".join("--" + m.replace("_", "-") for m in missing)
            raise ScaffoldError(f"missing answers: {', '.join(missing)} (no terminal to ask them); nothing was written",
                                hint=f"pass {flags_needed}, or --answers FILE.yaml, or --no-input to use defaults")
        answers = validate_answers(sources)
    chosen = any("model" in d for d in (sources.flags, sources.file_data, sources.asked))
    target = options.output_dir.resolve() if here else options.output_dir / (options.directory or answers.name)
    return Gathered(answers=answers, model_chosen=chosen, target=target)


def check_model_id(model: str, output_dir: Path) -> Optional[str]:
    """A local folder or a catalog id passes. A near miss of a catalog id is a typo: refused with
    'did you mean'. Any other hub id is allowed (no catalog lists every model): returns a note."""
    import difflib

    from lifecycle.catalog import load_catalog, lookup
    from lifecycle.errors import did_you_mean

    if Path(model).expanduser().is_dir() or (output_dir / model).is_dir() or lookup(model) is not None:
        return None
    names = [n for entry in load_catalog() for n in entry.names]
    if difflib.get_close_matches(model, names, n=1, cutoff=0.85):
        raise ScaffoldError(f"--model: {did_you_mean(model, names, kind='model id')}; nothing was written",
                            hint="`lifecycle models ls` lists the catalog; a local folder works too")
    return (f"note: {model} is neither a local folder nor in the built-in catalog; "
            "`lifecycle select` cannot check its memory or licence")
