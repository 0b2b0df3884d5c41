"""`lifecycle new` gives every project its serving files: configs/serve.yaml (+ schema), serve/
(CPU Dockerfile, vLLM Dockerfile, load test) and tests/test_serve.py, which passes in the new project."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lifecycle.tasks import TASKS

TASK_NAMES = list(TASKS)


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    from lifecycle.cli.main import run

    where = tmp_path_factory.mktemp("new-serve")
    out = {}
    for task in TASK_NAMES:
        with pytest.raises(SystemExit) as exit_info:
            run(["new", f"s-{task}", "--no-input", "--task", task, "--output-dir", str(where)])
        assert exit_info.value.code in (0, None)
        out[task] = where / f"s-{task}"
    return out


@pytest.mark.parametrize("task", TASK_NAMES)
def test_new_renders_the_serving_files(projects, task):
    from lifecycle.config.serve import ServeConfig
    from lifecycle.config.yaml_io import load_config

    root = projects[task]
    serve_yaml = root / "configs" / "serve.yaml"
    lines = serve_yaml.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../.lifecycle/schemas/serve.schema.json"
    assert lines[1].startswith("# Used by: lifecycle serve")
    assert (root / ".lifecycle" / "schemas" / "serve.schema.json").is_file()
    assert load_config(serve_yaml, ServeConfig) == ServeConfig()  # the file spells out the defaults

    docker = (root / "serve" / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER app\n" in docker and "useradd" in docker  # non-root
    assert "HEALTHCHECK" in docker and "/health" in docker
    assert "pip install ." in docker and "genai-lifecycle[serve]" in docker
    assert '"lifecycle", "serve", "--host", "0.0.0.0"' in docker
    vllm = (root / "serve" / "Dockerfile.vllm").read_text(encoding="utf-8")
    assert "FROM vllm/vllm-openai:" in vllm and "lifecycle optimize export" in vllm and "/health" in vllm
    assert "runs/*" in (root / "serve" / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    compile((root / "serve" / "load_test.py").read_text(encoding="utf-8"), "load_test.py", "exec")
    assert (root / "tests" / "test_serve.py").is_file()


def test_load_test_script_measures_a_real_server_against_the_targets(projects, serve_t5, start_server):
    import importlib.util

    root = projects["summarization"]
    url, _ = start_server(root, model=str(serve_t5), max_batch_size=4)
    spec = importlib.util.spec_from_file_location("load_test", root / "serve" / "load_test.py")
    load_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load_test)
    args = ["--url", url, "--concurrency", "2", "--requests", "4", "--max-tokens", "4"]
    assert load_test.main(args) == 0  # no targets in a new project: nothing to miss
    manifest = root / "lifecycle.yaml"
    before = manifest.read_text(encoding="utf-8")
    try:
        manifest.write_text(before.replace("latency_p95_ms: null", "latency_p95_ms: 0.001"), encoding="utf-8")
        assert "latency_p95_ms: 0.001" in manifest.read_text(encoding="utf-8")
        assert load_test.main(args) == 1  # a target nobody meets is reported missed
    finally:
        manifest.write_text(before, encoding="utf-8")


def test_the_new_projects_serve_test_passes(projects):
    root = projects["classification"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_serve.py"],
                          cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 passed" in proc.stdout
