"""The loss curve of a training run, from the Trainer's log_history."""

from __future__ import annotations

from pathlib import Path


def loss_points(log_history: list[dict], key: str = "loss") -> tuple[list[int], list[float]]:
    steps, values = [], []
    for entry in log_history:
        if key in entry and "step" in entry:
            steps.append(int(entry["step"]))
            values.append(float(entry[key]))
    return steps, values


def plot_loss(log_history: list[dict], out: Path, title: str) -> Path | None:
    """Write a PNG (atomically) of training and validation loss; None when nothing was logged."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    train = loss_points(log_history, "loss")
    val = loss_points(log_history, "eval_loss")
    if not train[0] and not val[0]:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if train[0]:
        ax.plot(*train, marker="o", markersize=3, label="training loss")
    if val[0]:
        ax.plot(*val, marker="s", markersize=3, label="validation loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(out)
    return out
