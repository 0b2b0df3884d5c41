"""The plain-text tables the eval commands print (run, compare, sweep), through one formatter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.prompting.effective import k_label

if TYPE_CHECKING:
    from lifecycle.evaluation.compare import Comparison
    from lifecycle.evaluation.runner import EvalOutcome
    from lifecycle.evaluation.sweep import PointResult


def format_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns two spaces apart, as wide as their widest cell; one line per row."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]


def _cell(m: dict) -> str:
    return f"{m['value']:.4f} [{m['ci'][0]:.4f}, {m['ci'][1]:.4f}]"


def eval_table(outcome: "EvalOutcome") -> str:
    runs = outcome.runs
    names = list(runs[0].doc["metrics"])
    header = ["run", "K (what the examples got)", "n", *names]
    rows = [[s.run.id, k_label(s.run.meta.get("budget"), s.shots), str(s.doc["n"]),
             *[_cell(s.doc["metrics"][n]) for n in names]] for s in runs]
    lines = format_table(header, rows)
    lines.append("value [95% CI]; eval key " + outcome.eval_key)
    for t in outcome.targets:
        mark = "MET   " if t.met else "MISSED"
        lines.append(f"target {mark} {t.target.metric} {'>=' if t.target.higher_is_better else '<='} "
                     f"{t.target.value:g} ({t.target.source}): {t.reason}" + (f" [run {t.run_id}]" if t.run_id else ""))
    reports = [s.run.path / "report.html" for s in runs if (s.run.path / "report.html").is_file()]
    if reports:
        lines.append("reports: " + ", ".join(map(str, reports)))
    return "\n".join(lines)


def compare_table(c: "Comparison") -> str:
    lines = []
    for w in c.warnings:
        lines.append(f"warning: {w}")
    for rid, res in c.results.items():
        lines.append(f"A = {c.baseline.id}  vs  B = {rid}  ({c.n[rid]} paired examples)")
        header = ["metric", "A", "B", "B - A", "95% CI", "p", "verdict"]
        rows = [[r.metric, f"{r.a:.4f}", f"{r.b:.4f}", f"{r.diff:+.4f}", f"[{r.ci[0]:+.4f}, {r.ci[1]:+.4f}]",
                 f"{r.p_value:.4f}", r.verdict] for r in res]
        lines += format_table(header, rows)
    if c.run is not None:
        lines.append(f"report: {c.run.path / 'report.html'}")
    return "\n".join(lines)


def sweep_table(results: "list[PointResult]", metric: str) -> str:
    header = ["rank", "setting", "runs", f"mean {metric}", "std", "min", "max"]
    rows = [[str(i + 1), r.point.label, str(len(r.values)), f"{r.mean:.4f}", f"{r.spread:.4f}",
             f"{min(r.values):.4f}", f"{max(r.values):.4f}"] for i, r in enumerate(results)]
    return "\n".join(format_table(header, rows))
