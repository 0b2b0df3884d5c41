"""`lifecycle status`: the four stages with their check counts, the current stage, the last runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.checks.registry import STAGE_TITLES, STAGES, CheckResult, current_stage, run_checks, summarize

LAST_RUNS = 5


@dataclass
class RunLine:
    id: str
    kind: str
    status: str
    headline: str

    def to_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class Board:
    root: Path
    name: str
    results: list[CheckResult]
    runs: list[RunLine] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return summarize(self.results)

    @property
    def current(self) -> str | None:
        return current_stage(self.results)

    def to_dict(self) -> dict:
        return {"project": self.name, "root": str(self.root), "current_stage": self.current,
                "stages": self.counts, "results": [r.to_dict() for r in self.results],
                "runs": [r.to_dict() for r in self.runs]}


def _headline(run, metric: str | None) -> str:
    try:
        data = run.metrics() or {}
    except Exception:  # a broken metrics.json must not break the board; the run line says so
        return "metrics.json unreadable"
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(metrics, dict) or not metrics:
        return ""
    name = metric if metric in metrics else next(iter(metrics))
    entry = metrics[name] if isinstance(metrics[name], dict) else {}
    value, ci = entry.get("value"), entry.get("ci")
    if not isinstance(value, (int, float)):
        return ""
    text = f"{name} {value:.4g}"
    if isinstance(ci, list) and len(ci) == 2:
        text += f" [{ci[0]:.4g}, {ci[1]:.4g}]"
    return text


def _k_note(run) -> str:
    """The effective K of a generated run, when its examples got fewer shots than asked or were cut."""
    from lifecycle.prompting.effective import k_label, used_full_k

    budget = run.meta.get("budget") if isinstance(run.meta, dict) else None
    if not isinstance(budget, dict) or budget.get("k_asked") is None:
        return ""
    if used_full_k(budget) is not False and not budget.get("truncated"):
        return ""
    return f" ({k_label(budget)})"


def last_runs(root: Path, metric: str | None, n: int = LAST_RUNS) -> list[RunLine]:
    from lifecycle.errors import RunError
    from lifecycle.runs.store import RunStore

    lines = []
    for run in RunStore(root / "runs").list()[-n:][::-1]:
        try:
            lines.append(RunLine(run.id, run.kind, run.status, _headline(run, metric) + _k_note(run)))
        except RunError as err:
            lines.append(RunLine(run.id, "?", "unreadable", str(err)))
    return lines


def build_board(root: str | Path) -> Board:
    root = Path(root).resolve()
    results = run_checks(root, measure=False)
    name, metric = root.name, None
    from lifecycle.checks.validate import validate_project

    manifest = validate_project(root).get("lifecycle")
    if manifest is not None and manifest.ok:
        name, metric = manifest.value.project.name, manifest.value.scope.success.metric
    return Board(root, name, results, last_runs(root, metric))


def render_board(board: Board, console) -> None:
    from rich.markup import escape

    from lifecycle.text_safety import printable  # run records and notes are files anyone could edit
    from rich.table import Table

    counts, current = board.counts, board.current
    table = Table(title=f"{escape(board.name)}: lifecycle status", title_justify="left")
    table.add_column("stage")
    table.add_column("pass", justify="right", style="green")
    table.add_column("fail", justify="right", style="red")
    table.add_column("todo", justify="right", style="yellow")
    table.add_column("next")
    for stage in STAGES:
        c = counts[stage]
        first = next((r for r in board.results if r.stage == stage and r.status == "fail"), None) or \
            next((r for r in board.results if r.stage == stage and r.status == "todo"), None)
        label = ("-> " if stage == current else "   ") + STAGE_TITLES[stage]
        nxt = f"{first.id}: {first.hint or first.message}" if first else "done"
        table.add_row(label, str(c["pass"]), str(c["fail"]), str(c["todo"]), escape(printable(nxt)))
    console.print(table)
    if current is None:
        console.print("All stages pass.")
    else:
        console.print(f"Current stage: [bold]{STAGE_TITLES[current]}[/bold]  "
                      f"(details: lifecycle check {current})")
    if board.runs:
        runs = Table(title="Last runs", title_justify="left")
        runs.add_column("run", no_wrap=True)  # ids are what users copy into `eval compare`
        for col in ("kind", "status", "headline"):
            runs.add_column(col)
        for r in board.runs:
            runs.add_row(escape(r.id), escape(printable(r.kind)), escape(printable(r.status)),
                         escape(printable(r.headline)))
        console.print(runs)
    else:
        console.print("No runs yet: `lifecycle eval run --shots 0,1,3` makes the first ones.")
