"""Attestations of manual checklist items, in `.lifecycle/attestations.yaml` (append-only).

Each record names the check, the note, the user and the UTC time. The file is rewritten
atomically with the new record appended, under the file's lock, so parallel attestations all
survive; earlier records are never changed. Notes are stored with control characters escaped
(a note is replayed to every teammate's terminal) and capped in size, so the file stays far below
the YAML reader's own cap."""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import ConfigError
from lifecycle.locking import locked
from lifecycle.text_safety import MAX_NOTE_CHARS, printable
from lifecycle.textio import MAX_YAML_BYTES

# Leave the reader's cap a wide margin: at most this share of it is ever written.
MAX_FILE_BYTES = MAX_YAML_BYTES // 2

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


def attest(root: str | Path, check_id: str, note: str, *, user: str | None = None,
           override: str | None = None) -> dict:
    """Record that a person did a manual check. `check_id` must be a registered manual check.

    A check may define `before_attest(root, override=...)` (integrate.signoff does): it can refuse
    (raising a LifecycleError), and what it returns is recorded with the attestation."""
    from lifecycle.checks.registry import get_check
    from lifecycle.config.yaml_io import atomic_write_text, dump_yaml
    from lifecycle.runs.store import _current_user, utc_now

    spec = get_check(check_id)
    if spec.kind != "manual":
        raise ConfigError(f"check '{check_id}' is automatic: it passes on evidence, not on an attestation",
                          hint="`lifecycle check --list` marks the manual checks")
    note = printable(" ".join((note or "").split()), newlines=False, tabs=False)
    if not note:
        raise ConfigError("--note is required: say what was reviewed and by whom",
                          hint=f'lifecycle check --attest {check_id} --note "reviewed 50 outputs; no PII"')
    if len(note) > MAX_NOTE_CHARS:
        raise ConfigError(f"--note is {len(note)} characters; at most {MAX_NOTE_CHARS}",
                          hint="summarise it, and keep the long review in a file of the project that the note names")
    before = getattr(spec.func, "before_attest", None)
    if override is not None and before is None:
        raise ConfigError(f"--override does not apply to {check_id}: it refuses nothing",
                          hint="--override goes with integrate.signoff while an integrate gate fails")
    extra = before(root, override=override) if before is not None else {}
    path = attestations_path(root)
    record = {"id": check_id, "note": note, "user": printable(user or _current_user()), "time": utc_now(), **extra}
    with locked(path, what=str(path)):
        records = load_attestations(root)
        records.append(record)
        text = HEADER + dump_yaml({"attestations": records})
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: would grow past {MAX_FILE_BYTES} bytes with this attestation; nothing was written",
                              hint="move the file to an archive folder (keep it in version control) and attest again")
        atomic_write_text(path, text)
    return record
