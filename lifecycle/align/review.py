"""`lifecycle review`: blind pairwise A/B review, one keystroke per judgment, resumable.

Which candidate is shown on the left is drawn at random per (pair, annotator) and recorded, so the
position a reviewer prefers cannot leak into the data. Every judgment is appended (under the file's
lock, one write) as it is made: a crash or `q` loses nothing and a second reviewer on the same file
loses nothing either; restarting shows only what this annotator has not judged yet."""

from __future__ import annotations

import datetime as _dt
import json
import random
from pathlib import Path
from typing import Callable, Iterable

from lifecycle.align.judgments import read_judgments
from lifecycle.errors import DataError
from lifecycle.locking import append_line

KEYS = {"a": "left", "b": "right", "t": "tie", "s": "skip", "q": "quit"}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def shown_first(pair_id: str, annotator: str, seed: int = 0) -> str:
    """Which candidate ("a" or "b") this annotator sees on the left: random, but the same on resume."""
    return random.Random(f"{seed}:{annotator}:{pair_id}").choice(("a", "b"))


def record(path: Path, pair_id: str, annotator: str, choice: str, first: str, source: str = "terminal") -> dict:
    rec = {"pair_id": pair_id, "annotator": annotator, "choice": choice, "shown_first": first, "time": _now(),
           "source": source}
    path.parent.mkdir(parents=True, exist_ok=True)
    append_line(path, json.dumps(rec, ensure_ascii=False))
    return rec


def pending(pairs: list[dict], judgments_path: Path, annotator: str) -> list[dict]:
    done = {j["pair_id"] for j in read_judgments(judgments_path, strict_duplicates=False)
            if j["annotator"] == annotator}
    return [p for p in pairs if p["pair_id"] not in done]


def review_loop(pairs: list[dict], judgments_path: Path, annotator: str, read_key: Callable[[], str],
                show: Callable[[str], None], *, seed: int = 0) -> dict:
    """Ask about each pending pair; returns counts. `read_key` returns one lower-case character."""
    todo = pending(pairs, judgments_path, annotator)
    counts = {"judged": 0, "skipped": 0, "remaining": len(todo), "already": len(pairs) - len(todo)}
    for i, pair in enumerate(todo, start=1):
        first = shown_first(pair["pair_id"], annotator, seed)
        left, right = (pair["a"], pair["b"]) if first == "a" else (pair["b"], pair["a"])
        show(f"\n[{i}/{len(todo)}] prompt:\n{pair['prompt']}\n\n--- A ---\n{left}\n\n--- B ---\n{right}\n\n"
             "A better: a   B better: b   tie: t   skip: s   quit: q")
        key = ""
        while key not in KEYS:
            key = (read_key() or "").lower()
        if key == "q":
            break
        if key in ("a", "b"):
            choice = first if key == "a" else ("b" if first == "a" else "a")
        else:
            choice = "tie" if key == "t" else "skip"
        record(judgments_path, pair["pair_id"], annotator, choice, first)
        counts["skipped" if choice == "skip" else "judged"] += 1
        counts["remaining"] -= 1
    return counts


def import_judgments(pairs: list[dict], source: Path, judgments_path: Path, annotator: str | None) -> dict:
    """Non-interactive review: every line of `source` is checked before any is recorded; judgments
    this annotator already made are left alone (importing the same file twice adds nothing)."""
    known = {p["pair_id"] for p in pairs}
    if not Path(source).is_file():
        raise DataError(f"{source}: file not found")
    incoming = read_judgments(Path(source), known_pairs=known, default_annotator=annotator)
    if not incoming:
        raise DataError(f"{source}: no judgments in the file")
    existing = {(j["pair_id"], j["annotator"]) for j in read_judgments(judgments_path, strict_duplicates=False)}
    added = 0
    for j in incoming:
        who = annotator or j["annotator"]
        if (j["pair_id"], who) in existing:
            continue
        first = j.get("shown_first") if j.get("shown_first") in ("a", "b") else shown_first(j["pair_id"], who)
        record(judgments_path, j["pair_id"], who, j["choice"], first, source=str(source))
        added += 1
    return {"added": added, "already": len(incoming) - added}


def terminal_key_reader() -> Callable[[], str]:
    """One keystroke from the terminal, without Enter (termios raw mode, restored after each key)."""
    import sys
    import termios
    import tty

    fd = sys.stdin.fileno()

    def read() -> str:
        old = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd, termios.TCSANOW)  # the default TCSAFLUSH drops a key typed ahead
            ch = sys.stdin.read(1)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        if ch in ("\x03", "\x04"):  # Ctrl-C / Ctrl-D: quit, everything so far is saved
            return "q"
        return ch

    return read


def pairs_of_runs(project, refs: Iterable[str] | None) -> list[dict]:
    """The pairs of the named pairs runs (default: every complete pairs run of the project)."""
    from lifecycle.align.pairs import KIND, read_pairs
    from lifecycle.runs.store import RunStore

    store = RunStore(project.runs_dir)
    runs = [store.get(r) for r in refs] if refs else store.list(kind=KIND, status="complete")
    if not runs:
        from lifecycle.errors import RunError

        raise RunError("no complete pairs run in " + str(project.runs_dir), hint="make one with `lifecycle align pairs`")
    out = []
    for run in runs:
        out.extend(read_pairs(run))
    return out
