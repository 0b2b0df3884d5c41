"""One verdict for a paired comparison, shared by `lifecycle eval compare`, `lifecycle finetune` and
the adapt checks, so that their wording and their significance always agree.

A difference is significant only when both tests say so: the paired-bootstrap interval excludes 0
*and* the permutation p-value is below alpha. So nothing is ever called better with an interval
that crosses 0 (or with p >= alpha)."""

from __future__ import annotations

from dataclasses import dataclass

ALPHA = 0.05


@dataclass(frozen=True)
class Verdict:
    status: str          # "better" | "worse" | "no_difference" | "higher" | "lower" (descriptive metrics)
    significant: bool
    diff: float
    ci: tuple[float, float]
    p_value: float | None

    @property
    def better(self) -> bool:
        """B significantly better than A (what a gate may pass on)."""
        return self.status == "better"

    def short(self) -> str:
        """The `eval compare` column: "B better", "A better", "B higher", "no significant difference"."""
        return {"better": "B better", "worse": "A better", "higher": "B higher", "lower": "B lower"}.get(
            self.status, "no significant difference")

    def why(self) -> str:
        ci = f"95% CI {self.ci[0]:+.4g}..{self.ci[1]:+.4g}"
        p = f", p = {self.p_value:.3g}" if self.p_value is not None else ""
        if self.significant:
            return f"{ci} excludes 0{p}"
        crosses = self.ci[0] <= 0 <= self.ci[1]
        return f"{ci}{' crosses 0' if crosses else ''}{p}" + ("" if crosses else " (not below 0.05)")

    def conclusion(self, b: str, a: str) -> str:
        """E.g. "fine-tuning beats the baseline" (only when significant)."""
        return {"better": f"{b} beats {a}", "worse": f"{b} is worse than {a}",
                "higher": f"{b} is higher than {a}", "lower": f"{b} is lower than {a}"}.get(
            self.status, f"{b} does not significantly differ from {a}")

    def sentence(self, b: str, a: str) -> str:
        """E.g. "fine-tuning beats the baseline (95% CI +0.01..+0.05 excludes 0, p = 0.002)"."""
        return f"{self.conclusion(b, a)} ({self.why()})"


def paired_verdict(diff: float, ci, p_value: float | None, higher_is_better: bool | None, *,
                   alpha: float = ALPHA) -> Verdict:
    """The verdict on B - A = `diff` with its paired interval `ci` and permutation p-value."""
    lo, hi = float(ci[0]), float(ci[1])
    excludes_zero = lo > 0 or hi < 0
    significant = excludes_zero and (p_value is None or p_value < alpha) and diff != 0
    if not significant:
        status = "no_difference"
    elif higher_is_better is None:
        status = "higher" if diff > 0 else "lower"
    else:
        status = "better" if (diff > 0) == bool(higher_is_better) else "worse"
    return Verdict(status, significant, float(diff), (lo, hi), p_value)
