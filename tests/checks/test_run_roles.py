"""Gates read the run of the right role (issue 10 item 1), on real `lifecycle eval run` folders:
a sampling run is not the baseline, copied labels never meet the target, a prompting project's
target is met only by the selected base model, and a tuned model evaluated on its training data
fails adapt.train_eval_disjoint."""

from __future__ import annotations

import json

import pytest
import yaml

from lifecycle.checks import run_checks
from lifecycle.evaluation import roles
from lifecycle.runs.store import RunStore


def _adapt(root):
    return {r.id: r for r in run_checks(root, "adapt")}


def _set_limit(root, n):
    ev = root / "configs" / "eval.yaml"
    ev.write_text(ev.read_text(encoding="utf-8").replace("  reference_field:", f"  limit: {n}\n  reference_field:"))


@pytest.mark.slow
def test_roles_recorded_and_used_by_the_gates(make_project, tiny_t5, cli):
    root = make_project(model=tiny_t5)
    _set_limit(root, 3)
    gen = root / "configs" / "generation.yaml"
    greedy_text = gen.read_text(encoding="utf-8")
    # a sampling zero-shot run first: recorded as such, and not the baseline
    data = yaml.safe_load(greedy_text)
    data.update(preset="sampling", temperature=1.0)
    gen.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _, err = cli("eval", "run", "--shots", "0", "--no-report", "--project", root)
    assert code == 0, err
    (sampled,) = RunStore(root / "runs").list(kind="eval")
    assert sampled.meta["eval"]["role"] == "base" and sampled.meta["eval"]["decoding"] == "sampling"
    res = _adapt(root)["adapt.baseline"]
    assert res.status == "todo" and "sampling decoding" in res.evidence["not_used"][sampled.id]

    gen.write_text(greedy_text, encoding="utf-8")
    code, _, err = cli("eval", "run", "--shots", "0", "--no-report", "--project", root)
    assert code == 0, err
    greedy = RunStore(root / "runs").list(kind="eval")[-1]
    assert greedy.meta["eval"]["decoding"] == "greedy"
    res = _adapt(root)["adapt.baseline"]
    assert res.status == "pass" and res.evidence["run"] == greedy.id and "base, greedy" in res.message

    # copied labels as a predictions file: scored and listed, never model evidence
    examples = [json.loads(line) for line in (root / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()]
    copied = root / "copied.jsonl"
    copied.write_text("".join(json.dumps({"id": e["id"], "prediction": e["summary"]}) + "\n" for e in examples[:3]))
    code, _, err = cli("eval", "run", "--predictions", str(copied), "--no-report", "--project", root)
    assert code == 0, err
    external = RunStore(root / "runs").list(kind="eval")[-1]
    assert roles.role_of(external) == "external" and external.meta["eval"]["decoding"] is None
    assert (external.metrics()["metrics"]["rougeL"]["value"]) == pytest.approx(1.0)
    target = _adapt(root)["adapt.target_met"]
    assert target.evidence["run"] == greedy.id != external.id
    assert "external predictions" in target.evidence["not_counted"][external.id]
    assert target.evidence["not_counted"].get(greedy.id) is None
    # the sampling run was made under settings the project no longer uses
    assert "sampling decoding" in target.evidence["not_counted"][sampled.id]


def _finetune_run(root, train: str, overlap: dict | None):
    run = RunStore(root / "runs").create("finetune", config={"finetune": {"data": {"train": train}}})
    if overlap is not None:
        run.update_meta(overlap=overlap)
    run.finish()
    return run


def test_adapted_project_counts_only_tuned_runs_and_flags_overlap(make_project, add_eval_run):
    root = make_project(adaptation="peft")
    base = add_eval_run(root, shots=0, value=0.9, ci=(0.85, 0.95))
    target = _adapt(root)["adapt.target_met"]
    assert target.status == "todo" and "fine-tuned model" in target.message
    assert "ships the fine-tuned model" in target.evidence["not_counted"][base.id]
    ft = _finetune_run(root, "data/sample.jsonl", None)  # recorded before overlaps were: measured now
    tuned = add_eval_run(root, shots=0, value=0.5, ci=(0.45, 0.55), finetune_run=ft.id)
    target = _adapt(root)["adapt.target_met"]
    assert target.evidence["run"] == tuned.id and "finetuned" in target.message
    disjoint = _adapt(root)["adapt.train_eval_disjoint"]
    n = disjoint.evidence["eval_n"]
    assert disjoint.status == "fail" and disjoint.evidence["overlap"] == n > 0 and ft.id in disjoint.message
    # training data without the eval examples (reformatted copies would still count)
    examples = [json.loads(line) for line in (root / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()]
    other = root / "data" / "train.jsonl"
    rows = [dict(e, id=f"t{i}") for i, e in enumerate(examples[:2])]
    rows[0]["dialogue"] = "  " + rows[0]["dialogue"].upper() + "  "
    rows.append({"id": "new", "dialogue": "#Person1#: an unseen dialogue.", "summary": "unseen"})
    other.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    _finetune_run(root, "data/train.jsonl", None)
    disjoint = _adapt(root)["adapt.train_eval_disjoint"]
    assert disjoint.status == "fail" and disjoint.evidence["overlap"] == 2
    other.write_text(json.dumps(rows[-1]) + "\n", encoding="utf-8")
    _finetune_run(root, "data/train.jsonl", None)
    assert _adapt(root)["adapt.train_eval_disjoint"].status == "pass"


def test_attested_external_predictions_count_and_name_who_vouched(make_project, cli):
    """An external predictions file counts for adapt.target_met only when a person attests it on the
    record (`--attest NOTE`): the run keeps who, when, the note and the file's hash, and the check
    names the attestation; `--attest` without a file, or with an empty note, is one line and exit 2."""
    root = make_project()
    _set_limit(root, 3)
    examples = [json.loads(line) for line in (root / "data" / "sample.jsonl").read_text(encoding="utf-8").splitlines()]
    preds = root / "prod.jsonl"
    preds.write_text("".join(json.dumps({"id": e["id"], "prediction": e["summary"]}) + "\n" for e in examples[:3]))

    code, _, err = cli("eval", "run", "--attest", "prod API", "--no-report", "--project", root)
    assert code != 0 and "--attest vouches for an external predictions file" in err and "Traceback" not in err
    code, _, err = cli("eval", "run", "--predictions", preds, "--attest", "  ", "--no-report", "--project", root)
    assert code != 0 and "--attest needs a note" in err
    assert RunStore(root / "runs").list(kind="eval") == []

    code, _, err = cli("eval", "run", "--predictions", preds, "--no-report", "--project", root)
    assert code == 0, err
    plain = RunStore(root / "runs").list(kind="eval")[-1]
    target = _adapt(root)["adapt.target_met"]
    assert target.status == "todo" and "external predictions" in target.evidence["not_counted"][plain.id]

    note = "prod API, model summarizer-v3, greedy, exported 2026-11-30"
    code, _, err = cli("eval", "run", "--predictions", preds, "--attest", note, "--no-report", "--project", root)
    assert code == 0, err
    attested = RunStore(root / "runs").list(kind="eval")[-1]
    record = attested.meta["eval"]["attested"]
    import hashlib
    assert record["note"] == note and record["user"] and record["at"]
    assert record["predictions_sha256"] == hashlib.sha256(preds.read_bytes()).hexdigest()
    assert roles.role_of(attested) == "external"
    target = _adapt(root)["adapt.target_met"]
    assert target.evidence["run"] == attested.id and f"attested by {record['user']}: {note}" in target.message
    assert plain.id in target.evidence["not_counted"] and attested.id not in target.evidence["not_counted"]
    # still never the baseline
    assert _adapt(root)["adapt.baseline"].status != "pass"
