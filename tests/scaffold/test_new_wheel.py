"""The built wheel carries the project template: install it into a fresh venv and scaffold from it.

What this does, and why it is honest and fast:
  1. `python -m build --wheel` (no isolation when hatchling is importable, so no download).
  2. `python -m venv` a fresh environment WITHOUT this checkout, then `pip install --no-deps` the wheel.
  3. The wheel's dependencies (typer, pydantic, cookiecutter, ..., torch 2.13.0) are not
     downloaded again: a .pth line appends the current environment's site-packages to the fresh
     venv's path. A .pth line only adds a folder; it does not run that folder's own .pth files,
     so the editable install of this checkout is NOT active there (asserted below).
  4. `lifecycle new` from the fresh venv's console script must find the template inside the
     installed package, and the generated project's tests must pass.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def sh(*cmd, cwd=None, env=None, timeout=300):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.slow
def test_wheel_ships_the_template_and_scaffolds_from_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    flags = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []  # else pip fetches hatchling
    sh(sys.executable, "-m", "build", "--wheel", *flags, "--outdir", dist, REPO, timeout=600)
    wheel = next(dist.glob("genai_lifecycle-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "lifecycle/templates/project/cookiecutter.json" in names
    assert "lifecycle/templates/project/{{cookiecutter.project_slug}}/lifecycle.yaml" in names
    assert "lifecycle/templates/project/{{cookiecutter.project_slug}}/.lifecycle/README.md" in names
    # every released template version ships, for `lifecycle upgrade`
    assert "lifecycle/templates/history/1/{{cookiecutter.project_slug}}/lifecycle.yaml" in names
    # every file of the package data, including the samples in _includes/ (no .gitignore pattern drops one)
    templates = REPO / "lifecycle" / "templates"
    shipped = {p.relative_to(REPO).as_posix() for p in templates.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert "lifecycle/templates/project/_includes/samples/summarization.jsonl" in shipped
    assert shipped <= set(names), sorted(shipped - set(names))[:5]

    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", venv)
    py = venv / "bin" / "python"
    site = Path(sh(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "zz_deps_from_dev_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    sh(py, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, timeout=600)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HOME"] = str(tmp_path / "home")
    where = sh(py, "-c", "import lifecycle, lifecycle.scaffold.template as t; "
                         "print(lifecycle.__file__); print(t.templates_root())", cwd=tmp_path, env=env).stdout.split()
    assert where[0].startswith(str(site)), f"lifecycle imported from {where[0]}, not the wheel"
    assert where[1] == str(site / "lifecycle" / "templates")

    work = tmp_path / "work"
    work.mkdir()
    out = sh(venv / "bin" / "lifecycle", "new", "demo", "--no-input", "--task", "translation", cwd=work, env=env).stdout
    assert "Next steps" in out
    project = work / "demo"
    assert (project / ".lifecycle" / "schemas" / "lifecycle.schema.json").is_file()
    sh(py, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env)
