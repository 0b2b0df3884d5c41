"""Report plots as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from typing import Sequence


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _target_line(ax, value: float | None) -> None:
    """The target as a dashed red line (drawn only when the metric has one)."""
    if value is not None:
        ax.axhline(value, color="#cf222e", ls="--", lw=1.2, label=f"target {value:g}")


def metric_intervals(labels: Sequence[str], metrics: dict[str, list[tuple[float, float, float]]], *,
                     title: str = "metric per run (bars: value, whiskers: 95% CI)",
                     targets: dict[str, float] | None = None) -> bytes:
    """One panel per metric: each run's value with its confidence interval.
    `metrics[name]` holds (value, lo, hi) per label; `targets[name]` draws that metric's target."""
    plt = _pyplot()
    names = list(metrics)
    cols = min(3, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.6 * rows + 0.3), squeeze=False)
    for ax, name in zip(axes.flat, names):
        vals = metrics[name]
        xs = range(len(vals))
        centers = [v for v, _, _ in vals]
        err = [[v - lo for v, lo, _ in vals], [hi - v for v, _, hi in vals]]
        ax.bar(xs, centers, color="#4c78a8", alpha=0.85)
        ax.errorbar(xs, centers, yerr=err, fmt="none", ecolor="black", capsize=4)
        ax.set_xticks(list(xs), labels, rotation=20 if len(labels) > 3 else 0, fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        if targets and name in targets:
            _target_line(ax, targets[name])
            ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _png(fig)


def metric_vs_shots(shots: Sequence[int], metrics: dict[str, list[tuple[float, float, float]]], *,
                    tick_labels: Sequence[str] | None = None, targets: dict[str, float] | None = None) -> bytes:
    """The ladder; `tick_labels` name each rung by its effective K ("K=3 (1.4 used)"); `targets`
    draws the target of each metric shown."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name, vals in metrics.items():
        ax.plot(shots, [v for v, _, _ in vals], marker="o", label=name)
        ax.fill_between(shots, [lo for _, lo, _ in vals], [hi for _, _, hi in vals], alpha=0.18)
    for name, value in (targets or {}).items():
        if name in metrics:
            ax.axhline(value, color="#cf222e", ls="--", lw=1.2, label=f"{name} target {value:g}")
    ax.set_xlabel("shots (solved examples in the prompt)")
    ax.set_ylabel("score")
    ax.set_xticks(list(shots), list(tick_labels) if tick_labels else [f"K={k}" for k in shots], fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("in-context-learning ladder (band: 95% CI)", fontsize=10)
    return _png(fig)


def length_histograms(pred_words: Sequence[float], ref_words: Sequence[float]) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    top = max([*pred_words, *ref_words, 1])
    bins = min(30, int(top) + 1)
    ax.hist(ref_words, bins=bins, range=(0, top), alpha=0.55, label="references", color="#f58518")
    ax.hist(pred_words, bins=bins, range=(0, top), alpha=0.55, label="predictions", color="#4c78a8")
    ax.set_xlabel("words")
    ax.set_ylabel("examples")
    ax.legend(fontsize=8)
    ax.set_title("length distribution", fontsize=10)
    return _png(fig)


def heatmap(rows: Sequence[str], cols: Sequence[str], values: list[list[float | None]], title: str) -> bytes:
    import numpy as np

    plt = _pyplot()
    data = np.array([[np.nan if v is None else v for v in r] for r in values], dtype=float)
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 2.5, 0.5 * len(rows) + 1.6))
    im = ax.imshow(data, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if not np.isnan(data[i, j]):
                ax.text(j, i, f"{data[i, j]:.3g}", ha="center", va="center", color="white", fontsize=7)
    fig.colorbar(im, ax=ax)
    ax.set_title(title, fontsize=10)
    return _png(fig)


def paired_differences(names: Sequence[str], diffs: Sequence[tuple[float, float, float]], title: str) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 0.45 * len(names) + 1.5))
    ys = range(len(names))
    ax.errorbar([d for d, _, _ in diffs], list(ys), xerr=[[d - lo for d, lo, _ in diffs], [hi - d for d, _, hi in diffs]],
                fmt="o", capsize=4, color="#4c78a8")
    ax.axvline(0, color="gray", lw=1)
    ax.set_yticks(list(ys), names, fontsize=8)
    ax.set_xlabel("B - A (95% paired bootstrap CI)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def loss_curve(train: Sequence[tuple[float, float]], evals: Sequence[tuple[float, float]] = (), *,
               title: str = "training loss") -> bytes:
    """Loss against step: the trainer's logged training loss, and eval loss where it was logged."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.8, 3.4))
    if train:
        ax.plot([s for s, _ in train], [v for _, v in train], marker="o" if len(train) < 30 else None,
                ms=3, label="train loss", color="#4c78a8")
    if evals:
        ax.plot([s for s, _ in evals], [v for _, v in evals], marker="s", ms=4, label="eval loss", color="#f58518")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _png(fig)
