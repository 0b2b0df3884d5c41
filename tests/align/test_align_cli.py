"""The align commands through the CLI boundary (in-process for speed): exit codes, one-line errors,
files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml


@pytest.fixture
def cli(capsys, monkeypatch):
    from lifecycle.cli.main import run

    def call(*args, cwd: Path):
        monkeypatch.chdir(cwd)
        with pytest.raises(SystemExit) as done:
            run([str(a) for a in args])
        out = capsys.readouterr()
        return done.value.code, out.out, out.err

    return call


def _latest(root: Path, kind: str) -> Path:
    return sorted(p for p in (root / "runs").iterdir() if f"-{kind}-" in p.name)[-1]


def test_pairs_review_data_dpo_through_the_cli(align_project, align_t5, cli, monkeypatch):
    root = align_project(align_t5, n_prompts=12, max_new_tokens=6)
    (root / "configs" / "align.yaml").write_text("# Used by: lifecycle align\n" + yaml.safe_dump(
        {"preferences": {"heldout_fraction": 0.25},
         "dpo": {"training": {"max_steps": 2, "batch_size": 2, "save_steps": 1, "logging_steps": 1}}}))
    code, out, err = cli("align", "pairs", "--candidates", "2", cwd=root)
    assert code == 0, err
    pairs = [json.loads(x) for x in (_latest(root, "pairs") / "pairs.jsonl").read_text().splitlines()]
    assert pairs

    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    code, out, err = cli("align", "label", _latest(root, "pairs").name, "--oracle", "align_oracle:score",
                         "--out", "data/labelled", cwd=root)
    assert code == 0, err
    from align_oracle import score

    labelled = [json.loads(x) for x in (root / "data/labelled/train.jsonl").read_text().splitlines()]
    assert labelled and all(score(r["prompt"], r["chosen"]) > score(r["prompt"], r["rejected"]) for r in labelled)

    code, out, err = cli("review", "--annotator", "ann", cwd=root)  # pytest's stdin is not a terminal
    assert code == 1 and err.startswith("error: `lifecycle review` needs a terminal") and "--from" in err

    bad = root / "bad.jsonl"
    bad.write_text(json.dumps({"pair_id": pairs[0]["pair_id"], "choice": "a"}) + "\n"
                   + json.dumps({"pair_id": "run/x/0-1", "choice": "b"}) + "\n")
    code, out, err = cli("review", "--annotator", "ann", "--from", bad, cwd=root)
    assert code != 0 and err.splitlines()[0] == f"error: {bad}:2: pair_id: unknown pair 'run/x/0-1'"
    assert "Traceback" not in err

    good = root / "good.jsonl"
    good.write_text("".join(json.dumps({"pair_id": p["pair_id"], "choice": "a" if i % 3 else "b"}) + "\n"
                            for i, p in enumerate(pairs)))
    code, out, err = cli("review", "--annotator", "ann", "--from", good, cwd=root)
    assert code == 0 and f"recorded {len(pairs)} judgments" in out
    code, out, err = cli("align", "data", cwd=root)
    assert code == 0 and (root / "data/preferences/train.jsonl").is_file(), err

    code, out, err = cli("judge", "run", "--oracle", "align_oracle:compare", cwd=root)
    assert code == 0 and f"judged {len(pairs)} pairs in both orders" in out, err
    code, out, err = cli("judge", "calibrate", "--min-kappa", "0.99", cwd=root)
    assert code == 1 and f"judge vs people on {len(pairs)} pairs: kappa" in out and "may not gate" in err

    code, out, err = cli("align", "dpo", "--loss", "ipo", "--method", "lora", cwd=root)
    assert code == 0, err
    run = _latest(root, "align")
    meta = yaml.safe_load((run / "run.yaml").read_text())
    assert meta["status"] == "complete" and meta["loss"] == "ipo"
    assert meta["training"]["reference"] == "adapter_disabled" and (run / "adapter" / "adapter_config.json").is_file()
    assert meta["training"]["global_step"] == 2 and (run / "checkpoints" / "checkpoint-2").is_dir()

    # a run that died after its first checkpoint: --resume continues from it, not from scratch
    import shutil

    crashed = run.parent / (run.name + "c")
    shutil.copytree(run, crashed, ignore=shutil.ignore_patterns("adapter", "checkpoint-2", "*.lock", ".lock"))
    meta["status"], meta["id"] = "interrupted", crashed.name
    meta.pop("training")
    (crashed / "run.yaml").write_text(yaml.safe_dump(meta))
    code, out, err = cli("align", "dpo", "--resume", crashed.name, cwd=root)
    assert code == 0 and "resuming from checkpoint-1" in out, err
    resumed = yaml.safe_load((crashed / "run.yaml").read_text())
    assert resumed["status"] == "complete" and resumed["training"]["global_step"] == 2
    assert (crashed / "adapter" / "adapter_config.json").is_file()

    code, out, err = cli("align", "eval", run.name, "--oracle", "align_oracle:score", cwd=root)
    assert code == 0 and out.startswith("win-rate "), err  # a LoRA align run loads as base + adapter
    assert (_latest(root, "align_eval") / "report.html").is_file()

    code, out, err = cli("align", "dpo", "--loss", "orpo", cwd=root)
    assert code == 1 and "decoder-only" in err.splitlines()[0] and "--loss sigmoid" in err
    assert len(err.strip().splitlines()) == 2  # the error line and its hint


def test_pairs_resume_generates_only_what_is_missing(align_project, align_t5):
    from lifecycle.align.pairs import PairsRequest, read_pairs, resume_pairs, sample_pairs
    from lifecycle.project import Project
    from lifecycle.runs.store import Run

    root = align_project(align_t5, n_prompts=6, max_new_tokens=6)
    project = Project(root)
    full = sample_pairs(project, PairsRequest(candidates=2), echo=lambda _: None)
    lines = full.predictions_path.read_text().splitlines()
    # a run that died after 5 candidates, the 6th half-written: what an interrupted run leaves
    partial = root / "runs" / (full.id.replace("-pairs-", "-pairs-") + "x")
    partial.mkdir()
    meta = dict(full.meta)
    meta.update(id=partial.name, status="interrupted")
    for key in ("pairs", "identical_dropped", "candidates", "finished"):
        meta.pop(key, None)
    (partial / "run.yaml").write_text(yaml.safe_dump(meta))
    (partial / "predictions.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:10])
    done = resume_pairs(project, partial.name, echo=lambda _: None)
    run = Run(partial)
    assert run.meta["status"] == "complete" and run.meta["generated_this_session"] == len(lines) - 5
    assert run.predictions_path.read_text().splitlines()[:5] == lines[:5]
    kept = {json.loads(x)["id"]: json.loads(x)["prediction"] for x in lines[:5]}
    by_id = {r["id"]: r["prediction"] for r in run.iter_predictions()}
    assert len(by_id) == len(lines) and all(by_id[k] == v for k, v in kept.items())
    assert all(p["a"] != p["b"] for p in read_pairs(done))


PREPARE = '''
def prepare(example):
    example = dict(example)
    example["dialogue"] = "PREPARED " + example["dialogue"]
    return example
'''


def test_pairs_prompts_go_through_the_projects_preprocess(align_project, align_t5):
    """`align pairs` prompts are the ones `generate` sends: configs/prompt.yaml's preprocess applies."""
    from lifecycle.align.pairs import PairsRequest, read_pairs, sample_pairs
    from lifecycle.project import Project
    from lifecycle.prompting.project_inputs import load_prompt_inputs

    root = align_project(align_t5, n_prompts=4, max_new_tokens=4)
    pkg = root / "src" / "demo_project"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "prompts.py").write_text(PREPARE)
    before = {p.id: p.text for p in load_prompt_inputs(Project(root)).build(0)}
    pr = yaml.safe_load((root / "configs" / "prompt.yaml").read_text())
    pr["preprocess"] = "demo_project.prompts:prepare"
    (root / "configs" / "prompt.yaml").write_text(yaml.safe_dump(pr, sort_keys=False))
    project = Project(root)
    expected = {p.id: p.text for p in load_prompt_inputs(project).build(0)}
    run = sample_pairs(project, PairsRequest(candidates=4), echo=lambda _: None)
    pairs = read_pairs(run)
    assert pairs and all(p["prompt"] == expected[p["prompt_id"]] != before[p["prompt_id"]] for p in pairs)
    assert all(p["prompt"].count("PREPARED #Person1#") == 1 for p in pairs)
    # candidates that are not text (the tiny random model emits raw bytes) are counted in run.yaml
    assert run.meta["undecodable_candidates"] == sum("\ufffd" in r["prediction"] for r in run.iter_predictions())
