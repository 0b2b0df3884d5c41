"""report.md / report.html of a sweep run: points ranked by mean metric with spread, and a heatmap."""

from __future__ import annotations

from lifecycle.evaluation.reports import plots
from lifecycle.evaluation.reports.document import Doc


def _numeric_axes(points: list[dict]) -> list[str]:
    """Settings that take more than one value across the points, most values first."""
    values: dict[str, set] = {}
    for p in points:
        for k, v in p["point"].items():
            values.setdefault(k, set()).add(v)
    varying = [k for k, vs in values.items() if len(vs) > 1]
    numeric = lambda k: all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values[k])  # noqa: E731
    # decoding knobs (temperature, top_p, ...) make the informative axes; preset only as a fallback
    return sorted(varying, key=lambda k: (not numeric(k), -len(values[k])))


def _heatmap(doc: dict) -> tuple[bytes, str]:
    points = doc["points"]
    metric = doc["metric"]
    axes = _numeric_axes(points)
    if len(axes) >= 2:
        rk, ck = axes[0], axes[1]
        rows = sorted({str(p["point"].get(rk, "-")) for p in points})
        cols = sorted({str(p["point"].get(ck, "-")) for p in points})
        cells: dict[tuple[str, str], list[float]] = {}
        for p in points:
            cells.setdefault((str(p["point"].get(rk, "-")), str(p["point"].get(ck, "-"))), []).append(p["mean"])
        grid = [[(sum(cells[(r, c)]) / len(cells[(r, c)])) if (r, c) in cells else None for c in cols] for r in rows]
        title = f"mean {metric}: {rk} (rows) x {ck} (columns), averaged over the other settings and seeds"
        return plots.heatmap([f"{rk}={r}" for r in rows], [f"{ck}={c}" for c in cols], grid, title), title
    seeds = max(len(p["values"]) for p in points)
    grid = [[p["values"][j] if j < len(p["values"]) else None for j in range(seeds)] for p in points]
    title = f"{metric} per setting (rows) and seed (columns)"
    return plots.heatmap([p["label"] for p in points], [f"seed #{j + 1}" for j in range(seeds)], grid, title), title


def build_sweep_doc(doc: dict, run_id: str) -> Doc:
    d = Doc(f"Generation sweep {run_id}")
    target = doc.get("target")
    d.p(f"metric: {doc['metric']} ({'higher' if doc['higher_is_better'] else 'lower'} is better) | "
        f"target: {target if target is not None else 'none'} | shots: "
        f"{doc['shots']} | seeds for sampling: {doc['seeds']} | eval key: {doc['eval_key']}", "meta")
    d.h2("Points, best first")
    d.table(["rank", "setting", "runs", "mean", "std", "min", "max", "eval runs"],
            [[i + 1, p["label"], len(p["values"]), p["mean"], p["std"], p["min"], p["max"], ", ".join(p["runs"])]
             for i, p in enumerate(doc["points"])])
    png, title = _heatmap(doc)
    d.h2("Heatmap")
    d.image("sweep.png", png, title)
    labels = [p["label"] for p in doc["points"]]
    d.image("points.png", plots.metric_intervals([f"#{i + 1}" for i in range(len(labels))], {
        doc["metric"]: [(p["mean"], p["min"], p["max"]) for p in doc["points"]]},
        title="mean per point (whiskers: min..max over seeds)",
        targets={doc["metric"]: target} if target is not None else None),
        "mean per point (whiskers: min..max over seeds); #N = rank in the table"
        + (f"; dashed line: the target {target:g}" if target is not None else ""))
    return d
