"""Exports of a RAG run for other evaluation tools, without depending on them:

  ragas     JSONL, one object per question: question, answer, contexts (the passages the model saw),
            ground_truth (ragas / deepeval field names)
  promptfoo a test file: vars.query + vars.context per question, with context-faithfulness and
            context-recall assertions (the ground truth as the recall value)"""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.config.yaml_io import atomic_write_text, dump_yaml
from lifecycle.errors import RunError

FORMATS = ("ragas", "promptfoo")


def _rows(run) -> list[dict]:
    if run.kind != "rag_eval" or not (run.meta.get("rag") or {}).get("with_context"):
        raise RunError(f"run {run.id} is not the RAG run of `lifecycle rag eval` (kind rag_eval, with context)",
                       hint="pass the run printed as 'RAG:' by `lifecycle rag eval`")
    if run.status != "complete":
        raise RunError(f"run {run.id} is {run.status}, not complete")
    out = []
    for rec in sorted(run.read_predictions(), key=lambda r: str(r["id"])):
        used = rec.get("passages", [])[: rec.get("chunks_used", 0)]
        refs = rec.get("references") or []
        out.append({"id": rec["id"], "question": rec["question"], "answer": rec["prediction"], "contexts": used,
                    "ground_truth": refs[0] if refs else "", "answerable": rec.get("answerable", True)})
    return out


def export_run(run, fmt: str, out: Path, *, threshold: float = 0.7) -> int:
    """Write the export; returns the number of questions."""
    if fmt not in FORMATS:
        raise RunError(f"unknown export format '{fmt}'; one of {', '.join(FORMATS)}")
    rows = _rows(run)
    if fmt == "ragas":
        atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return len(rows)
    tests = []
    for r in rows:
        asserts = [{"type": "context-faithfulness", "threshold": threshold}]
        if r["answerable"]:
            asserts.append({"type": "context-recall", "value": r["ground_truth"], "threshold": threshold})
        tests.append({"description": r["id"],
                      "vars": {"query": r["question"], "context": "\n\n".join(r["contexts"])},
                      "assert": asserts})
    atomic_write_text(out, f"# promptfoo tests exported from run {run.id} by `lifecycle rag export`\n" + dump_yaml(tests))
    return len(rows)
