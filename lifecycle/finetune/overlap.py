"""Train/eval overlap: eval examples whose input also appears in the training data.

A tuned model evaluated on examples it trained on looks better than it is. Inputs are compared by a
hash of their normalised text (case, whitespace and the field order ignored), so a copy with other
ids or reformatted spacing still counts. `lifecycle finetune` prints it and records it in run.yaml
(`overlap`); the check `adapt.train_eval_disjoint` fails while it is above zero.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_SPACE = re.compile(r"\s+")
SHOWN = 10  # ids kept in the record


def text_key(example: dict, fields: list[str]) -> str:
    parts = [_SPACE.sub(" ", str(example.get(f, ""))).strip().casefold() for f in sorted(fields)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def measure(train: list[dict], evaluation: list[dict], fields: list[str], *, id_field: str = "id") -> dict:
    """{"eval_n", "train_n", "overlap", "eval_ids"}: how many eval examples have an input in `train`."""
    seen = {text_key(e, fields) for e in train}
    hits = [str(e.get(id_field)) for e in evaluation if text_key(e, fields) in seen]
    return {"fields": sorted(fields), "train_n": len(train), "eval_n": len(evaluation), "overlap": len(hits),
            "eval_ids": hits[:SHOWN]}


def project_overlap(project, train_path: str | Path) -> dict:
    """The overlap between a training file and the project's current eval set (configs/eval.yaml)."""
    from lifecycle.data import load_examples
    from lifecycle.evaluation.evalset import project_eval_set

    cfg = project.eval_config()
    evalset = project_eval_set(project, cfg)
    fields = list(cfg.dataset.input_fields)
    train = load_examples(project.path(str(train_path)), required=fields, id_field=cfg.dataset.id_field)
    out = measure(train, evalset.examples, fields, id_field=evalset.id_field)
    out.update(train=str(train_path), eval=str(cfg.dataset.path))
    return out


def describe(overlap: dict) -> str:
    n, total = overlap["overlap"], overlap["eval_n"]
    if not n:
        return f"none of the {total} eval examples is in the training data ({overlap.get('train')})"
    ids = ", ".join(overlap.get("eval_ids") or [])
    return (f"{n} of {total} eval examples are in the training data ({overlap.get('train')}; ids {ids}"
            f"{', ...' if n > len(overlap.get('eval_ids') or []) else ''}): the tuned model is evaluated on "
            "examples it trained on")
