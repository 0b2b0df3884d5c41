"""INTEGRATE: what must be settled before the model goes into an application."""

from __future__ import annotations

from pathlib import Path

from lifecycle.checks.manual import attested
from lifecycle.checks.registry import failed, passed, register, todo


@register("integrate.revision_pinned", "integrate", "the model is pinned to a revision")
def revision_pinned(ctx):
    mc = ctx.model_config
    if ctx.path(mc.model).is_dir() or Path(mc.model).expanduser().is_dir():
        return passed(f"local folder {mc.model}: its files are the version", model=mc.model)
    if mc.revision:
        return passed(f"{mc.model} at revision {mc.revision}", model=mc.model, revision=mc.revision)
    if not ctx.manifest.selection.model:
        return todo("no model selected yet", "run `lifecycle select`")
    return failed(f"{mc.model} has no revision: the hub may change it under you",
                  "set `revision:` (a commit hash) in configs/model.yaml and lifecycle.yaml selection.revision",
                  model=mc.model)


@register("integrate.serving", "integrate", "how the model will be served is decided")
def serving(ctx):
    integration = ctx.manifest.integration
    if integration.serving:
        return passed(integration.serving, serving=integration.serving)
    return todo("not decided yet", "write the serving plan in lifecycle.yaml integration.serving "
                "(e.g. 'TGI on one L4, merged LoRA')")


def gate_results(ctx) -> list:
    """Every automatic integrate check, run now (the sign-off's evidence)."""
    from lifecycle.checks.registry import all_checks, run_one

    return [run_one(spec, ctx) for spec in all_checks("integrate") if spec.kind == "auto"]


def evidence_digest(result) -> str:
    """A short hash of what a gate found (status and evidence, not the wording)."""
    import hashlib
    import json

    text = json.dumps({"status": result.status, "evidence": result.evidence}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def signoff_record(root, override: str | None = None) -> dict:
    """What `lifecycle check --attest integrate.signoff` records besides the note: each gate's status
    and evidence digest (so the sign-off goes stale when that evidence changes) and, when a gate
    fails, the override reason without which it refuses."""
    from lifecycle.checks.context import CheckContext
    from lifecycle.errors import ConfigError
    from lifecycle.text_safety import printable

    results = gate_results(CheckContext(Path(root)))
    failing = [r for r in results if r.status == "fail"]
    reason = printable(" ".join((override or "").split()), newlines=False, tabs=False)
    if failing and not reason:
        shown = "; ".join(f"{r.id}: {r.message}" for r in failing)
        raise ConfigError(f"cannot sign off: {len(failing)} integrate gate(s) fail ({shown})",
                          hint="fix them and check again, or sign off anyway with "
                          '--override "why shipping with this is acceptable" (recorded with the sign-off)')
    record = {"evidence": {r.id: {"status": r.status, "digest": evidence_digest(r)} for r in results}}
    if failing:
        record["override"] = {"reason": reason[:2000], "gates": [r.id for r in failing]}
    return record


@register("integrate.signoff", "integrate", "stakeholders signed off on the evidence", "manual")
def signoff(ctx):
    from lifecycle.checks.attest import latest_attestation

    what = "stakeholders reviewed the status board and the best run's report"
    record = latest_attestation(ctx.attestations, "integrate.signoff")
    outcome = attested(ctx, "integrate.signoff", what)
    if record is None:
        return outcome
    again = 'lifecycle check --attest integrate.signoff --note "what was reviewed, by whom"'
    signed = record.get("evidence")
    if not isinstance(signed, dict):
        return todo(f"{outcome.message} -- but without the evidence it signed recorded, so whether that evidence "
                    "changed since cannot be told", f"attest again: {again}", attestation=record)
    now = {r.id: r for r in gate_results(ctx)}
    changed = sorted(i for i in set(signed) | set(now)
                     if i not in now or not isinstance(signed.get(i), dict)
                     or signed[i].get("digest") != evidence_digest(now[i]))
    if changed:
        shown = ", ".join(f"{i} ({(signed.get(i) or {}).get('status', 'absent')} -> "
                          f"{now[i].status if i in now else 'absent'})" for i in changed)
        return failed(f"stale: the evidence of {shown} changed since {record.get('user', '?')} signed off at "
                      f"{record.get('time', '?')}", f"review the board again, then: {again}",
                      attestation=record, changed=changed)
    override = record.get("override") if isinstance(record.get("override"), dict) else None
    if override:
        outcome.message += f" (overriding failed {', '.join(override.get('gates') or [])}: {override.get('reason')})"
    outcome.evidence["gates"] = {i: r.status for i, r in now.items()}
    return outcome


# `lifecycle check --attest integrate.signoff` calls this first (checks/attest.py) and records what it returns
signoff.before_attest = signoff_record
