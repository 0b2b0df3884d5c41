"""Manual checklist items: passed by a person's attestation, never by the tool."""

from __future__ import annotations

from lifecycle.checks.attest import latest_attestation
from lifecycle.checks.registry import Outcome, passed, todo


def attested(ctx, check_id: str, what: str) -> Outcome:
    record = latest_attestation(ctx.attestations, check_id)
    if record is None:
        return todo(f"not attested yet: {what}",
                    f'when done: lifecycle check --attest {check_id} --note "what was reviewed, by whom"')
    return passed(f"attested by {record.get('user', '?')} at {record.get('time', '?')}: {record.get('note', '')}",
                  attestation=record)
