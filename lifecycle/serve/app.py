"""The FastAPI app: OpenAI-compatible /v1/completions, /v1/chat/completions and /v1/models, plus
/health and /metrics. Bodies are parsed here (not by FastAPI) so that every bad request gets an
OpenAI-shaped error body: {"error": {"message", "type", "param", "code"}}."""


import asyncio
import copy
import json
import os
import secrets
import time
import uuid
from typing import Any

from lifecycle.serve.batcher import Batcher, Job
from lifecycle.serve.metrics import Metrics
from lifecycle.serve.protocol import APIError, ChatRequest, CompletionRequest

_FINISH = {"eos": "stop", "stop": "stop", "length": "length", "cancelled": "stop"}  # cancelled: its client is gone
MAX_PROMPTS = 32  # prompts in one /v1/completions list
KEEPALIVE_S = 1.0  # an SSE comment this often while a streamed request waits


def _validation_message(err) -> tuple[str, str | None]:
    first = err.errors()[0]
    # pydantic adds the member of a union it tried (`prompt.str`, `prompt.list[str]`): not a field name
    path = [str(p) for p in first.get("loc", ()) if not (isinstance(p, str) and (p in _TYPE_TAGS or "[" in p))]
    msg = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        msg = "unknown field (not supported by this server)"
    return (f"{'.'.join(path)}: {msg}" if path else msg), (path[0] if path else None)


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "function-after", "function-before"}


class ServerState:
    def __init__(self, served, cfg, rag=None) -> None:
        self.served, self.cfg = served, cfg
        self.rag = rag  # lifecycle.serve.rag.ServeRag: retrieved context for every prompt (serve --rag)
        self.metrics = Metrics(served.name)
        self.batcher = Batcher(served, max_batch_size=cfg.max_batch_size, max_wait_ms=cfg.max_wait_ms,
                               max_queue=cfg.max_queue, metrics=self.metrics)
        # The worker thread pads and decodes with the model's tokenizer; requests are counted with a
        # copy, so the two threads never share a Rust tokenizer (which refuses concurrent mutation).
        self.tokenizer = copy.deepcopy(served.loaded.tokenizer)
        self.api_key = os.environ.get(cfg.api_key_env) or None
        self.started = time.time()

    # ---------------------------------------------------------------- request -> jobs
    def check_auth(self, header: str | None) -> None:
        if self.api_key is None:
            return
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise APIError(401, "missing API key: send `Authorization: Bearer <key>`", type="authentication_error",
                           code="invalid_api_key")
        if not secrets.compare_digest(token.strip(), self.api_key):
            raise APIError(401, "incorrect API key", type="authentication_error", code="invalid_api_key")

    def check_model(self, name: str | None) -> None:
        if name is not None and name != self.served.name:
            raise APIError(404, f"the model '{name}' does not exist; this server serves '{self.served.name}'",
                           param="model", code="model_not_found")

    def settings(self, req, max_tokens: int | None):
        """(GenerationSettings, stops, group key) for a request."""
        from pydantic import ValidationError

        from lifecycle.config.generation import PRESET_FIELDS, GenerationSettings

        bad = req.unsupported()
        if bad:
            raise APIError(400, f"{', '.join(bad)} not supported by this server", param=bad[0])
        base = self.served.settings
        if max_tokens is None:
            max_tokens = self.cfg.default_max_tokens or base.max_new_tokens
        if max_tokens < 1 or max_tokens > self.cfg.max_tokens_cap:
            raise APIError(400, f"max_tokens must be between 1 and {self.cfg.max_tokens_cap}, got {max_tokens}",
                           param="max_tokens")
        data = base.model_dump(exclude_unset=True)
        sampling_asked = req.temperature not in (None, 0) or (req.temperature is None and (req.top_p or req.top_k))
        if req.temperature == 0 or sampling_asked:
            for f in PRESET_FIELDS:
                data.pop(f, None)
            data["preset"] = "sampling" if sampling_asked else "greedy"
            if sampling_asked:
                data.update({k: v for k, v in (("temperature", req.temperature), ("top_p", req.top_p),
                                                ("top_k", req.top_k)) if v is not None})
        data.update(max_new_tokens=max_tokens, max_batch_size=self.cfg.max_batch_size, stop=[])
        if (data.get("min_new_tokens") or 0) > max_tokens:
            data.pop("min_new_tokens")  # the project's minimum cannot exceed what this request allows
        if req.seed is not None:
            data["seed"] = req.seed
        try:
            settings = GenerationSettings.model_validate(data).resolved()
        except ValidationError as err:
            raise APIError(400, f"generation settings: {_validation_message(err)[0]}") from err
        if req.n > 1 and not settings.do_sample:
            raise APIError(400, "n > 1 needs sampling (temperature > 0): greedy decoding gives n identical answers",
                           param="n")
        stops = tuple(dict.fromkeys([*self.served.prompt_cfg.stop, *req.stops()]))
        if any(not s for s in stops):
            raise APIError(400, "stop: an empty stop sequence would stop at once", param="stop")
        group = json.dumps([settings.model_dump(mode="json"), stops], sort_keys=True)
        return settings, stops, group

    def count_and_check(self, text: str, special: bool, max_tokens: int, param: str) -> int:
        if not text.strip():
            raise APIError(400, f"{param} is empty", param=param)
        n = len(self.tokenizer(text, add_special_tokens=special)["input_ids"])
        loaded = self.served.loaded
        window = loaded.context_window
        total = n if loaded.encoder_decoder else n + max_tokens
        if total > window:
            how = f"{n} prompt tokens" + ("" if loaded.encoder_decoder else f" + {max_tokens} max_tokens")
            raise APIError(400, f"this model's context window is {window} tokens; the request has {how}",
                           param=param, code="context_length_exceeded")
        return n

    def submit(self, job: Job) -> Job:
        if not self.batcher.submit(job):
            raise APIError(503, "the server is busy (queue full) or shutting down; retry later",
                           type="server_error", code="overloaded")
        return job

    async def result(self, job: Job):
        """Wait for a job's Generation (deltas are skipped), within the request timeout."""
        deadline = time.perf_counter() + self.cfg.request_timeout_s
        try:
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise asyncio.TimeoutError
                kind, value = await asyncio.wait_for(job.events.get(), left)
                if kind == "done":
                    return value
                if kind == "error":
                    raise _engine_error(value)
                if kind == "cancelled":
                    raise APIError(499, "the client closed the request", code="client_closed")
        except asyncio.TimeoutError:
            self.batcher.cancel(job)
            raise APIError(504, f"generation did not finish within {self.cfg.request_timeout_s:g} s",
                           type="timeout_error", code="timeout") from None
        except BaseException:
            self.batcher.cancel(job)
            raise

    async def results(self, request, jobs: list[Job]) -> list:
        """Every job's Generation; if the client disconnects meanwhile, its jobs are cancelled (queued
        ones leave the queue, a batch of only them stops) and the request ends with 499."""
        watcher = asyncio.create_task(self._watch_disconnect(request, jobs))
        try:
            return await asyncio.gather(*(self.result(j) for j in jobs))
        finally:
            watcher.cancel()
            for job in jobs:  # a failed sibling (timeout, error) frees the others' slots too
                self.batcher.cancel(job)

    async def _watch_disconnect(self, request, jobs: list[Job]) -> None:
        # The body is read, so the next ASGI message is the disconnect (uvicorn sends it when the
        # peer closes the connection).
        while True:
            message = await request.receive()
            if message.get("type") == "http.disconnect":
                for job in jobs:
                    self.batcher.cancel(job)
                return


def _engine_error(err: Exception) -> APIError:
    from lifecycle.errors import LifecycleError

    if isinstance(err, LifecycleError):
        return APIError(400, str(err))
    return APIError(500, f"generation failed: {type(err).__name__}: {err}", type="server_error")


def create_app(served, cfg, rag=None):
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from contextlib import asynccontextmanager
    from pydantic import ValidationError

    state = ServerState(served, cfg, rag)

    @asynccontextmanager
    async def lifespan(app):
        state.batcher.start()
        try:
            yield
        finally:  # uvicorn has let in-flight requests finish; stop the worker once its queue is empty
            await asyncio.to_thread(state.batcher.close, cfg.graceful_shutdown_s or None)

    app = FastAPI(title="lifecycle serve", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.lifecycle = state

    def error_response(err: APIError, endpoint: str) -> JSONResponse:
        state.metrics.inc("requests_total", endpoint=endpoint, status=str(err.status))
        headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
        return JSONResponse(err.body(), status_code=err.status, headers=headers)

    async def parse(request: Request, model_cls):
        state.check_auth(request.headers.get("authorization"))
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cfg.max_body_bytes:
            raise APIError(413, f"request body over {cfg.max_body_bytes} bytes", code="body_too_large")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > cfg.max_body_bytes:
                raise APIError(413, f"request body over {cfg.max_body_bytes} bytes", code="body_too_large")
        try:
            data = json.loads(bytes(body) or b"null")
        except ValueError as err:
            raise APIError(400, f"malformed JSON body: {err}") from None
        if not isinstance(data, dict):
            raise APIError(400, "the body must be a JSON object")
        try:
            req = model_cls.model_validate(data)
        except ValidationError as err:
            msg, loc = _validation_message(err)
            raise APIError(400, msg, param=loc) from None
        state.check_model(req.model)
        return req

    def envelope(kind: str, rid: str, created: int) -> dict:
        return {"id": rid, "object": kind, "created": created, "model": served.name,
                "system_fingerprint": (served.weights_sha256 or "")[:16] or None, "lifecycle": served.describe()}

    def usage(prompt: int, completion: int) -> dict:
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def account(endpoint: str, t0: float, gens) -> None:
        state.metrics.inc("requests_total", endpoint=endpoint, status="200")
        state.metrics.inc("prompt_tokens_total", sum(g.tokens_in for g in gens))
        state.metrics.inc("generation_tokens_total", sum(g.tokens_out for g in gens))
        state.metrics.observe("request_seconds", time.perf_counter() - t0)

    def make_jobs(prompts: list[tuple[str, bool]], n: int, settings, stops, group, stream: bool) -> list[Job]:
        loop = asyncio.get_running_loop()
        jobs = []
        for text, special in prompts:
            for _ in range(n):
                jobs.append(Job(uuid.uuid4().hex, text, special, settings, stops, group, loop, stream=stream))
        for job in jobs:
            state.submit(job)
        return jobs

    async def stream_events(job: Job, t0: float, endpoint: str, chunk, final_usage: bool):
        """SSE lines for one job: text deltas, the finishing chunk, optional usage, [DONE]."""
        from lifecycle.serve.batcher import StreamText

        sent = StreamText(None, ())
        first = True
        deadline = t0 + cfg.request_timeout_s
        try:
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise APIError(504, f"generation did not finish within {cfg.request_timeout_s:g} s",
                                   type="timeout_error", code="timeout")
                try:
                    kind, value = await asyncio.wait_for(job.events.get(), min(left, KEEPALIVE_S))
                except asyncio.TimeoutError:
                    # an SSE comment while waiting: clients ignore it, and a closed connection shows
                    # up here (the send fails) instead of only at the first token
                    yield ": keep-alive\n\n"
                    continue
                if kind == "delta":
                    sent.sent += value
                    if first:
                        state.metrics.observe("time_to_first_token_seconds", time.perf_counter() - t0)
                        first = False
                    yield f"data: {json.dumps(chunk(value, None))}\n\n"
                elif kind == "error":
                    raise _engine_error(value)
                elif kind == "cancelled":
                    return
                else:
                    gen = value
                    rest = sent.finish(gen.text)
                    if rest and first:
                        state.metrics.observe("time_to_first_token_seconds", time.perf_counter() - t0)
                    if rest:
                        yield f"data: {json.dumps(chunk(rest, None))}\n\n"
                    yield f"data: {json.dumps(chunk('', _FINISH[gen.stopped_by]))}\n\n"
                    if final_usage:
                        yield f"data: {json.dumps(chunk(None, None, usage(gen.tokens_in, gen.tokens_out)))}\n\n"
                    yield "data: [DONE]\n\n"
                    account(endpoint, t0, [gen])
                    return
        except APIError as err:
            state.metrics.inc("requests_total", endpoint=endpoint, status=str(err.status))
            yield f"data: {json.dumps(err.body())}\n\n"
            yield "data: [DONE]\n\n"
        finally:  # the client went away: its job leaves the queue, or its batch may stop (no-op once done)
            state.batcher.cancel(job)

    def sse(gen) -> StreamingResponse:
        return StreamingResponse(gen, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.exception_handler(APIError)
    async def _api_error(request: Request, err: APIError):
        return error_response(err, request.url.path)

    @app.exception_handler(404)
    async def _not_found(request: Request, err):
        return error_response(APIError(404, f"no route {request.method} {request.url.path}", code="not_found"),
                              "unknown")

    @app.exception_handler(405)
    async def _not_allowed(request: Request, err):
        return error_response(APIError(405, f"{request.method} is not allowed on {request.url.path}"),
                              request.url.path)

    @app.get("/health")
    async def health():
        return {"status": "ok", "model": served.name, "run": served.run_id, "queue_depth": state.batcher.depth,
                "uptime_s": round(time.time() - state.started, 3),
                "rag": state.rag.describe() if state.rag is not None else None}

    def with_context(text: str, max_tokens: int):
        """(prompt, Retrieved) for a /v1/completions prompt under serve --rag; (prompt, None) without."""
        if state.rag is None:
            return text, None
        from lifecycle.serve.rag import completion_prompt

        loaded = served.loaded
        found = state.rag.search(text)
        prompt = state.rag.fit(found, lambda context: completion_prompt(text, context),
                               lambda t: len(state.tokenizer(t)["input_ids"]),
                               loaded.context_window - (0 if loaded.encoder_decoder else max_tokens))
        return prompt, found

    @app.get("/metrics")
    async def metrics():
        return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/v1/models")
    async def models(request: Request):
        state.check_auth(request.headers.get("authorization"))
        return {"object": "list", "data": [{
            "id": served.name, "object": "model", "created": int(state.started), "owned_by": "lifecycle",
            "root": served.base, "parent": None, "max_model_len": served.loaded.context_window,
            "lifecycle": served.describe()}]}

    @app.post("/v1/completions")
    async def completions(request: Request):
        t0 = time.perf_counter()
        endpoint = "/v1/completions"
        req = await parse(request, CompletionRequest)
        if req.echo or req.suffix or (req.best_of or 1) > 1:
            raise APIError(400, "echo, suffix and best_of are not supported by this server",
                           param="echo" if req.echo else "suffix" if req.suffix else "best_of")
        settings, stops, group = state.settings(req, req.max_tokens)
        texts = [req.prompt] if isinstance(req.prompt, str) else list(req.prompt)
        if not texts or len(texts) > MAX_PROMPTS:
            raise APIError(400, f"prompt: give 1 to {MAX_PROMPTS} prompts", param="prompt")
        for i, text in enumerate(texts):  # an empty prompt is refused before it is searched with
            state.count_and_check(text, True, settings.max_new_tokens, "prompt" if len(texts) == 1 else f"prompt[{i}]")
        found = [None] * len(texts)
        if state.rag is not None:
            texts, found = map(list, zip(*(with_context(t, settings.max_new_tokens) for t in texts)))
            for i, text in enumerate(texts):
                state.count_and_check(text, True, settings.max_new_tokens,
                                      "prompt" if len(texts) == 1 else f"prompt[{i}]")
        rag_info = [f.to_dict() for f in found] if state.rag is not None else None
        rid, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            if len(texts) > 1 or req.n > 1:
                raise APIError(400, "streaming takes one prompt and n = 1", param="stream")
            job = make_jobs([(texts[0], True)], 1, settings, stops, group, True)[0]

            def chunk(text, finish, use=None):
                body = envelope("text_completion", rid, created)
                body["choices"] = [] if text is None else [{"index": 0, "text": text, "finish_reason": finish,
                                                            "logprobs": None}]
                if use is not None:
                    body["usage"] = use
                if finish is not None and rag_info is not None:  # the finishing chunk names the chunks used
                    body["rag"] = rag_info
                return body

            include = bool(req.stream_options and req.stream_options.include_usage)
            return sse(stream_events(job, t0, endpoint, chunk, include))
        jobs = make_jobs([(t, True) for t in texts], req.n, settings, stops, group, False)
        gens = await state.results(request, jobs)
        account(endpoint, t0, gens)
        body = envelope("text_completion", rid, created)
        body["choices"] = [{"index": i, "text": g.text, "finish_reason": _FINISH[g.stopped_by], "logprobs": None}
                           for i, g in enumerate(gens)]
        body["usage"] = usage(sum(g.tokens_in for g in gens[::req.n]), sum(g.tokens_out for g in gens))
        if rag_info is not None:  # one entry per prompt: the chunks (ids, scores, sources) its context holds
            body["rag"] = rag_info
        return body

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        from lifecycle.serve.chat import render_messages

        t0 = time.perf_counter()
        endpoint = "/v1/chat/completions"
        req = await parse(request, ChatRequest)
        settings, stops, group = state.settings(req, req.max_completion_tokens or req.max_tokens)
        text, special, found = render_messages(served, req.messages, state.tokenizer,
                                               max_tokens=settings.max_new_tokens, rag=state.rag)
        state.count_and_check(text, special, settings.max_new_tokens, "messages")
        rag_info = [found.to_dict()] if found is not None else None
        rid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            if req.n > 1:
                raise APIError(400, "streaming takes n = 1", param="n")
            job = make_jobs([(text, special)], 1, settings, stops, group, True)[0]
            opened = {"role": False}

            def chunk(delta, finish, use=None):
                body = envelope("chat.completion.chunk", rid, created)
                if delta is None:
                    body["choices"] = []
                else:
                    d: dict[str, Any] = {"content": delta} if delta or finish is None else {}
                    if not opened["role"]:
                        d["role"], opened["role"] = "assistant", True
                    body["choices"] = [{"index": 0, "delta": d, "finish_reason": finish, "logprobs": None}]
                if use is not None:
                    body["usage"] = use
                if finish is not None and rag_info is not None:
                    body["rag"] = rag_info
                return body

            include = bool(req.stream_options and req.stream_options.include_usage)
            return sse(stream_events(job, t0, endpoint, chunk, include))
        jobs = make_jobs([(text, special)], req.n, settings, stops, group, False)
        gens = await state.results(request, jobs)
        account(endpoint, t0, gens)
        body = envelope("chat.completion", rid, created)
        body["choices"] = [{"index": i, "message": {"role": "assistant", "content": g.text},
                            "finish_reason": _FINISH[g.stopped_by], "logprobs": None} for i, g in enumerate(gens)]
        body["usage"] = usage(gens[0].tokens_in, sum(g.tokens_out for g in gens))
        if rag_info is not None:
            body["rag"] = rag_info
        return body

    return app
