"""configs/prompt.yaml `preprocess`: the project's own function that prepares each example before the
template is filled: the query, its shots, and the fine-tuning examples alike (one function, so a
model is trained on what it is later prompted with). Loaded from the project's src/ package only
(lifecycle.hooks)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from lifecycle.errors import DataError
from lifecycle.hooks import load_function

WHERE = "configs/prompt.yaml: preprocess"


def preprocess_hook(cfg, root: str | Path, package: str) -> Callable[[dict], dict] | None:
    if not getattr(cfg, "preprocess", None):
        return None

    return load_function(root, package, cfg.preprocess, where=WHERE)


def apply_preprocess(examples: list[dict] | None, hook: Callable[[dict], dict] | None, *, id_field: str = "id",
                     spec: str = "") -> list[dict] | None:
    """Each example through `hook` (a copy: the loaded data is never changed in place). The id is
    kept whatever the function returns; an error names the example."""
    if hook is None or examples is None:
        return examples
    out = []
    for example in examples:
        try:
            result = hook(dict(example))
        except Exception as err:  # the user's code: one line naming the example, --verbose shows the rest
            raise DataError(f"{WHERE} {spec} failed on example {example.get(id_field)!r}: {type(err).__name__}: {err}",
                            hint="fix the function in your src/ package (its tests run with `pytest`)") from err
        if not isinstance(result, dict):
            raise DataError(f"{WHERE} {spec} returned {type(result).__name__} for example {example.get(id_field)!r}, "
                            "not a dict", hint="return the (changed) example dict")
        result[id_field] = example.get(id_field)
        out.append(result)
    return out


def project_preprocess(project, cfg) -> Callable[[list[dict] | None], list[dict] | None]:
    """examples -> prepared examples, for this project's prompt config (identity when none is set)."""
    hook = preprocess_hook(cfg, project.root, project.manifest.project.package)
    return lambda examples: apply_preprocess(examples, hook, id_field=cfg.id_field, spec=cfg.preprocess or "")
