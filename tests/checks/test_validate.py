"""`lifecycle validate`: every problem in every file at once, located; hostile YAML never runs."""

from __future__ import annotations

import pytest

from lifecycle.checks.validate import validate_project


def _replace(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path, needle) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_valid_project(make_project, cli):
    root = make_project()
    report = validate_project(root)
    assert report.ok and [f.kind for f in report.files] == ["lifecycle", "model", "prompt", "generation",
                                                             "eval", "finetune"]
    code, out, err = cli("validate", "--project", root)
    assert code == 0 and out.startswith("valid: lifecycle.yaml, configs/model.yaml") and err == ""


def test_errors_across_files_are_all_reported(make_project, cli):
    root = make_project()
    manifest, gen, ev = root / "lifecycle.yaml", root / "configs" / "generation.yaml", root / "configs" / "eval.yaml"
    _replace(manifest, "multi_task: false", "multi_task: maybe")
    _replace(manifest, "  task: summarization", "  task: summarisation\n  colour: blue")
    _replace(gen, "max_new_tokens: 16", "max_new_tokens: -3")
    _replace(ev, "task: summarization", "task: summarization\nsede: 1")
    code, out, err = cli("validate", "--project", root)
    assert code == 2 and out == ""
    lines = [ln.strip() for ln in err.splitlines()]
    assert lines[0] == "error: 5 problems:"
    assert f"lifecycle.yaml:{_line_of(manifest, 'task: summarisation')}: scope.task: Input should be" in err
    assert f"lifecycle.yaml:{_line_of(manifest, 'colour')}: scope.colour: unknown key" in err
    assert f"lifecycle.yaml:{_line_of(manifest, 'multi_task')}: scope.multi_task:" in err
    assert f"configs/generation.yaml:{_line_of(gen, 'max_new_tokens')}: max_new_tokens: Input should be greater" in err
    assert f"configs/eval.yaml:{_line_of(ev, 'sede')}: sede: unknown key" in err
    assert lines[-1].startswith("hint: fix each file:line")


def test_broken_manifest_still_validates_the_configs(make_project):
    root = make_project()
    (root / "lifecycle.yaml").write_text("scope: [\n", encoding="utf-8")
    _replace(root / "configs" / "model.yaml", "trust_remote_code: false", "trust_remote_code: sometimes")
    report = validate_project(root)
    assert len(report.problems) == 2
    assert report.problems[0].startswith("lifecycle.yaml:") and "YAML syntax error" in report.problems[0]
    assert report.problems[1].startswith("configs/model.yaml:") and "trust_remote_code" in report.problems[1]


def test_missing_referenced_file(make_project, cli):
    root = make_project()
    (root / "configs" / "finetune.yaml").unlink()
    _replace(root / "lifecycle.yaml", "selection:", "adaptation:\n  prompt: configs/my_prompt.yaml\nselection:")
    code, _, err = cli("validate", "--project", root)
    assert code == 2
    assert "configs/my_prompt.yaml: file not found (referenced by lifecycle.yaml)" in err
    assert "configs/finetune.yaml: file not found" in err


BAD_MANIFESTS = {
    "syntax": ("schema_version: 1\nproject: {name: demo, package: demo\n", 3, "YAML syntax error"),
    "duplicate": ("schema_version: 1\nproject:\n  name: a\n  name: b\n", 4, "duplicate key (first defined on line 3)"),
    "python_tag": ("schema_version: 1\nproject: !!python/object/apply:os.system ['touch MARKER']\n", 2,
                   "python/object"),
    "alias_bomb": ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n", 1,
                   "anchors and aliases are not allowed"),
    "not_mapping": ("- 1\n- 2\n", 1, "expected a mapping"),
}


@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_hostile_or_broken_manifest_gives_one_located_error(case, make_project, cli, tmp_path):
    root = make_project()
    marker = tmp_path / "pwned"
    text, line, what = BAD_MANIFESTS[case]
    (root / "lifecycle.yaml").write_text(text.replace("MARKER", str(marker)), encoding="utf-8")
    code, out, err = cli("validate", "--project", root)
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith(f"error: lifecycle.yaml:{line}:") and what in first, err
    assert "Traceback" not in err
    assert not marker.exists()


def test_no_project_found(cli, tmp_path):
    code, _, err = cli("validate", "--project", tmp_path)
    assert code == 1 and "no lifecycle.yaml" in err and "hint:" in err


def test_validate_subprocess_exit_code(make_project, run_cli):
    root = make_project()
    (root / "configs" / "prompt.yaml").write_text("template: 3\ntarget_field: [x]\n", encoding="utf-8")
    proc = run_cli("validate", cwd=root / "configs")
    assert proc.returncode == 2
    assert "configs/prompt.yaml:1: template: Input should be a valid string" in proc.stderr
    assert "configs/prompt.yaml:2: target_field: Input should be a valid string" in proc.stderr


@pytest.mark.parametrize("old,new,field,what", [
    ("num_gpus: 1", "num_gpus: two", "scope.hardware.num_gpus", "Input should be a valid integer"),
    ("commercial_use: true", "commercial_use: true\n  comercial: true", "scope.comercial", "unknown key"),
])
def test_single_wrong_field_is_one_located_line(make_project, cli, old, new, field, what):
    root = make_project()
    _replace(root / "lifecycle.yaml", old, new)
    line = _line_of(root / "lifecycle.yaml", new.split("\n")[-1].strip())
    code, _, err = cli("validate", "--project", root)
    assert code == 2
    assert err.splitlines()[0].startswith(f"error: lifecycle.yaml:{line}: {field}: {what}"), err
