"""Choosing the solved examples (shots) shown before the one asked about.

The pool never contains the example being asked about. `random` draws per example with an RNG
seeded by (seed, example id), so an example gets the same shots whatever the order, limit or resume."""

from __future__ import annotations

import hashlib
import random

from lifecycle.config.prompt import ShotsConfig
from lifecycle.errors import PromptError, did_you_mean


class ShotPool:
    """The examples shots are drawn from, indexed by id."""

    def __init__(self, pool: list[dict], id_field: str, cfg: ShotsConfig) -> None:
        self.examples = pool
        self.id_field = id_field
        self.cfg = cfg
        self.index = {str(ex[id_field]): i for i, ex in enumerate(pool)}
        self.fixed: list[int] = []
        if cfg.selection == "fixed":
            unknown = [i for i in cfg.ids if i not in self.index]
            if unknown:
                raise PromptError(f"shots.ids: {did_you_mean(unknown[0], self.index, kind='shot id')}",
                                  hint="list ids that exist in the shot pool (shots.pool or the dataset)")
            self.fixed = [self.index[i] for i in cfg.ids]

    @property
    def size(self) -> int:
        return len(self.fixed) if self.cfg.selection == "fixed" else len(self.examples)

    def check_k(self, k: int, asked_ids: list[str]) -> None:
        """K larger than what the pool can give some example (the example itself never counts)."""
        if k <= 0:
            return
        what = "fixed shot ids" if self.cfg.selection == "fixed" else "examples in the shot pool"
        if k > self.size:
            raise PromptError(f"{k} shots asked for but there are only {self.size} {what}",
                              hint="lower K (--shots / shots.k) or give a larger pool (shots.pool / shots.ids)")
        members = set(self.cfg.ids) if self.cfg.selection == "fixed" else self.index.keys()
        clash = next((i for i in asked_ids if i in members), None)
        if clash is not None and k > self.size - 1:
            raise PromptError(
                f"{k} shots asked for but example '{clash}' is one of the {self.size} {what}, and an example "
                f"is never its own shot, so only {self.size - 1} remain for it",
                hint="lower K, list one more id (selection: fixed), or draw shots from a separate file (shots.pool)")

    def candidates(self, k: int) -> list[dict]:
        """Every pool example some query could get as a shot with this K (what must hold a target)."""
        if k <= 0:
            return []
        if self.cfg.selection == "fixed":
            return [self.examples[i] for i in self.fixed]
        if self.cfg.selection == "first":
            return self.examples[: k + 1]
        return self.examples

    def select(self, example_id: str, k: int) -> list[dict]:
        if k <= 0:
            return []
        own = self.index.get(example_id)
        if self.cfg.selection == "fixed":
            order = self.fixed
        elif self.cfg.selection == "first":
            order = range(min(len(self.examples), k + 1))
        else:
            rng = random.Random(_seed(self.cfg.seed, example_id))
            order = rng.sample(range(len(self.examples)), min(len(self.examples), k + 1))
        chosen = [i for i in order if i != own][:k]
        return [self.examples[i] for i in chosen]


def _seed(seed: int, example_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\0{example_id}".encode()).digest()[:8], "big")
