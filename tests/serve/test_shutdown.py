"""`lifecycle serve` as a process: SIGTERM lets the request in flight finish, then the server exits."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import yaml

LONG = 300  # decode steps the request is forced to take (min_new_tokens): it is still generating at the signal


def test_sigterm_finishes_in_flight_request(serve_gpt2, make_project):
    from lifecycle.serve.server import free_port

    root = make_project("summarization", model=serve_gpt2, name="p-term")
    gen = root / "configs" / "generation.yaml"
    cfg = yaml.safe_load(gen.read_text())
    cfg.update(max_new_tokens=LONG, min_new_tokens=LONG)
    gen.write_text(yaml.safe_dump(cfg))
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "lifecycle", "serve", "--port", str(port),
                             "--log-level", "warning", "--project", str(root)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("r", httpx.post(
            f"{url}/v1/completions", json={"prompt": "Summarize: the lamp broke.", "max_tokens": LONG,
                                            "temperature": 0}, timeout=60)))
        t.start()
        deadline = time.monotonic() + 30  # the signal comes while it generates, however slow the machine
        while not re.search(r"^lifecycle_serve_running_requests\S* 1$", httpx.get(f"{url}/metrics", timeout=5).text, re.M):
            assert time.monotonic() < deadline, "the request never started"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        t.join(60)
        assert result["r"].status_code == 200
        assert result["r"].json()["usage"]["completion_tokens"] == LONG  # finished, not cut at the signal
        proc.wait(60)
        assert proc.returncode in (0, -signal.SIGTERM)
        try:  # and it no longer listens
            httpx.get(f"{url}/health", timeout=1)
            raise AssertionError("server still answering after SIGTERM")
        except httpx.HTTPError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
