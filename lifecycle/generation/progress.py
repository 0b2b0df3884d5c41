"""A progress bar for generation with examples/s and tokens/s (rich, on stderr)."""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

Advance = Callable[[int, int], None]  # (examples finished in this batch, tokens they generated)


@contextlib.contextmanager
def generation_progress(total: int, *, enabled: bool, label: str = "generating") -> Iterator[Advance]:
    if not enabled or total == 0:
        yield lambda *_: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    start = time.perf_counter()
    done = tokens = 0
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total, rate="")

        def advance(n: int, new_tokens: int) -> None:
            nonlocal done, tokens
            done, tokens = done + n, tokens + new_tokens
            elapsed = max(time.perf_counter() - start, 1e-9)
            bar.update(task, advance=n, rate=f"{done / elapsed:.2f} ex/s  {tokens / elapsed:.0f} tok/s")

        yield advance
