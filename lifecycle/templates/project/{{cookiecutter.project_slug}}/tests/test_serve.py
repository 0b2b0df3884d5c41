{%- set p = project(cookiecutter) -%}
"""The project's own server (`lifecycle serve`), called in-process through FastAPI's TestClient:
OpenAI-shaped completions, chat (rendered with configs/prompt.yaml), streaming, errors, and
configs/serve.yaml. The model is a tiny one built on the fly with the architecture of
configs/model.yaml's model (no download); set SERVE_TEST_MODEL=/path/to/model to test yours."""

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server needs the serve extra: pip install 'genai-lifecycle[serve]'")
pytest.importorskip("httpx", reason="the server needs the serve extra: pip install 'genai-lifecycle[serve]'")

ROOT = Path(__file__).resolve().parents[1]


def _examples() -> list[dict]:
    lines = (ROOT / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _text(example: dict) -> str:
    """The example's input fields (the task's, from lifecycle.yaml), as a user would send them."""
    from lifecycle.project import Project
    from lifecycle.tasks import get_task

    fields = get_task(Project(ROOT).manifest.scope.task).input_fields
    return "\n".join(str(example[f]) for f in fields)


def _message(example: dict) -> str:
    """A chat message: the text itself for a one-field prompt, a JSON object of the fields otherwise
    (the server fills the project's prompt template with them)."""
    from lifecycle.project import Project
    from lifecycle.tasks import get_task

    fields = get_task(Project(ROOT).manifest.scope.task).input_fields
    return str(example[fields[0]]) if len(fields) == 1 else json.dumps({f: example[f] for f in fields})


def _family(model: str) -> str:
    """t5 or gpt2: the tiny stand-in's architecture, from the model's config.json or the catalog."""
    config = Path(model).expanduser() / "config.json"
    if config.is_file():
        return "t5" if json.loads(config.read_text(encoding="utf-8")).get("is_encoder_decoder") else "gpt2"
    from lifecycle.catalog import lookup

    entry = lookup(model)
    return "gpt2" if entry is not None and entry.architecture == "decoder" else "t5"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fastapi.testclient import TestClient

    from lifecycle.config.serve import load_serve_config
    from lifecycle.project import Project
    from lifecycle.serve.app import create_app
    from lifecycle.serve.model import load_served
    from lifecycle.testing import build_tiny_model

    project = Project(ROOT)
    model = os.environ.get("SERVE_TEST_MODEL")
    if not model:
        texts = [_text(ex) for ex in _examples()]
        family = _family(project.model_config().model)
        model = str(build_tiny_model(tmp_path_factory.mktemp("model") / f"tiny-{family}", family, texts=texts))
    served = load_served(project, model=model, name="served")
    cfg = load_serve_config(project)  # configs/serve.yaml: a broken edit fails here
    with TestClient(create_app(served, cfg)) as client:  # runs the app's startup (the batching worker)
        yield client


@pytest.fixture(scope="module")
def example():
    return _examples()[0]


def test_health_and_models(server):
    assert server.get("/health").json()["status"] == "ok"
    (model,) = server.get("/v1/models").json()["data"]
    assert model["id"] == "served" and model["lifecycle"]["weights_sha256"]


def test_completion_is_greedy_and_counts_tokens(server, example):
    body = {"model": "served", "prompt": _text(example), "max_tokens": 8, "temperature": 0}
    first = server.post("/v1/completions", json=body).json()
    again = server.post("/v1/completions", json=body).json()
    assert first["choices"][0]["text"] == again["choices"][0]["text"]  # greedy: the same text every time
    assert 0 < first["usage"]["completion_tokens"] <= 8 and first["usage"]["prompt_tokens"] > 0
    assert first["model"] == "served"


def test_chat_and_streaming_agree(server, example):
    body = {"model": "served", "messages": [{"role": "user", "content": _message(example)}], "max_tokens": 8,
            "temperature": 0}
    whole = server.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    with server.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as resp:
        events = [line[len("data: "):] for line in resp.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    deltas = [c["choices"][0]["delta"].get("content", "") for c in map(json.loads, events[:-1]) if c["choices"]]
    assert "".join(deltas) == whole


def test_bad_requests_get_openai_shaped_errors(server):
    r = server.post("/v1/completions", json={"model": "served", "prompt": "hi", "max_tokens": 0})
    assert r.status_code == 400 and r.json()["error"]["param"] == "max_tokens"
    r = server.post("/v1/completions", json={"model": "not-this-one", "prompt": "hi"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    r = server.post("/v1/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]["message"]
