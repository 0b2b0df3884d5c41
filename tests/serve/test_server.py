"""The real server on a loopback port, called with the real `openai` client and httpx."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _examples(n: int | None = None) -> list[dict]:
    lines = (FIXTURES / "summarization.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines][:n]


def _generate(cli, root: Path) -> list[dict]:
    """`lifecycle generate` on the project: the reference outputs (greedy, configs/generation.yaml)."""
    res = cli("generate", "--no-progress", "--show", "0", cwd=root)
    assert res.returncode == 0, res.stderr
    (run,) = [p for p in (root / "runs").iterdir() if "-generate-" in p.name]
    return [json.loads(x) for x in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("family", ["t5", "gpt2"])
def test_openai_client_matches_lifecycle_generate(family, serve_t5, serve_gpt2, make_project, cli, start_server):
    from openai import OpenAI

    root = make_project("summarization", model=serve_t5 if family == "t5" else serve_gpt2, name=f"p-{family}")
    reference = _generate(cli, root)
    url, served = start_server(root, max_batch_size=8, max_wait_ms=50)
    client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)

    (listed,) = client.models.list().data
    assert listed.id == served.name and listed.lifecycle["run"] is None
    assert listed.lifecycle["weights_sha256"] == served.weights_sha256

    by_id = {ex["id"]: ex for ex in _examples()}
    for rec in reference[:3]:
        out = client.completions.create(model=served.name, prompt=rec["prompt"], max_tokens=16, temperature=0)
        assert out.choices[0].text == rec["prediction"]  # byte-identical to `lifecycle generate`
        assert out.usage.prompt_tokens == rec["tokens_in"] and out.usage.completion_tokens == rec["tokens_out"]
        assert out.model == served.name
        # chat: the message is the example's field, rendered through configs/prompt.yaml (no chat template)
        chat = client.chat.completions.create(
            model=served.name, max_tokens=16, temperature=0,
            messages=[{"role": "user", "content": by_id[rec["id"]]["dialogue"]}])
        assert chat.choices[0].message.content == rec["prediction"]
        assert chat.usage.prompt_tokens == rec["tokens_in"]

    # streaming: the deltas add up to the same text, in several chunks, with usage at the end
    rec = max(reference, key=lambda r: len(r["prediction"]))
    chunks = list(client.completions.create(model=served.name, prompt=rec["prompt"], max_tokens=16, temperature=0,
                                            stream=True, stream_options={"include_usage": True}))
    texts = [c.choices[0].text for c in chunks if c.choices]
    assert "".join(texts) == rec["prediction"]
    assert len([t for t in texts if t]) > 1
    assert chunks[-1].usage.completion_tokens == rec["tokens_out"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in ("stop", "length")

    stream = client.chat.completions.create(model=served.name, max_tokens=16, temperature=0, stream=True,
                                            messages=[{"role": "user", "content": by_id[rec["id"]]["dialogue"]}])
    parts = [c.choices[0].delta for c in stream if c.choices]
    assert parts[0].role == "assistant"
    assert "".join(p.content or "" for p in parts) == rec["prediction"]


def test_concurrent_requests_share_batches_and_match_direct_engine(serve_t5, make_project, start_server):
    from lifecycle.generation.engine import Engine
    from lifecycle.project import Project
    from lifecycle.serve.model import load_served

    root = make_project("summarization", model=serve_t5, name="p-batch")
    prompts = [f"Summarize: {ex['dialogue']}" for ex in _examples(8)]
    served = load_served(Project(root))
    settings = served.settings.model_copy(update={"max_new_tokens": 12})
    direct = [Engine(served.loaded, settings).generate([p])[0].text for p in prompts]  # one at a time

    url, _ = start_server(root, max_batch_size=8, max_wait_ms=300)

    async def go():
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            rs = await asyncio.gather(*(c.post("/v1/completions", json={"prompt": p, "max_tokens": 12,
                                                                          "temperature": 0}) for p in prompts))
            return [r.json() for r in rs], (await c.get("/metrics")).text

    bodies, metrics = asyncio.run(go())
    assert [b["choices"][0]["text"] for b in bodies] == direct
    sizes = {line.split("} ")[0]: float(line.split("} ")[1]) for line in metrics.splitlines()
             if line.startswith("lifecycle_serve_batch_size_")}
    count = next(v for k, v in sizes.items() if k.startswith("lifecycle_serve_batch_size_count"))
    total = next(v for k, v in sizes.items() if k.startswith("lifecycle_serve_batch_size_sum"))
    assert total == 8 and count < 8  # requests were generated together, not one by one
    assert "# TYPE lifecycle_serve_request_seconds histogram" in metrics
    assert 'lifecycle_serve_requests_total{model="t5",endpoint="/v1/completions",status="200"} 8' in metrics


def test_a_lone_client_does_not_wait_for_a_batch_to_fill(serve_t5, make_project, start_server):
    # A 3 s batch wait: a server that waited for company on every request would take > 3 s each.
    root = make_project("summarization", model=serve_t5, name="p-lone")
    url, _ = start_server(root, max_batch_size=8, max_wait_ms=3000)
    prompt = f"Summarize: {_examples(1)[0]['dialogue']}"
    with httpx.Client(base_url=url, timeout=60) as c:
        times = []
        for _ in range(3):  # closed loop at concurrency 1
            start = time.perf_counter()
            r = c.post("/v1/completions", json={"prompt": prompt, "max_tokens": 4, "temperature": 0})
            times.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text
    assert max(times) < 2.5, times


BAD = [
    (b"{not json", 400, None),
    ({"prompt": "hi", "max_tokens": 4, "bogus": 1}, 400, "bogus"),
    ({"prompt": 42, "max_tokens": 4}, 400, "prompt"),
    ({"prompt": "hi", "max_tokens": 0}, 400, "max_tokens"),
    ({"prompt": "hi", "max_tokens": 1_000_000}, 400, "max_tokens"),
    ({"prompt": "   ", "max_tokens": 4}, 400, "prompt"),
    ({"prompt": "lamp " * 2000, "max_tokens": 4}, 400, "prompt"),
    ({"prompt": "hi", "max_tokens": 4, "n": 2, "temperature": 0}, 400, "n"),
    ({"prompt": "hi", "max_tokens": 4, "model": "gpt-4o"}, 404, "model"),
    ({"prompt": "hi", "max_tokens": 4, "temperature": -1}, 400, "temperature"),
    ({"prompt": "hi", "max_tokens": 4, "logprobs": 3}, 400, "logprobs"),
]


def test_bad_input_is_refused_while_other_requests_complete(serve_gpt2, make_project, start_server):
    root = make_project("summarization", model=serve_gpt2, name="p-bad")
    url, served = start_server(root, max_batch_size=4, max_wait_ms=100, max_body_bytes=200_000)
    good = [f"Summarize: {ex['dialogue']}" for ex in _examples(4)]

    async def go():
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            ok = [asyncio.create_task(c.post("/v1/completions", json={"prompt": p, "max_tokens": 24,
                                                                       "temperature": 0})) for p in good]
            bad = []
            for body, _, _ in BAD:
                kw = {"content": body, "headers": {"content-type": "application/json"}} if isinstance(body, bytes) \
                    else {"json": body}
                bad.append(await c.post("/v1/completions", **kw))
            bad.append(await c.post("/v1/chat/completions", json={"messages": [], "max_tokens": 4}))
            bad.append(await c.post("/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "x"}]}))
            bad.append(await c.post("/v1/completions", content=b"x" * 300_000))
            bad.append(await c.get("/v1/nope"))
            return [r for r in await asyncio.gather(*ok)], bad

    ok, bad = asyncio.run(go())
    assert [r.status_code for r in ok] == [200] * 4
    assert all(r.json()["choices"][0]["finish_reason"] in ("stop", "length") for r in ok)
    expected = [(s, p) for _, s, p in BAD] + [(400, "messages"), (400, "messages"), (413, None), (404, None)]
    for r, (status, param) in zip(bad, expected):
        err = r.json()["error"]
        assert r.status_code == status, err
        assert err["message"] and err["type"]
        if param:
            assert err["param"] == param, err
    assert bad[6].json()["error"]["code"] == "context_length_exceeded"
    assert httpx.get(f"{url}/health").json()["status"] == "ok"  # still serving


def test_api_key_from_environment(serve_t5, make_project, start_server, monkeypatch):
    from openai import AuthenticationError, OpenAI

    monkeypatch.setenv("MY_SERVE_KEY", "s3cret")
    root = make_project("summarization", model=serve_t5, name="p-key")
    url, served = start_server(root, api_key_env="MY_SERVE_KEY")
    for key in ("wrong", None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        r = httpx.post(f"{url}/v1/completions", json={"prompt": "hi", "max_tokens": 2}, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
    ok = OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
    assert ok.completions.create(model=served.name, prompt="hi", max_tokens=2, temperature=0).choices
    assert httpx.get(f"{url}/health").status_code == 200  # probes need no key


def test_chat_template_of_the_tokenizer_is_used_when_it_has_one(chat_gpt2, make_project, start_server):
    from openai import OpenAI
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(chat_gpt2)
    root = make_project("summarization", model=chat_gpt2, name="p-chat")
    (root / "configs" / "prompt.yaml").write_text((root / "configs" / "prompt.yaml").read_text()
                                                  + "system: You summarize.\n")
    url, served = start_server(root)
    client = OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
    messages = [{"role": "user", "content": "#Person1#: My lamp is broken."}]
    chat = client.chat.completions.create(model=served.name, messages=messages, max_tokens=12, temperature=0)
    # the project's system message is added, and the tokenizer's template renders the turns
    rendered = tok.apply_chat_template([{"role": "system", "content": "You summarize."}, *messages],
                                       add_generation_prompt=True, tokenize=False)
    assert rendered.startswith("<|system|>You summarize.")
    plain = client.completions.create(model=served.name, prompt=rendered, max_tokens=12, temperature=0)
    assert chat.choices[0].message.content == plain.choices[0].text
    assert chat.usage.prompt_tokens == plain.usage.prompt_tokens
