"""In-process CLI calls (the package is imported once) and prediction files for eval tests."""

from __future__ import annotations

import json
import os
from pathlib import Path


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


def rows(project: Path) -> list[dict]:
    return [json.loads(x) for x in (project / "data" / "sample.jsonl").read_text().splitlines() if x.strip()]


def write_predictions(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def shifted_predictions(project: Path, path: Path, *, field: str = "summary", shift: int = 1) -> Path:
    """Each example predicted with another example's reference: a weak but real system."""
    data = rows(project)
    return write_predictions(path, [{"id": r["id"], "prediction": data[(i + shift) % len(data)][field]}
                                    for i, r in enumerate(data)])


def perfect_predictions(project: Path, path: Path, *, field: str = "summary") -> Path:
    return write_predictions(path, [{"id": r["id"], "prediction": r[field]} for r in rows(project)])


def run_dirs(project: Path) -> list[Path]:
    runs = project / "runs"
    return sorted(p for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []
