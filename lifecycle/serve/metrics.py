"""Prometheus text-format metrics for /metrics (format 0.0.4), without the prometheus_client
dependency: counters, two gauges and a few histograms, guarded by one lock."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

PREFIX = "lifecycle_serve"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
HISTOGRAMS = {
    "request_seconds": ("End-to-end request latency.", LATENCY_BUCKETS),
    "time_to_first_token_seconds": ("Time from arrival to the first streamed text.", LATENCY_BUCKETS),
    "queue_seconds": ("Time a request waited for its batch.", LATENCY_BUCKETS),
    "batch_size": ("Requests per generated batch.", (1, 2, 4, 8, 16, 32, 64, 128, 256)),
}
COUNTERS = {
    "requests_total": "Requests answered, by endpoint and HTTP status.",
    "prompt_tokens_total": "Prompt tokens processed.",
    "generation_tokens_total": "Tokens generated.",
    "cancelled_total": "Requests whose client went away, by where they were (queued or running).",
    "abandoned_batches_total": "Batches stopped mid-generation because every client in them left.",
}


class _Histogram:
    def __init__(self, buckets) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * len(self.buckets)
        self.sum = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        i = bisect.bisect_left(self.buckets, value)
        if i < len(self.counts):
            self.counts[i] += 1
        self.sum += value
        self.n += 1


def _labels(labels: tuple) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else ""


class Metrics:
    def __init__(self, model_name: str) -> None:
        self.model = model_name
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple, float]] = {name: defaultdict(float) for name in COUNTERS}
        self._hist = {name: _Histogram(b) for name, (_, b) in HISTOGRAMS.items()}
        self.queue_depth = 0
        self.running = 0

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        with self._lock:
            self._counters[name][tuple(sorted(labels.items()))] += value

    def observe(self, name: str, value: float) -> None:
        with self._lock:
            self._hist[name].observe(value)

    def set_queue(self, depth: int, running: int) -> None:
        self.queue_depth, self.running = depth, running

    def render(self) -> str:
        out = []
        model = (("model", self.model),)
        with self._lock:
            for name, help_text in COUNTERS.items():
                full = f"{PREFIX}_{name}"
                out += [f"# HELP {full} {help_text}", f"# TYPE {full} counter"]
                series = self._counters[name] or {(): 0.0}
                for labels, value in sorted(series.items()):
                    out.append(f"{full}{_labels(model + labels)} {value:g}")
            for name, help_text in (("queue_depth", "Requests waiting for a batch."),
                                    ("running_requests", "Requests in the batch being generated.")):
                full = f"{PREFIX}_{name}"
                value = self.queue_depth if name == "queue_depth" else self.running
                out += [f"# HELP {full} {help_text}", f"# TYPE {full} gauge", f"{full}{_labels(model)} {value}"]
            for name, (help_text, _) in HISTOGRAMS.items():
                full = f"{PREFIX}_{name}"
                h = self._hist[name]
                out += [f"# HELP {full} {help_text}", f"# TYPE {full} histogram"]
                cumulative = 0
                for bound, count in zip(h.buckets, h.counts):
                    cumulative += count
                    out.append(f'{full}_bucket{_labels(model + (("le", f"{bound:g}"),))} {cumulative}')
                out.append(f'{full}_bucket{_labels(model + (("le", "+Inf"),))} {h.n}')
                out += [f"{full}_sum{_labels(model)} {h.sum:.6f}", f"{full}_count{_labels(model)} {h.n}"]
        return "\n".join(out) + "\n"
