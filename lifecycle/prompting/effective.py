"""Honest K: what a run's examples actually got, not what was asked for.

A "3-shot" run on a 512-token model may give most examples one shot or none (the budget drops
shots) and cut inputs (truncation). Every run records per example `shots_requested`, `shots_used`
and `truncated` (predictions.jsonl) and, in run.yaml, the summary below; every place that names a
run by its K (the eval table, report header, ladder plot, `adapt.icl_ladder`) uses `k_label`.

    summary = effective_k(records)           # from predictions.jsonl records or RenderedPrompts
    summary.label()   # "K=3 asked, 1.4 mean used, 0 of 20 got 3; 5 truncated"
    run.update_meta(budget=summary.as_record())
    k_label(run.meta.get("budget"), shots=3)  # the same text from a recorded run
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


def _get(item: Any, name: str, default=None):
    return item.get(name, default) if isinstance(item, dict) else getattr(item, name, default)


@dataclass
class EffectiveK:
    k_asked: int | None       # None: the records do not say (an external predictions file)
    n: int
    k_mean_used: float | None
    full_k: int                # examples that got all K shots
    truncated: int             # examples whose input was cut
    truncated_tokens: int = 0

    @property
    def honest(self) -> bool:
        """Every example got the K it was asked for (K=0 runs always do)."""
        return self.k_asked is not None and self.full_k == self.n

    def as_record(self) -> dict:
        """The run.yaml `budget` entry (what checks, tables and plots read)."""
        return {"k_asked": self.k_asked, "n": self.n,
                "k_mean_used": None if self.k_mean_used is None else round(self.k_mean_used, 4),
                "full_k": self.full_k, "truncated": self.truncated, "truncated_tokens": self.truncated_tokens}

    def label(self) -> str:
        return k_label(self.as_record())


def effective_k(items: Iterable[Any], k_asked: int | None = None) -> EffectiveK:
    """Summary over RenderedPrompts or prediction records (dicts with shots_used / shots_requested)."""
    items = list(items)
    used = [_get(x, "shots_used") for x in items]
    asked = [_get(x, "shots_requested") for x in items]
    known = [u for u in used if isinstance(u, int)]
    if k_asked is None:
        ks = {a for a in asked if isinstance(a, int)}
        k_asked = max(ks) if ks else None
    truncated = sum(bool(_get(x, "truncated", False)) for x in items)
    cut_tokens = sum(int(_get(x, "truncated_tokens", 0) or 0) for x in items)
    if k_asked is None or len(known) != len(items):
        return EffectiveK(k_asked, len(items), None, 0, truncated, cut_tokens)
    full = sum(u >= k_asked for u in known)
    mean = sum(known) / len(known) if known else 0.0
    return EffectiveK(k_asked, len(items), mean, full, truncated, cut_tokens)


def k_label(budget: dict | None, shots: int | None = None, *, short: bool = False) -> str:
    """How a run is named by its K. Honest runs: "K=3" (plus truncation); others say what happened:
    "K=3 asked, 1.4 mean used, 0 of 20 got 3". `short` gives a plot tick label ("K=3 (1.4 used)")."""
    budget = budget if isinstance(budget, dict) else {}
    k = budget.get("k_asked", shots)
    if k is None:
        return "K=?" if short else "K unknown (external predictions)"
    n, mean, full = budget.get("n"), budget.get("k_mean_used"), budget.get("full_k")
    truncated = budget.get("truncated") or 0
    if not isinstance(n, int) or not isinstance(mean, (int, float)) or not isinstance(full, int):
        text = f"K={k} (shots used not recorded)" if not short else f"K={k}?"
        return text
    honest = full == n
    used = f"{mean:.2f}".rstrip("0").rstrip(".")  # 2.95 stays 2.95: never rounds up to the K asked
    if short:
        return f"K={k}" if honest else f"K={k} ({used} used)"
    text = f"K={k}" if honest else f"K={k} asked, {used} mean used, {full} of {n} got {k}"
    if truncated:
        text += f"; {truncated} of {n} truncated"
    return text


def effective_k_of(budget: dict | None) -> float | None:
    """The mean K a run's examples got (None when not recorded)."""
    mean = budget.get("k_mean_used") if isinstance(budget, dict) else None
    return float(mean) if isinstance(mean, (int, float)) else None


def used_full_k(budget: dict | None) -> bool | None:
    """True when every example got the K asked; None when the run does not record it."""
    if not isinstance(budget, dict):
        return None
    n, full = budget.get("n"), budget.get("full_k")
    if not isinstance(n, int) or not isinstance(full, int):
        return None
    return full == n
