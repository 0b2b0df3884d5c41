"""In-process CLI calls and run-folder readers for the evidence tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml


def cli(capsys, *args, cwd: Path) -> tuple[int, str, str]:
    """Run `lifecycle ARGS` in this process through the real entry point (error boundary included)."""
    from lifecycle.cli.main import run

    old = Path.cwd()
    os.chdir(cwd)
    capsys.readouterr()
    try:
        run([*map(str, args)])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(old)
    out, err = capsys.readouterr()
    return code, out, err


def set_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def eval_runs(project: Path) -> list[Path]:
    runs = project / "runs"
    return sorted(p for p in runs.iterdir() if p.is_dir() and "-eval-" in p.name) if runs.is_dir() else []


def run_meta(run: Path) -> dict:
    return yaml.safe_load((run / "run.yaml").read_text(encoding="utf-8"))


def predictions(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
