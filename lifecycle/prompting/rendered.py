"""What a prompt builder hands to generation, evaluation and fine-tuning."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lifecycle.prompting.effective import k_label


@dataclass
class RenderedPrompt:
    id: str
    text: str                 # the exact string fed to the tokenizer (chat template already applied)
    n_tokens: int             # counted with the model's tokenizer, as `encode_kwargs` says
    shots_used: int
    shot_ids: list[str]
    truncated: bool
    truncated_tokens: int     # tokens cut from `truncated_field` (0 when not truncated)
    reference: Any | None     # example[target_field] when present
    shots_requested: int = 0  # K asked for; more than shots_used when the budget dropped shots
    truncated_field: str | None = None
    add_special_tokens: bool = True  # False for chat-templated text (the template holds them already)
    chat: bool = False
    rag: dict | None = None  # `--rag`: the chunks retrieved for the example (ids, scores, used/dropped)

    @property
    def encode_kwargs(self) -> dict:
        """Pass to the tokenizer so that its count equals `n_tokens`."""
        return {"add_special_tokens": self.add_special_tokens}

    def budget_record(self) -> dict:
        """The per-example budget facts a run's predictions.jsonl keeps (nothing is cut silently)."""
        keys = ("n_tokens", "shots_requested", "shots_used", "shot_ids", "truncated", "truncated_tokens",
                "truncated_field")
        data = asdict(self)
        return {k: data[k] for k in keys}


@dataclass
class BudgetSummary:
    n: int
    k: int
    shots_dropped: int        # examples that got fewer shots than K
    truncated: int
    max_tokens: int
    limit: int
    ids_dropped: list[str] = field(default_factory=list)
    ids_truncated: list[str] = field(default_factory=list)
    shots_used_total: int = 0

    def line(self) -> str:
        honest = k_label({"k_asked": self.k, "n": self.n, "full_k": self.n - self.shots_dropped,
                          "k_mean_used": self.shots_used_total / self.n if self.n else 0.0})
        parts = [f"{self.n} prompts with {honest}: longest {self.max_tokens} of {self.limit} tokens"]
        if self.shots_dropped:
            parts.append(f"{self.shots_dropped} got fewer shots to fit ({_ids(self.ids_dropped)})")
        if self.truncated:
            parts.append(f"{self.truncated} truncated ({_ids(self.ids_truncated)})")
        if not self.shots_dropped and not self.truncated:
            parts.append("all fit as asked")
        return "; ".join(parts)


def _ids(ids: list[str], shown: int = 5) -> str:
    return ", ".join(ids[:shown]) + (f", ... {len(ids) - shown} more" if len(ids) > shown else "")


def summarize_budget(prompts: list[RenderedPrompt], limit: int) -> BudgetSummary:
    dropped = [p.id for p in prompts if p.shots_used < p.shots_requested]
    cut = [p.id for p in prompts if p.truncated]
    k = max((p.shots_requested for p in prompts), default=0)
    return BudgetSummary(len(prompts), k, len(dropped), len(cut), max((p.n_tokens for p in prompts), default=0),
                         limit, dropped, cut, sum(p.shots_used for p in prompts))
