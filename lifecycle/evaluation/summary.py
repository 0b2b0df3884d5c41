"""The plain-text tables `lifecycle eval run` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.prompting.effective import k_label

if TYPE_CHECKING:
    from lifecycle.evaluation.runner import EvalOutcome


def _cell(m: dict) -> str:
    return f"{m['value']:.4f} [{m['ci'][0]:.4f}, {m['ci'][1]:.4f}]"


def eval_table(outcome: "EvalOutcome") -> str:
    runs = outcome.runs
    names = list(runs[0].doc["metrics"])
    header = ["run", "K (what the examples got)", "n", *names]
    rows = [[s.run.id, k_label(s.run.meta.get("budget"), s.shots), str(s.doc["n"]),
             *[_cell(s.doc["metrics"][n]) for n in names]] for s in runs]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines.append("value [95% CI]; eval key " + outcome.eval_key)
    for t in outcome.targets:
        mark = "MET   " if t.met else "MISSED"
        lines.append(f"target {mark} {t.target.metric} {'>=' if t.target.higher_is_better else '<='} "
                     f"{t.target.value:g} ({t.target.source}): {t.reason}" + (f" [run {t.run_id}]" if t.run_id else ""))
    reports = [s.run.path / "report.html" for s in runs if (s.run.path / "report.html").is_file()]
    if reports:
        lines.append("reports: " + ", ".join(map(str, reports)))
    return "\n".join(lines)
