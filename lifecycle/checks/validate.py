"""`lifecycle validate`: the manifest and every config file it references, all problems at once.

Each file is parsed safely (no tags, no aliases, no duplicate keys) and validated by its pydantic
model; problems from every file are collected, each as `file:line: field: what`, instead of
stopping at the first broken file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.errors import ConfigError
from lifecycle.manifest import MANIFEST_FILE, Manifest


@dataclass
class FileReport:
    kind: str           # lifecycle, model, prompt, generation, eval, finetune
    path: Path
    problems: list[str] = field(default_factory=list)
    value: object | None = None   # the validated model when there were no problems

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ValidationReport:
    root: Path
    files: list[FileReport]

    @property
    def problems(self) -> list[str]:
        return [p for f in self.files for p in f.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    def get(self, kind: str) -> FileReport | None:
        return next((f for f in self.files if f.kind == kind), None)

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems, hint="fix each file:line above; `lifecycle validate` re-checks them all")


def _display(root: Path, path: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _check_file(root: Path, kind: str, relative: str | Path, model) -> FileReport:
    from lifecycle.config.yaml_io import load_yaml, validate_data

    path = Path(relative) if Path(relative).is_absolute() else root / relative
    shown = _display(root, path)
    report = FileReport(kind, path)
    if not path.is_file():
        fix = "; create it with `lifecycle eval init`" if kind == "eval" else ""
        report.problems.append(f"{shown}: file not found (referenced by {MANIFEST_FILE}){fix}")
        return report
    try:
        loaded = load_yaml(path)
        report.value = validate_data(model, loaded, shown)
    except ConfigError as err:
        report.problems.extend(p.replace(str(path), str(shown), 1) for p in err.problems)
    return report


def _referenced_files(manifest: Manifest | None, raw: object) -> dict[str, str]:
    """kind -> relative path. From the valid manifest, else from whatever the raw YAML says
    (so that a typo in `scope` does not hide problems in configs/*.yaml), else the defaults."""
    from lifecycle.manifest import AdaptationFiles, EvaluationFiles

    if manifest is not None:
        adaptation, evaluation = manifest.adaptation, manifest.evaluation
    else:
        raw = raw if isinstance(raw, dict) else {}

        def section(key, model):
            value = raw.get(key)
            try:
                return model.model_validate(value if isinstance(value, dict) else {})
            except Exception:  # a broken section is reported by the manifest's own validation
                return model()

        adaptation, evaluation = section("adaptation", AdaptationFiles), section("evaluation", EvaluationFiles)
    return {
        "model": "configs/model.yaml",
        "prompt": adaptation.prompt,
        "generation": adaptation.generation,
        "eval": evaluation.config,
        "finetune": adaptation.finetune,
    }


def validate_project(root: str | Path) -> ValidationReport:
    """Validate lifecycle.yaml and the five config files; never raises for file content."""
    from lifecycle.config.schema_export import model_class
    from lifecycle.config.yaml_io import load_yaml

    root = Path(root).resolve()
    manifest_report = _check_file(root, "lifecycle", MANIFEST_FILE, Manifest)
    raw = None
    if manifest_report.value is None and manifest_report.path.is_file():
        try:
            raw = load_yaml(manifest_report.path).data
        except ConfigError:
            raw = None
    files = [manifest_report]
    for kind, relative in _referenced_files(manifest_report.value, raw).items():
        files.append(_check_file(root, kind, relative, model_class(kind)))
    return ValidationReport(root, files)
