"""Attestations of manual checklist items, in `.lifecycle/attestations.yaml` (append-only).

Each record names the check, the note, the user and the UTC time. The file is rewritten
atomically with the new record appended; earlier records are never changed."""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import ConfigError

ATTESTATIONS_FILE = ".lifecycle/attestations.yaml"
HEADER = ("# Attestations of manual checklist items. Written by `lifecycle check --attest ID --note TEXT`;\n"
          "# append-only: add a new attestation rather than editing an old one.\n")


def attestations_path(root: str | Path) -> Path:
    return Path(root) / ATTESTATIONS_FILE


def load_attestations(root: str | Path) -> list[dict]:
    from lifecycle.config.yaml_io import load_yaml

    path = attestations_path(root)
    if not path.is_file():
        return []
    loaded = load_yaml(path)
    data = loaded.data or {}
    records = data.get("attestations") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) and "id" in r for r in records):
        raise ConfigError(f"{path}:1: attestations: expected a list of records with an id",
                          hint="restore the file from version control, or move it away and attest again")
    return records


def latest_attestation(records: list[dict], check_id: str) -> dict | None:
    hits = [r for r in records if r.get("id") == check_id]
    return hits[-1] if hits else None


def attest(root: str | Path, check_id: str, note: str, *, user: str | None = None) -> dict:
    """Record that a person did a manual check. `check_id` must be a registered manual check."""
    from lifecycle.checks.registry import get_check
    from lifecycle.config.yaml_io import atomic_write_text, dump_yaml
    from lifecycle.runs.store import _current_user, utc_now

    spec = get_check(check_id)
    if spec.kind != "manual":
        raise ConfigError(f"check '{check_id}' is automatic: it passes on evidence, not on an attestation",
                          hint="`lifecycle check --list` marks the manual checks")
    note = " ".join((note or "").split())
    if not note:
        raise ConfigError("--note is required: say what was reviewed and by whom",
                          hint=f'lifecycle check --attest {check_id} --note "reviewed 50 outputs; no PII"')
    records = load_attestations(root)
    record = {"id": check_id, "note": note, "user": user or _current_user(), "time": utc_now()}
    records.append(record)
    atomic_write_text(attestations_path(root), HEADER + dump_yaml({"attestations": records}))
    return record
