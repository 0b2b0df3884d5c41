"""The built-in model catalog, memory estimates and model selection.

Light on import (no torch): `lookup`, `load_catalog`, `licence_ok` only read YAML. Parameter counts
and memory estimates (`count_parameters`, `estimate_memory`, `fits_memory`) import torch and
transformers lazily when called.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lifecycle.catalog.entry import CatalogEntry
from lifecycle.errors import CatalogError, did_you_mean

CATALOG_FILE = Path(__file__).with_name("models.yaml")

__all__ = [
    "CATALOG_FILE", "CatalogEntry", "load_catalog", "lookup", "get_entry", "licence_ok",
    "count_parameters", "estimate_memory", "fits_memory", "MemoryEstimate",
]


@lru_cache(maxsize=1)
def load_catalog() -> tuple[CatalogEntry, ...]:
    """Every entry of models.yaml, validated (safe YAML, located errors)."""
    from lifecycle.catalog.entry import Catalog
    from lifecycle.config.yaml_io import load_config

    return tuple(load_config(CATALOG_FILE, Catalog).models)


def _index() -> dict[str, CatalogEntry]:
    return {name.lower(): e for e in load_catalog() for name in e.names}


def lookup(model_id: str) -> CatalogEntry | None:
    """The catalog entry for a hub id or alias (case-insensitive), or None."""
    return _index().get(model_id.strip().lower())


def get_entry(model_id: str) -> CatalogEntry:
    """Like `lookup`, but an unknown id is a CatalogError with a 'did you mean'."""
    entry = lookup(model_id)
    if entry is None:
        names = [n for e in load_catalog() for n in e.names]
        raise CatalogError(did_you_mean(model_id, names, kind="model id"),
                           hint="`lifecycle models ls` lists the catalog")
    return entry


def licence_ok(entry: CatalogEntry, commercial_use: bool) -> tuple[bool, str]:
    """Does the entry's licence fit the scope's commercial-use answer?"""
    if not commercial_use:
        return True, f"licence {entry.licence}; commercial use not required"
    if entry.commercial_use:
        return True, f"licence {entry.licence} allows commercial use"
    return False, f"licence {entry.licence} does not allow commercial use"


def __getattr__(name: str):
    # Heavy helpers load on first use so `import lifecycle.catalog` stays light.
    if name in ("count_parameters", "build_meta_model"):
        from lifecycle.catalog import params

        return getattr(params, name)
    if name in ("estimate_memory", "MemoryEstimate"):
        from lifecycle.catalog import memory

        return getattr(memory, name)
    if name == "fits_memory":
        from lifecycle.catalog.selection import fits_memory

        return fits_memory
    raise AttributeError(name)
