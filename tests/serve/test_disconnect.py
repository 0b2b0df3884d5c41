"""A client that disconnects frees its slot: a queued request leaves the queue, and a batch whose
clients all left stops mid-generation, so the next request is served at once. Real server on a
loopback port, real httpx clients that close their connections."""

from __future__ import annotations

import json
import re
import socket
import time

import httpx
import yaml

LONG = 300  # decode steps the long requests are forced to take (min_new_tokens): seconds here


def _metric(url: str, name: str, **labels) -> float:
    text = httpx.get(f"{url}/metrics").text
    want = "".join(f'.*{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if re.match(rf"lifecycle_serve_{name}(\{{{want}.*\}})? ", line):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _post_raw(url: str, body: dict) -> socket.socket:
    """Send a POST /v1/completions on a plain socket and leave it open: closing it is the disconnect."""
    payload = json.dumps(body).encode()
    host, port = url.split("//", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
    return sock


def _wait(cond, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_disconnecting_clients_free_their_slots(serve_t5, make_project, start_server):
    root = make_project("summarization", model=serve_t5, name="p-disconnect")
    gen = root / "configs" / "generation.yaml"
    cfg = yaml.safe_load(gen.read_text())
    cfg.update(max_new_tokens=LONG, min_new_tokens=LONG)  # the project's minimum makes long requests long
    gen.write_text(yaml.safe_dump(cfg))
    url, served = start_server(root, max_batch_size=1, max_wait_ms=0, max_tokens_cap=LONG)
    body = {"model": served.name, "prompt": "#Person1#: hello there", "max_tokens": LONG, "temperature": 0}

    # A streams (and runs: batch size 1); B waits in the queue behind it
    with httpx.Client(timeout=30) as a:
        with a.stream("POST", f"{url}/v1/completions", json={**body, "stream": True}) as resp:
            assert resp.status_code == 200
            lines = resp.iter_lines()
            assert next(line for line in lines if line.startswith("data: "))  # A is generating
            # B: a non-streaming client, queued behind A, that closes its connection while it waits.
            # A raw socket closed once B is seen queued: no client timeout to race A's decode steps
            # (a fixed 1 s read timeout let a fast machine finish A first, and B then ran)
            sock = _post_raw(url, body)
            assert _wait(lambda: _metric(url, "queue_depth") == 1)
            assert _metric(url, "running_requests") == 1  # A runs, B waits
            sock.close()
            # B's connection closed: it left the queue, without being generated
            assert _wait(lambda: _metric(url, "queue_depth") == 0)
            assert _wait(lambda: _metric(url, "cancelled_total", stage="queued") == 1)
            assert _metric(url, "running_requests") == 1  # A still runs
        # A's connection is closed mid-stream: its batch (only A) stops at the next decode step
    t_closed = time.monotonic()
    assert _wait(lambda: _metric(url, "abandoned_batches_total") == 1)
    assert _metric(url, "cancelled_total", stage="running") == 1 and _metric(url, "running_requests") == 0
    # the slot is free: a short request is answered long before A's steps would have ended
    out = httpx.post(f"{url}/v1/completions", json={**body, "max_tokens": 4}, timeout=30).json()
    took = time.monotonic() - t_closed
    assert out["usage"]["completion_tokens"] <= 4
    assert _metric(url, "generation_tokens_total") <= 4  # neither A nor B was counted as answered
    assert _metric(url, "requests_total", status="200") == 1
    # how long A alone would have run: measured, so the bound holds on a slow machine too
    t = time.monotonic()
    full = httpx.post(f"{url}/v1/completions", json=body, timeout=120).json()
    assert full["usage"]["completion_tokens"] == LONG
    assert took < (time.monotonic() - t) / 2


def test_a_non_streaming_client_that_leaves_mid_generation_stops_its_batch(serve_t5, make_project, start_server):
    root = make_project("summarization", model=serve_t5, name="p-disconnect2")
    gen = root / "configs" / "generation.yaml"
    cfg = yaml.safe_load(gen.read_text())
    cfg.update(max_new_tokens=LONG, min_new_tokens=LONG)
    gen.write_text(yaml.safe_dump(cfg))
    url, served = start_server(root, max_batch_size=4, max_wait_ms=0, max_tokens_cap=LONG)
    body = {"model": served.name, "prompt": "#Person1#: hello there", "max_tokens": LONG, "temperature": 0}
    # a raw socket, closed once its request is generating (however slow the machine is to start it)
    sock = _post_raw(url, body)
    assert _wait(lambda: _metric(url, "running_requests") == 1)
    sock.close()
    assert _wait(lambda: _metric(url, "abandoned_batches_total") == 1)
    assert _metric(url, "cancelled_total", stage="running") == 1
    assert _metric(url, "running_requests") == 0 and _metric(url, "queue_depth") == 0
    assert httpx.get(f"{url}/health").json()["status"] == "ok"
