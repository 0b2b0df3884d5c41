"""Console output shared by the catalog commands (`models`, `select`): a rich console that never cuts
ids when piped, and parameter counts as people read them. rich loads only when a command prints."""

from __future__ import annotations

GIB = 1024**3


def console():
    from rich.console import Console

    con = Console(highlight=False, soft_wrap=True)
    # piped or captured output: wide enough that ids and task lists are never cut to "google/f…"
    return con if con.is_terminal else Console(highlight=False, soft_wrap=True, width=200)


def params_label(n: int) -> str:
    """247_577_856 -> '248M', 2_849_757_184 -> '2.85B'."""
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit}" if unit == "B" else f"{n / div:.0f}{unit}"
    return str(n)
