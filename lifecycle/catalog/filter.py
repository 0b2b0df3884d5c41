"""Which catalog entries `lifecycle models ls` lists: one filter over task, architecture, size and
licence, so the CLI (and any other caller) only parses flags and prints. Light: reads YAML only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, get_args

from lifecycle.catalog import load_catalog
from lifecycle.catalog.entry import Architecture, CatalogEntry
from lifecycle.errors import CatalogError, did_you_mean

ARCHITECTURES: tuple[str, ...] = get_args(Architecture)
_MULTIPLIERS = {"K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9}


def parse_count(text: str) -> int:
    """A parameter count as people write it: `3B`, `500M`, `1.5b`, `7000` -> 3_000_000_000, ..."""
    t = text.strip().upper()
    mult = _MULTIPLIERS.get(t[-1:], 1)
    try:
        return int(float(t[:-1] if mult != 1 else t) * mult)
    except ValueError:
        raise CatalogError(f"cannot read parameter count '{text}'", hint="write it like 3B, 500M or 1.5B") from None


@dataclass(frozen=True)
class CatalogFilter:
    """Every criterion is optional; an entry passes when it meets all that are set."""

    task: str | None = None
    architecture: str | None = None
    max_parameters: int | None = None
    commercial_only: bool = False
    licence: str | None = None

    def __post_init__(self) -> None:
        if self.architecture is not None and self.architecture not in ARCHITECTURES:
            raise CatalogError(did_you_mean(self.architecture, list(ARCHITECTURES), kind="architecture"))

    @classmethod
    def from_text(cls, *, task: str | None = None, architecture: str | None = None, max_params: str | None = None,
                  commercial_only: bool = False, licence: str | None = None) -> "CatalogFilter":
        """From command-line text: `max_params` like `3B`; a bad value is one CatalogError line."""
        return cls(task=task or None, architecture=architecture or None,
                   max_parameters=parse_count(max_params) if max_params else None,
                   commercial_only=commercial_only, licence=licence or None)

    def matches(self, entry: CatalogEntry) -> bool:
        return ((self.task is None or self.task in [t.value for t in entry.tasks])
                and (self.architecture is None or entry.architecture == self.architecture)
                and (self.max_parameters is None or entry.parameters <= self.max_parameters)
                and (not self.commercial_only or entry.commercial_use)
                and (self.licence is None or entry.licence.lower() == self.licence.lower()))


def filter_catalog(criteria: CatalogFilter, entries: Iterable[CatalogEntry] | None = None) -> list[CatalogEntry]:
    """The entries (default: the built-in catalog, in its order) that meet `criteria`."""
    return [e for e in (load_catalog() if entries is None else entries) if criteria.matches(e)]
