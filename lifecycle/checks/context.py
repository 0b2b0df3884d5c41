"""What checks read, loaded once per `lifecycle check` and shared: the validation report, the
configs, the data sample, the run store, attestations, and a small cache for measured checks."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from lifecycle.checks.registry import Blocked

CACHE_FILE = "cache/checks.json"
_VALIDATE_HINT = "run `lifecycle validate` and fix what it lists"


class CheckContext:
    def __init__(self, root: Path, *, measure: bool = True) -> None:
        self.root = Path(root).resolve()
        self.measure = measure

    # files -----------------------------------------------------------------------------------
    @cached_property
    def validation(self):
        from lifecycle.checks.validate import validate_project

        return validate_project(self.root)

    def _config(self, kind: str):
        report = self.validation.get(kind)
        if report is None or not report.ok:
            shown = report.path.relative_to(self.root) if report and report.path.is_relative_to(self.root) else kind
            if report is not None and not report.path.is_file():
                hint = "run `lifecycle eval init`" if kind == "eval" else _VALIDATE_HINT
                raise Blocked(f"{shown} is missing", hint)
            raise Blocked(f"{shown} does not validate", _VALIDATE_HINT)
        return report.value

    @property
    def manifest(self):
        return self._config("lifecycle")

    @property
    def model_config(self):
        return self._config("model")

    @cached_property
    def prompt_config(self):
        """configs/prompt.yaml with its `preset` applied, as every command sees it (template and
        target_field always set), so checks and eval keys agree with `eval run`."""
        from lifecycle.errors import PromptError
        from lifecycle.config.prompt import resolve_prompt_config

        raw = self._config("prompt")
        try:
            return resolve_prompt_config(raw)
        except PromptError as err:
            raise Blocked(f"configs/prompt.yaml: {err}", err.hint or _VALIDATE_HINT) from err

    @property
    def generation_config(self):
        return self._config("generation")

    @property
    def eval_config(self):
        return self._config("eval")

    @property
    def finetune_config(self):
        return self._config("finetune")

    def path(self, relative: str | Path) -> Path:
        """A project-relative path from a config, resolved like everywhere else (`Project.path`)."""
        from lifecycle.project import Project

        return Project(self.root).path(relative)

    def shown(self, path: Path) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    # data ------------------------------------------------------------------------------------
    def sample_fields(self) -> list[str]:
        """The fields an example needs: the prompt's placeholders and target, and what eval reads."""
        from lifecycle.prompt_template import template_fields

        prompt = self.prompt_config
        fields = list(template_fields(prompt.template)) + [prompt.target_field]
        report = self.validation.get("eval")
        if report is not None and report.ok:
            ev = report.value
            fields += list(ev.dataset.input_fields) + [ev.dataset.reference_field]
        return list(dict.fromkeys(fields))

    @cached_property
    def sample(self) -> list[dict]:
        """The data sample with the task's fields checked (DataError names file:line)."""
        from lifecycle.data import load_jsonl

        return load_jsonl(self.path(self.manifest.data.sample), required=self.sample_fields(),
                          id_field=self.prompt_config.id_field, fields=dict(self.prompt_config.fields or {}) or None)

    # runs ------------------------------------------------------------------------------------
    @cached_property
    def store(self):
        from lifecycle.runs.store import RunStore

        return RunStore(self.root / "runs")

    def runs(self, kind: str) -> list:
        """Complete runs of a kind, oldest first."""
        return self.store.list(kind=kind, status="complete")

    # attestations ----------------------------------------------------------------------------
    @cached_property
    def attestations(self) -> list[dict]:
        from lifecycle.checks.attest import load_attestations

        return load_attestations(self.root)

    # cache for measured (heavy) checks -------------------------------------------------------
    @property
    def cache_path(self) -> Path:
        return self.root / ".lifecycle" / CACHE_FILE

    def cache_get(self, check_id: str, key: str) -> dict | None:
        from lifecycle.cache import JsonCache

        return JsonCache(self.cache_path).get(check_id, key)

    def cache_put(self, check_id: str, key: str, outcome: dict[str, Any]) -> None:
        from lifecycle.cache import JsonCache

        JsonCache(self.cache_path).put(check_id, key, outcome)
