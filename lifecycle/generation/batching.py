"""Batches by a token budget, longest inputs first.

Sorting by length keeps padding (wasted compute) small; going longest-first makes the most
memory-hungry batch the first one, so an out-of-memory shows up at once rather than an hour in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchLimits:
    batch_tokens: int  # size x (longest input + max_new_tokens) x beams
    max_batch_size: int
    max_new_tokens: int
    num_beams: int = 1


def batch_cost(size: int, longest: int, limits: BatchLimits) -> int:
    return size * (longest + limits.max_new_tokens) * limits.num_beams


def plan_batches(lengths: list[int], limits: BatchLimits) -> list[list[int]]:
    """Indices into `lengths`, grouped into batches; every index appears exactly once.

    A single example over the budget still gets a batch of its own (the budget bounds batching,
    it does not refuse examples: prompt budgeting does that)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        if current and (len(current) >= limits.max_batch_size
                        or batch_cost(len(current) + 1, longest, limits) > limits.batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def split(batch: list[int], size: int) -> list[list[int]]:
    return [batch[i:i + size] for i in range(0, len(batch), size)]
