"""Where `lifecycle eval sweep --grid` points, as a library call (lifecycle.evaluation.sweep.grid_path)."""

from __future__ import annotations

from pathlib import Path

from lifecycle.evaluation.sweep import grid_path
from lifecycle.project import Project


def test_grid_path_resolution(make_project, tmp_path, monkeypatch):
    project = Project.find(make_project())
    inner = project.root / "data"
    monkeypatch.chdir(inner)  # inside the project, not at its root
    # the default names the project's file, found from any folder inside the project
    assert grid_path(project, Path("configs/sweep.yaml")) == project.root / "configs" / "sweep.yaml"
    # a file that exists relative to the current folder wins
    (inner / "mine.yaml").write_text("grid: []\n", encoding="utf-8")
    assert grid_path(project, "mine.yaml") == Path("mine.yaml")
    assert grid_path(project, "mine.yaml").resolve() == inner / "mine.yaml"
    # absolute paths are kept as given, existing or not
    elsewhere = tmp_path / "elsewhere" / "grid.yaml"
    assert grid_path(project, elsewhere) == elsewhere


def test_check_grid_lists_points_with_their_run_counts(make_project, monkeypatch):
    from lifecycle.evaluation.sweep import check_grid

    project = Project.find(make_project())
    (project.root / "configs" / "sweep.yaml").write_text(
        "seeds: [1, 2, 3]\ngrid:\n  - preset: greedy\n  - preset: sampling\n    temperature: [0.7, 1.0]\n",
        encoding="utf-8")
    monkeypatch.chdir(project.root / "data")
    assert check_grid(project, "configs/sweep.yaml") == [
        "point 1: preset=greedy (1 run)",
        "point 2: preset=sampling, temperature=0.7 (3 runs)",
        "point 3: preset=sampling, temperature=1.0 (3 runs)",
    ]
    assert not project.runs_dir.exists() or not any(project.runs_dir.iterdir())  # nothing ran
