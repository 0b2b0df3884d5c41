"""The micro-batcher: requests from the event loop, generation in one worker thread.

A request becomes a Job; the worker takes the oldest waiting job, waits up to `max_wait_ms` for
more jobs with the same generation settings (the same `group`) until as many are there as clients
can be expected: the previous batch's (its clients come back) plus those that queued while it ran
(at most `max_batch_size`), and runs them through one Engine (one per group, cached) in a single
`generate` call. Waiting for that, not for `max_batch_size`, means a lone client (concurrency 1)
never waits, c clients wait only until all c are back, and batches grow back to c after a split
(counting only the previous batch, c=4 settled into alternating batches of 2). The wait starts when
the worker becomes free, so a job queued during a batch still collects the clients that batch answers. Results and streamed text go back to the job's asyncio queue with
`call_soon_threadsafe`.

A job whose client went away (`Batcher.cancel`) before its batch started is dropped: its slot goes
to the next one. During a batch, the Engine polls each job's `cancel()` every decoding step and
stops that row (an Engine that has this hook); and the batch's streamer, which sees every step too,
stops `generate` outright once every job of the batch is cancelled, so the worker takes the next
batch at once (with or without the hook)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from lifecycle.serve.metrics import Metrics

_ENGINE_CACHE = 16  # distinct generation settings kept warm


@dataclass(eq=False)  # jobs are compared by identity (queue removal)
class Job:
    id: str
    text: str
    add_special_tokens: bool
    settings: Any                # GenerationSettings (resolved), max_batch_size set to the server's
    stops: tuple[str, ...]
    group: str                   # jobs of one group can share a batch
    loop: asyncio.AbstractEventLoop
    stream: bool = False
    events: asyncio.Queue = field(default_factory=asyncio.Queue)
    enqueued: float = field(default_factory=time.perf_counter)
    started: float | None = None
    finished: bool = False
    cancelled: bool = False

    def cancel(self) -> bool:
        """Polled by the Engine every decoding step (its per-request `cancel` hook): True once the
        client is gone, and the row stops there (stopped_by "cancelled")."""
        return self.cancelled

    def post(self, kind: str, value: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, value))
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


class StreamText:
    """Turns a growing list of token ids into text deltas whose concatenation is always a prefix of
    the engine's final text (stripped, cut at the first stop sequence): text that a later token could
    still change (a partial stop sequence, trailing spaces, a half UTF-8 character) is held back."""

    def __init__(self, tokenizer, stops: tuple[str, ...]) -> None:
        self.tokenizer, self.stops = tokenizer, stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.ids: list[int] = []
        self.sent = ""

    def add(self, token: int) -> str:
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True).lstrip()
        if self.stops:
            cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
            text = text[:cut] if cut >= 0 else text[:max(0, len(text) - self.hold)]
        text = text.rstrip("\ufffd").rstrip()
        return self._delta(text)

    def finish(self, final: str) -> str:
        return self._delta(final)

    def _delta(self, text: str) -> str:
        if len(text) <= len(self.sent) or not text.startswith(self.sent):
            return ""
        delta, self.sent = text[len(self.sent):], text
        return delta


class Abandoned(Exception):
    """Raised from inside `generate` (by the batch's streamer) when every client of the batch left."""


class _RowStreamer:
    """A transformers streamer for a whole batch: the first put() is the prompt (or the decoder's
    start token), then one token per row per step. It streams text to the jobs that stream, and
    stops the batch (raises Abandoned) once every job in it is cancelled."""

    def __init__(self, jobs: list[Job | None], tokenizer, metrics: Metrics) -> None:
        self.jobs = [job for job in jobs if job is not None]
        self.rows = [(job, StreamText(tokenizer, job.stops)) if job is not None and job.stream else None for job in jobs]
        self.metrics = metrics
        self.first = True
        self.done = [False] * len(jobs)
        self.steps = 0

    def put(self, value) -> None:
        if self.jobs and all(job.cancelled for job in self.jobs):
            raise Abandoned(f"all {len(self.jobs)} clients of the batch left after {self.steps} steps")
        if self.first:
            self.first = False
            return
        self.steps += 1
        tokens = value.reshape(-1).tolist()
        for row, token in enumerate(tokens):
            entry = self.rows[row] if row < len(self.rows) else None
            if entry is None or self.done[row]:
                continue
            job, text = entry
            delta = text.add(int(token))
            if delta:
                job.post("delta", delta)

    def end(self) -> None:
        pass


class Batcher:
    def __init__(self, served, *, max_batch_size: int, max_wait_ms: float, max_queue: int, metrics: Metrics) -> None:
        self.served = served
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.max_queue = max_queue
        self.metrics = metrics
        self._pending: list[Job] = []
        self._cv = threading.Condition()
        self._closing = False
        self._engines: OrderedDict[str, Any] = OrderedDict()
        self._thread = threading.Thread(target=self._loop, name="lifecycle-serve-worker", daemon=True)
        self.running = 0
        self._last_size = 1  # jobs in the previous batch: how many clients are expected back
        self._queued_at_free = 0  # jobs that were waiting when the previous batch finished
        self._free_since = 0.0  # when the worker finished its previous batch

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Finish every job already queued, then stop the worker."""
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._thread.join(timeout)

    @property
    def depth(self) -> int:
        return len(self._pending)

    def cancel(self, job: Job) -> None:
        """The job's client went away: drop it from the queue, or let its running batch stop early."""
        if job.cancelled or job.finished:  # already gone, or answered: nothing is running for it
            job.cancelled = True
            return
        job.cancelled = True
        with self._cv:
            queued = any(j is job for j in self._pending)
            if queued:
                self._pending = [j for j in self._pending if j is not job]
                self.metrics.set_queue(len(self._pending), self.running)
            self._cv.notify_all()
        if job.started is None or queued:
            self.metrics.inc("cancelled_total", stage="queued")
        else:
            self.metrics.inc("cancelled_total", stage="running")
        job.post("cancelled", None)

    def submit(self, job: Job) -> bool:
        """Queue a job; False when the queue is full or the server is shutting down."""
        with self._cv:
            if self._closing or len(self._pending) >= self.max_queue:
                return False
            self._pending.append(job)
            self.metrics.set_queue(len(self._pending), self.running)
            self._cv.notify_all()
        return True

    # ----------------------------------------------------------------- worker thread
    def _take(self) -> list[Job] | None:
        with self._cv:
            while True:
                self._pending = [j for j in self._pending if not j.cancelled]
                if self._pending:
                    break
                if self._closing:
                    return None
                self._cv.wait()
            first = self._pending[0]
            deadline = max(first.enqueued, self._free_since) + self.max_wait
            expect = min(self.max_batch_size, self._last_size + self._queued_at_free)
            while not self._closing:
                same = sum(1 for j in self._pending if j.group == first.group and not j.cancelled)
                left = deadline - time.perf_counter()
                if same >= expect or left <= 0:
                    break
                self._cv.wait(left)
            batch = [j for j in self._pending if j.group == first.group and not j.cancelled][:self.max_batch_size]
            self._last_size = len(batch)
            taken = {id(j) for j in batch}
            self._pending = [j for j in self._pending if id(j) not in taken and not j.cancelled]
            self.running = len(batch)
            self.metrics.set_queue(len(self._pending), self.running)
            return batch

    def _engine(self, job: Job):
        from lifecycle.generation.engine import Engine

        engine = self._engines.get(job.group)
        if engine is None:
            engine = Engine(self.served.loaded, job.settings, stop=list(job.stops))
            self._engines[job.group] = engine
            while len(self._engines) > _ENGINE_CACHE:
                self._engines.popitem(last=False)
        self._engines.move_to_end(job.group)
        return engine

    def _loop(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            self._run(batch)

    def _run(self, batch: list[Job]) -> None:
        now = time.perf_counter()
        for job in batch:
            job.started = now
            self.metrics.observe("queue_seconds", now - job.enqueued)
        self.metrics.observe("batch_size", len(batch))
        try:
            engine = self._engine(batch[0])
            by_key = {job.id: job for job in batch}
            tokenizer = self.served.loaded.tokenizer
            # always a streamer: it is the per-step hook that stops a batch nobody waits for any more
            engine.streamer_factory = lambda keys: _RowStreamer([by_key.get(k) for k in keys], tokenizer, self.metrics)
            results = engine.generate(batch)
        except Abandoned:
            self.metrics.inc("abandoned_batches_total")
        except Exception as err:  # one bad batch must not stop the server: each job gets the error
            for job in batch:
                job.finished = True
                job.post("error", err)
        else:
            if results and all(g.stopped_by == "cancelled" for g in results):  # the engine stopped every row
                self.metrics.inc("abandoned_batches_total")
            for job, gen in zip(batch, results):
                job.finished = True
                if gen.stopped_by != "cancelled":  # nobody waits for a cancelled row's part-answer
                    job.post("done", gen)
        finally:
            with self._cv:
                self.running = 0
                self._free_since = time.perf_counter()
                self._queued_at_free = sum(1 for j in self._pending if not j.cancelled)
                self.metrics.set_queue(len(self._pending), 0)
