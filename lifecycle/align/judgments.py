"""Pairwise judgments: the append-only judgments file, reading and validating judgment files,
and inter-annotator agreement (Cohen's kappa).

A judgment line (data/preferences/judgments.jsonl):

    {"pair_id": "...", "annotator": "alice", "choice": "a" | "b" | "tie" | "skip",
     "shown_first": "a" | "b", "time": "..."}

`choice` always names the pair's own side (a or b), whatever side the reviewer saw it on;
`shown_first` records which candidate was on the left."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from lifecycle.data import iter_json_objects
from lifecycle.errors import DataError, located

CHOICES = ("a", "b", "tie", "skip")
LABELS = ("a", "b", "tie")  # what agreement is computed over (skips are no judgment)


def read_judgments(path: Path, *, known_pairs: set[str] | None = None, default_annotator: str | None = None,
                   strict_duplicates: bool = True) -> list[dict]:
    """Judgment records of a JSONL file; DataError naming file:line for a malformed line, an unknown
    choice or pair id, or a second judgment of the same pair by the same annotator."""
    path = Path(path)
    if not path.is_file():
        return []
    out, seen = [], {}
    # Streamed with strict UTF-8, bounded lines and located JSON errors; a last line without its
    # newline that does not parse is the torn append of a crashed reviewer (tolerated when lenient).
    for lineno, obj in iter_json_objects(path, kind="judgments file", torn_tail_ok=not strict_duplicates):
        for field in ("pair_id", "choice"):
            if not isinstance(obj.get(field), str) or not obj[field].strip():
                raise DataError(located(path, lineno, field, "missing or not a non-empty string"),
                                hint='each line: {"pair_id": "...", "choice": "a|b|tie|skip"}')
        choice = obj["choice"].lower()
        if choice not in CHOICES:
            raise DataError(located(path, lineno, "choice", f"'{obj['choice']}' is not one of {', '.join(CHOICES)}"))
        if known_pairs is not None and obj["pair_id"] not in known_pairs:
            raise DataError(located(path, lineno, "pair_id", f"unknown pair '{obj['pair_id']}'"),
                            hint="pair ids come from a pairs run's pairs.jsonl (`lifecycle align pairs`)")
        annotator = obj.get("annotator") or default_annotator or "anonymous"
        key = (obj["pair_id"], annotator)
        if key in seen:
            if strict_duplicates:
                raise DataError(located(path, lineno, "pair_id", f"duplicate judgment of '{obj['pair_id']}' by "
                                        f"'{annotator}' (first at line {seen[key]})"))
            continue
        seen[key] = lineno
        out.append({**obj, "choice": choice, "annotator": annotator, "_line": lineno})
    return out


def cohen_kappa(first: list[str], second: list[str]) -> float:
    """Cohen's kappa of two label sequences (same items, same order)."""
    if len(first) != len(second) or not first:
        raise ValueError("kappa needs two equally long, non-empty label lists")
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    ca, cb = Counter(first), Counter(second)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def kappa_ci(first: list[str], second: list[str], *, samples: int = 1000, seed: int = 42) -> tuple[float, float]:
    """95% percentile-bootstrap interval of Cohen's kappa over the items both labelled."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(first)
    boots = []
    for _ in range(samples):
        idx = rng.integers(0, n, n)
        boots.append(cohen_kappa([first[i] for i in idx], [second[i] for i in idx]))
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return float(lo), float(hi)


def agreement(judgments: list[dict], *, with_ci: bool = False) -> list[dict]:
    """Kappa for each pair of annotators who judged at least one pair in common (skips left out)."""
    by = defaultdict(dict)
    for j in judgments:
        if j["choice"] in LABELS:
            by[j["annotator"]][j["pair_id"]] = j["choice"]
    names = sorted(by)
    out = []
    for i, x in enumerate(names):
        for y in names[i + 1:]:
            common = sorted(set(by[x]) & set(by[y]))
            if not common:
                continue
            a, b = [by[x][p] for p in common], [by[y][p] for p in common]
            row = {"annotators": [x, y], "n": len(common), "kappa": cohen_kappa(a, b),
                   "raw_agreement": sum(u == v for u, v in zip(a, b)) / len(common)}
            if with_ci:
                row["kappa_ci"] = list(kappa_ci(a, b))
            out.append(row)
    return out


def votes_by_pair(judgments: list[dict]) -> dict[str, Counter]:
    votes = defaultdict(Counter)
    for j in judgments:
        if j["choice"] in LABELS:
            votes[j["pair_id"]][j["choice"]] += 1
    return votes
