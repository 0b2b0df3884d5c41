"""The project's configs pass the tool's own validation (`lifecycle validate`): unknown keys, bad
ranges, metric names and template fields missing from the data fail here, under `pytest`."""

from pathlib import Path

from lifecycle.checks.validate import validate_project

ROOT = Path(__file__).resolve().parents[1]


def test_project_validates():
    report = validate_project(ROOT)
    assert report.ok, "\n".join(report.problems)


def test_every_config_names_its_command():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        assert "# Used by: lifecycle " in path.read_text(encoding="utf-8"), path.name
