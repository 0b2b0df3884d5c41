"""`lifecycle serve --rag` (tiny T5, the sample documents, BM25): a chat request answers exactly what
`lifecycle generate --rag` writes for the same question, completions get the retrieved context before
the prompt, responses name the chunks, and a missing or stale index refuses to start in one line."""

from __future__ import annotations

import json

import httpx
import pytest

QUESTION = "Who founded Ostrel Harbour on Varrowmere?"


@pytest.fixture
def indexed(make_project, serve_t5):
    from lifecycle.project import Project
    from lifecycle.rag.index import build_index
    from lifecycle.rag.project import install_samples, rag_setup

    root = make_project("question_answering", model=serve_t5)
    setup = rag_setup(Project(root))
    install_samples(setup)
    build_index(setup.docs_dir, setup.index_dir, setup.cfg, tokenizer_ref=setup.tokenizer_ref())
    return root


@pytest.fixture
def rag_server(indexed):
    from lifecycle.config.serve import ServeConfig
    from lifecycle.project import Project
    from lifecycle.prompting.project_inputs import load_prompt_config
    from lifecycle.serve.app import create_app
    from lifecycle.serve.model import load_served
    from lifecycle.serve.rag import ServeRag
    from lifecycle.serve.server import ServerThread

    project = Project(indexed)
    rag = ServeRag(project, load_prompt_config(project))
    served = load_served(project)
    cfg = ServeConfig(port=0, max_batch_size=4, max_wait_ms=5)
    with ServerThread(create_app(served, cfg, rag), cfg) as url:
        yield url, served, rag


def test_chat_with_rag_matches_generate_rag_and_names_the_chunks(indexed, rag_server, cli):
    from lifecycle.rag.index import read_chunks
    from lifecycle.runs.store import RunStore

    url, served, rag = rag_server
    data = indexed / "data" / "one.jsonl"
    data.write_text(json.dumps({"id": "q", "context": "-", "question": QUESTION, "answer": "x"}) + "\n",
                    encoding="utf-8")
    res = cli("generate", "--rag", "--data", data, "--no-progress", "--show", "0", cwd=indexed)
    assert res.returncode == 0, res.stderr
    (record,) = RunStore(indexed / "runs").latest("generate").read_predictions()

    r = httpx.post(f"{url}/v1/chat/completions", timeout=120, json={
        "messages": [{"role": "user", "content": QUESTION}], "temperature": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["choices"][0]["message"]["content"] == record["prediction"]
    (info,) = body["rag"]
    ids = {c["id"] for c in read_chunks(rag.index_dir)}
    assert info["query"] == QUESTION and info["chunks"] and {c["id"] for c in info["chunks"]} <= ids
    assert info["chunks"][0]["source"].endswith("varrowmere.md") and info["chunks"][0]["score"] > 0
    assert info["chunks_used"] + info["chunks_dropped"] <= rag.k
    assert body["usage"]["prompt_tokens"] == info["prompt_tokens"]


def test_completions_get_the_context_before_the_prompt(rag_server):
    from lifecycle.generation.engine import Engine
    from lifecycle.rag.evaluate import format_context
    from lifecycle.serve.rag import completion_prompt

    url, served, rag = rag_server
    prompt = f"Question: {QUESTION}\nAnswer:"
    r = httpx.post(f"{url}/v1/completions", timeout=120, json={"prompt": prompt, "max_tokens": 8, "temperature": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    (info,) = body["rag"]
    hits = rag.search(prompt).hits
    assert [c["id"] for c in info["chunks"]] == [h.id for h in hits[:info["chunks_used"]]]
    expected = completion_prompt(prompt, format_context(hits, info["chunks_used"]))
    direct = Engine(served.loaded, served.settings.model_copy(update={"max_new_tokens": 8})).generate([expected])[0]
    assert body["choices"][0]["text"] == direct.text and body["usage"]["prompt_tokens"] == direct.tokens_in

    stream = httpx.post(f"{url}/v1/completions", timeout=120, json={
        "prompt": prompt, "max_tokens": 8, "temperature": 0, "stream": True})
    events = [json.loads(line[6:]) for line in stream.text.splitlines()
              if line.startswith("data: ") and line != "data: [DONE]"]
    assert "".join(e["choices"][0]["text"] for e in events if e["choices"]) == direct.text
    assert [e["rag"] for e in events if "rag" in e] == [body["rag"]]  # on the finishing chunk

    empty = httpx.post(f"{url}/v1/completions", timeout=60, json={"prompt": "  ", "max_tokens": 4})
    assert empty.status_code == 400 and "prompt is empty" in empty.json()["error"]["message"]


def test_serve_rag_refuses_a_stale_or_missing_index(indexed, make_project, serve_t5, cli):
    (indexed / "data" / "docs" / "library.md").write_text("The library moved to the harbour.", encoding="utf-8")
    res = cli("serve", "--rag", "--port", "0", cwd=indexed)
    assert res.returncode != 0 and "lifecycle rag index" in res.stderr and "Traceback" not in res.stderr
    assert len([line for line in res.stderr.splitlines() if line.strip()]) <= 2  # the error and its hint

    bare = make_project("question_answering", model=serve_t5, name="no-index")
    res = cli("serve", "--rag", "--port", "0", cwd=bare)
    assert res.returncode != 0 and "lifecycle rag index" in res.stderr and "Traceback" not in res.stderr


def test_a_chat_template_gets_the_context_in_the_last_user_turn(chat_gpt2, make_project):
    from transformers import AutoTokenizer

    from lifecycle.config.serve import ServeConfig
    from lifecycle.generation.engine import Engine
    from lifecycle.project import Project
    from lifecycle.prompting.project_inputs import load_prompt_config
    from lifecycle.rag.evaluate import format_context
    from lifecycle.rag.index import build_index
    from lifecycle.rag.project import install_samples, rag_setup
    from lifecycle.serve.app import create_app
    from lifecycle.serve.model import load_served
    from lifecycle.serve.rag import ServeRag, completion_prompt
    from lifecycle.serve.server import ServerThread

    model = chat_gpt2
    tok = AutoTokenizer.from_pretrained(model)
    root = make_project("question_answering", model=model, name="p-rag-chat")
    project = Project(root)
    setup = rag_setup(project)
    install_samples(setup)
    build_index(setup.docs_dir, setup.index_dir, setup.cfg, tokenizer_ref=setup.tokenizer_ref())
    rag = ServeRag(project, load_prompt_config(project))
    served = load_served(project)
    cfg = ServeConfig(port=0, max_batch_size=4, max_wait_ms=5)
    with ServerThread(create_app(served, cfg, rag), cfg) as url:
        r = httpx.post(f"{url}/v1/chat/completions", timeout=120, json={
            "messages": [{"role": "user", "content": QUESTION}], "max_tokens": 8, "temperature": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    (info,) = body["rag"]
    hits = rag.search(QUESTION).hits
    assert info["chunks_used"] >= 1 and [c["id"] for c in info["chunks"]] == [h.id for h in hits[:info["chunks_used"]]]
    system = [{"role": "system", "content": served.prompt_cfg.system}] if served.prompt_cfg.system else []
    rendered = tok.apply_chat_template([*system, {"role": "user", "content": completion_prompt(
        QUESTION, format_context(hits, info["chunks_used"]))}], add_generation_prompt=True, tokenize=False)
    assert "[1] " in rendered and rendered.endswith("<|assistant|>")

    class _Rendered:  # what the server hands the engine: a chat-rendered prompt, no special tokens added
        id, text, add_special_tokens = "x", rendered, False

    direct = Engine(served.loaded, served.settings.model_copy(update={"max_new_tokens": 8})).generate([_Rendered()])[0]
    assert body["choices"][0]["message"]["content"] == direct.text
    assert body["usage"]["prompt_tokens"] == direct.tokens_in == info["prompt_tokens"]
