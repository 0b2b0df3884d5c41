"""Printing generate runs the way the course lab does: input, reference and each run's output side
by side, then what each run did with the token budget."""

from __future__ import annotations

from pathlib import Path


def _clip(text: str, n: int) -> str:
    """Clipped, with terminal control characters escaped and rich markup made literal: the text
    comes from data files and model outputs."""
    from rich.markup import escape

    from lifecycle.text_safety import printable

    text = str(text)
    return escape(printable(text if len(text) <= n else text[: n - 1] + "…"))


def print_side_by_side(results: list, show: int = 3, *, console=None) -> None:
    """A table per example: its input fields, the reference, then each run's output (one row per K)."""
    if not results or show <= 0:
        return
    from rich.console import Console
    from rich.table import Table

    from lifecycle.prompt_template import template_fields

    console = console or Console()
    first = results[0]
    prompt_cfg = first.run.meta.get("config", {}).get("prompt", {})
    fields = template_fields(prompt_cfg.get("template") or "") or []
    examples = {str(ex.get(prompt_cfg.get("id_field", "id"))): ex for ex in first.examples}
    for record in first.records[:show]:
        ex_id = record["id"]
        table = Table(title=f"example {_clip(ex_id, 80)}", show_lines=True, title_justify="left", expand=True)
        table.add_column("", style="bold", no_wrap=True)
        table.add_column("text", overflow="fold")
        ex = examples.get(ex_id, {})
        for name in fields or ["prompt"]:
            table.add_row(name, _clip(ex.get(name, record.get("prompt", "")), 600))
        refs = record.get("references") or []
        table.add_row("reference", _clip(" | ".join(map(str, refs)) if refs else "(none)", 400))
        for res in results:
            other = next((r for r in res.records if r["id"] == ex_id), None)
            if other is None:
                continue
            label = f"K={res.k}" + (f" ({other['shots_used']} used)" if other["shots_used"] != res.k else "")
            label += " truncated" if other.get("truncated") else ""
            table.add_row(label, _clip(other["prediction"], 400) or "(empty)")
        console.print(table)


def print_summary(results: list, root: Path | None = None, *, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    for res in results:
        path = res.run.path
        try:
            shown = path.relative_to(root) if root else path
        except ValueError:
            shown = path
        rate = f"{res.generated / res.wall_s:.2f} ex/s" if res.wall_s and res.generated else "nothing new"
        skipped = len(res.records) - res.generated
        resumed = f", {skipped} already done" if skipped else ""
        console.print(f"K={res.k}: {len(res.records)} predictions ({res.generated} generated{resumed}, {rate}) -> {shown}", soft_wrap=True, highlight=False)
        console.print(f"  budget: {res.budget_line}", highlight=False)
