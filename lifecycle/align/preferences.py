"""`lifecycle align data`: judgments -> data/preferences/{train,heldout}.jsonl in TRL's
prompt/chosen/rejected format, split by prompt (no prompt on both sides), keeping only pairs whose
votes agree enough; and reading such files back with one located line per problem."""

from __future__ import annotations

import json
import random
from pathlib import Path

from lifecycle.align.judgments import agreement, read_judgments, votes_by_pair
from lifecycle.data import json_type
from lifecycle.errors import DataError, located
from lifecycle.paths import safe_path
from lifecycle.textio import iter_jsonl


def build_preferences(pairs: list[dict], judgments_path: Path, out_dir: Path, settings) -> dict:
    from lifecycle.config.yaml_io import atomic_write_text

    by_id = {p["pair_id"]: p for p in pairs}
    judgments = read_judgments(judgments_path, known_pairs=set(by_id))
    if not judgments:
        raise DataError(f"{judgments_path}: no judgments yet", hint="review pairs with `lifecycle review`")
    rows, dropped = [], {"tie": 0, "disagreement": 0}
    for pair_id, votes in sorted(votes_by_pair(judgments).items()):
        total = sum(votes.values())
        label, count = votes.most_common(1)[0]
        if list(votes.values()).count(count) > 1 or count / total < settings.agreement:
            dropped["disagreement"] += 1
            continue
        if label == "tie":
            dropped["tie"] += 1
            continue
        pair = by_id[pair_id]
        if not str(pair.get("prompt", "")).strip():
            raise DataError(f"pair '{pair_id}': empty prompt")
        chosen, rejected = (pair["a"], pair["b"]) if label == "a" else (pair["b"], pair["a"])
        rows.append({"prompt": pair["prompt"], "chosen": chosen, "rejected": rejected, "pair_id": pair_id,
                     "prompt_id": pair["prompt_id"], "votes": total, "agreement": count / total})
    train, heldout, n_prompts, n_held = write_split(rows, out_dir, settings)
    summary = {"train": len(train), "heldout": len(heldout), "prompts_train": n_prompts - n_held,
               "prompts_heldout": n_held, "dropped": dropped, "judgments": len(judgments),
               "agreement": agreement(judgments)}
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def write_split(rows: list[dict], out_dir: Path, settings) -> tuple[list[dict], list[dict], int, int]:
    """Split rows by prompt_id (a prompt is on one side only) and write train/heldout.jsonl."""
    from lifecycle.config.yaml_io import atomic_write_text

    prompts = sorted({r["prompt_id"] for r in rows})
    random.Random(settings.seed).shuffle(prompts)
    n_held = round(len(prompts) * settings.heldout_fraction)
    held = set(prompts[:n_held])
    train = [r for r in rows if r["prompt_id"] not in held]
    heldout = [r for r in rows if r["prompt_id"] in held]
    if len(train) < settings.min_pairs:
        raise DataError(f"only {len(train)} training pairs pass the agreement threshold (min_pairs: "
                        f"{settings.min_pairs})", hint="review more pairs, or lower preferences.agreement")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("heldout", heldout)):
        atomic_write_text(out_dir / f"{name}.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part))
    return train, heldout, len(prompts), n_held


def label_best_worst(candidates: list[dict], score, out_dir: Path, settings, *, source: str) -> dict:
    """Reward-labelled on-policy pairs: for each prompt, chosen = its best-scored candidate and
    rejected = its worst (prompts whose candidates all score the same are dropped)."""
    from lifecycle.config.yaml_io import atomic_write_text

    by_prompt: dict[str, list[dict]] = {}
    for c in candidates:
        by_prompt.setdefault(c["id"].rsplit("#", 1)[0], []).append(c)
    rows, flat = [], 0
    for pid, cands in sorted(by_prompt.items()):
        texts = list(dict.fromkeys(c["prediction"].strip() for c in cands))
        scores = score(cands[0]["prompt"], texts)
        best, worst = max(range(len(texts)), key=scores.__getitem__), min(range(len(texts)), key=scores.__getitem__)
        if len(texts) < 2 or scores[best] == scores[worst]:
            flat += 1
            continue
        rows.append({"prompt": cands[0]["prompt"], "chosen": texts[best], "rejected": texts[worst], "prompt_id": pid,
                     "chosen_score": scores[best], "rejected_score": scores[worst], "source": source})
    train, heldout, n_prompts, n_held = write_split(rows, out_dir, settings)
    summary = {"train": len(train), "heldout": len(heldout), "prompts_train": n_prompts - n_held,
               "prompts_heldout": n_held, "dropped": {"flat": flat}, "source": source}
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def load_preferences(path: Path, *, min_rows: int = 1) -> list[dict]:
    """prompt/chosen/rejected rows; DataError naming file:line for anything else."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found", hint="write it with `lifecycle align data`")
    path = safe_path(path, what="preferences file")
    rows = []
    # Streamed: strict UTF-8, bounded lines, located JSON errors (lifecycle.textio).
    for lineno, obj in iter_jsonl(path, kind="preferences file"):
        if not isinstance(obj, dict):
            raise DataError(located(path, lineno, None, f"expected a JSON object with prompt, chosen, rejected, "
                                    f"got {json_type(obj)}"))
        for field in ("prompt", "chosen", "rejected"):
            value = obj.get(field)
            if not isinstance(value, str):
                what = "missing" if value is None else f"a {type(value).__name__}, not a string"
                raise DataError(located(path, lineno, field, what),
                                hint='each line: {"prompt": "...", "chosen": "...", "rejected": "..."}')
        if not obj["prompt"].strip():
            raise DataError(located(path, lineno, "prompt", "empty"))
        if obj["chosen"].strip() == obj["rejected"].strip():
            raise DataError(located(path, lineno, "chosen", "equals rejected; the pair says nothing"))
        rows.append(obj)
    if len(rows) < min_rows:
        raise DataError(f"{path}: {len(rows)} preference pairs; need at least {min_rows}")
    return rows
