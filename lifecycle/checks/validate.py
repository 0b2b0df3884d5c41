"""`lifecycle validate`: the manifest and every config file it references, all problems at once.

Each file is parsed safely (no tags, no aliases, no duplicate keys) and validated by its pydantic
model; problems from every file are collected, each as `file:line: field: what`, instead of
stopping at the first broken file. Then what the files name is resolved: every metric name
(eval.yaml metrics and targets, lifecycle.yaml scope.success.metric) against the metric registry,
with a did-you-mean; and the data (the sample, the eval set, the training data, the shot pool) is
read by the one loader (lifecycle.data, any format) and the fields the configs use are looked up
in it: a template's `{dialog}` when the data has `dialogue` is an error naming both files. Each
data file read is reported with its format, rows and fields (`ValidationReport.data`).
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
    loaded: object | None = None  # the parsed YAML (line numbers for later problems)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self, root: Path, loc: tuple) -> str:
        """`file:line` of a key (just `file` when it cannot be located)."""
        n = self.loaded.line_of(loc) if self.loaded is not None else None
        shown = _display(root, self.path)
        return f"{shown}:{n}" if n else str(shown)


@dataclass
class DataReport:
    """One data source the configs name, as the loader read it."""

    role: str            # sample, eval set, train, validation, shot pool
    source: str          # as written in the config
    used_by: str         # the config file and key naming it
    format: str | None = None
    rows: int | None = None
    fields: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.format is None:
            return f"{self.role} {self.source}: not read"
        return (f"{self.role} {self.source} ({self.used_by}): {self.format}, {self.rows} rows, "
                f"fields {', '.join(self.fields)}")


@dataclass
class ValidationReport:
    root: Path
    files: list[FileReport]
    data: list[DataReport] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # metric names and fields that do not resolve

    @property
    def problems(self) -> list[str]:
        return [p for f in self.files for p in f.problems] + self.references + [
            p for d in self.data for p in d.problems]

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
        report.loaded = loaded
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
    files = {
        "model": "configs/model.yaml",
        "prompt": adaptation.prompt,
        "generation": adaptation.generation,
        "eval": evaluation.config,
        "finetune": adaptation.finetune,
    }
    # the later stages' configs are optional: checked when the project has them
    files.update({kind: f"configs/{kind}.yaml" for kind in OPTIONAL_CONFIGS})
    return files


OPTIONAL_CONFIGS = ("sweep", "align", "serve", "rag")


def validate_project(root: str | Path, *, data: bool = True) -> ValidationReport:
    """Validate lifecycle.yaml and the five config files, then (with `data`) the metric names and
    data they reference; never raises for file content."""
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
        if kind in OPTIONAL_CONFIGS and not (root / relative).is_file():
            continue
        files.append(_check_file(root, kind, relative, model_class(kind)))
    report = ValidationReport(root, files)
    report.references.extend(_metric_problems(report))
    report.references.extend(_hook_problems(report))
    if data:
        _check_data(report)
    return report


def _hook_problems(report: ValidationReport) -> list[str]:
    """The project's own functions the configs name (configs/prompt.yaml preprocess, custom metrics
    in configs/eval.yaml) import from its src/ package."""
    from lifecycle.errors import LifecycleError
    from lifecycle.hooks import load_function

    manifest, prompt, ev = report.get("lifecycle"), report.get("prompt"), report.get("eval")
    if manifest is None or manifest.value is None:
        return []
    package = manifest.value.project.package
    named = []
    if prompt is not None and prompt.value is not None and prompt.value.preprocess:
        named.append((prompt, ("preprocess",), prompt.value.preprocess))
    if ev is not None and ev.value is not None:
        named += [(ev, ("metrics", i, "function"), m.function) for i, m in enumerate(ev.value.metrics)
                  if getattr(m, "function", None)]
    out = []
    for file, loc, spec in named:
        try:
            load_function(report.root, package, spec, where=".".join(str(p) for p in loc))
        except LifecycleError as err:
            out.append(f"{file.line(report.root, loc)}: {err.message}")
    return out


def _metric_problems(report: ValidationReport) -> list[str]:
    """Every metric name the configs use, resolved against the registry (groups such as `rouge`
    allowed where a list of metrics is meant; a success metric or target names one metric)."""
    from lifecycle.errors import LifecycleError
    from lifecycle.evaluation.metrics.registry import GROUPS, get_metric

    out: list[str] = []

    def resolve(file: FileReport, loc: tuple, name: str, group_ok: bool) -> None:
        if group_ok and name in GROUPS:
            return
        try:
            get_metric(name)
        except LifecycleError as err:
            what = ".".join(str(p) for p in loc)
            out.append(f"{file.line(report.root, loc)}: {what}: {err.message} (`lifecycle eval metrics` lists them)")

    manifest, ev = report.get("lifecycle"), report.get("eval")
    # the project's own metrics (`function:`): _hook_problems loads them
    custom = {m.name for m in ev.value.metrics if m.function} if ev is not None and ev.value is not None else set()
    if manifest is not None and manifest.value is not None and manifest.value.scope.success.metric not in custom:
        resolve(manifest, ("scope", "success", "metric"), manifest.value.scope.success.metric, False)
    if ev is not None and ev.value is not None:
        for i, m in enumerate(ev.value.metrics):
            if not m.function:
                resolve(ev, ("metrics", i, "name"), m.name, True)
        for i, t in enumerate(ev.value.targets):
            if t.metric not in custom:
                resolve(ev, ("targets", i, "metric"), t.metric, False)
    return out


def _read_data(report: ValidationReport, item: DataReport, prompt, *, needs: dict[str, str]) -> None:
    """Read `item` with the project's field mapping; each field in `needs` ({field: "config:line: what"})
    missing from the data is a problem naming both files."""
    from lifecycle.data import field_names, load_examples, resolve_source
    from lifecycle.errors import LifecycleError

    path = item.source if item.source.startswith("hf://") else str(
        Path(item.source) if Path(item.source).is_absolute() else report.root / item.source)
    try:
        source = resolve_source(path)
        examples = load_examples(path, id_field=prompt.id_field if prompt else "id", allow_empty=True,
                                 fields=dict(prompt.fields or {}) or None if prompt else None)
    except LifecycleError as err:
        item.problems.append(f"{err.message.replace(str(report.root) + '/', '', 1)} (read as the {item.role}, "
                             f"{item.used_by})")
        return
    item.format, item.rows, item.fields = source.format, len(examples), field_names(examples)
    if not examples:
        item.problems.append(f"{item.source}: no examples ({item.used_by})")
        return
    have = set(item.fields)
    mapped = f" after `fields` {dict(prompt.fields)}" if prompt is not None and prompt.fields else ""
    for name, where in needs.items():
        if name not in have:
            item.problems.append(f"{where} '{name}' is not a field of {item.source}{mapped} (its fields: "
                                 f"{', '.join(item.fields)})")


def _check_data(report: ValidationReport) -> None:
    """The data each config names, read and matched against the fields the configs use."""
    from lifecycle.config.prompt import resolve_prompt_config
    from lifecycle.prompt_template import template_fields

    manifest, prompt_r, ev, ft = (report.get(k) for k in ("lifecycle", "prompt", "eval", "finetune"))
    if manifest is None or manifest.value is None:
        return
    prompt = None
    if prompt_r is not None and prompt_r.value is not None:
        try:
            prompt = resolve_prompt_config(prompt_r.value)
        except Exception as err:  # an unknown preset: reported once, here
            report.references.append(f"{prompt_r.line(report.root, ('preset',))}: preset: {err}")
    needs: dict[str, str] = {}
    if prompt is not None:
        shown = _display(report.root, prompt_r.path)
        tline = prompt_r.line(report.root, ("template",)) if "template" in prompt_r.value.model_fields_set else (
            f"{shown} (preset {prompt.preset})")
        for f in template_fields(prompt.template):
            needs[f] = f"{tline}: template field {{{f}}}:"
        target_loc = ("target_field",) if "target_field" in prompt_r.value.model_fields_set else ("preset",)
        needs.setdefault(prompt.target_field, f"{prompt_r.line(report.root, target_loc)}: target_field")
    m = manifest.value
    items = [(DataReport("sample", m.data.sample, f"{MANIFEST_FILE} data.sample"), needs)]
    if ev is not None and ev.value is not None:
        d = ev.value.dataset
        ev_needs = dict(needs)
        for i, f in enumerate(d.input_fields):
            ev_needs.setdefault(f, f"{ev.line(report.root, ('dataset', 'input_fields', i))}: dataset.input_fields")
        ev_needs[d.reference_field] = f"{ev.line(report.root, ('dataset', 'reference_field'))}: dataset.reference_field"
        items.append((DataReport("eval set", d.path, f"{_display(report.root, ev.path)} dataset.path"), ev_needs))
    if ft is not None and ft.value is not None:
        for role in ("train", "validation"):
            path = getattr(ft.value.data, role)
            if path and path != m.data.sample:
                items.append((DataReport(role, path, f"{_display(report.root, ft.path)} data.{role}"), needs))
    if prompt is not None and prompt.shots.pool:
        items.append((DataReport("shot pool", prompt.shots.pool, f"{_display(report.root, prompt_r.path)} "
                                 "shots.pool"), needs))
    seen: set[str] = set()
    for item, item_needs in items:
        key = f"{item.role}:{item.source}"
        if key in seen:
            continue
        seen.add(key)
        _read_data(report, item, prompt, needs=item_needs)
        report.data.append(item)
