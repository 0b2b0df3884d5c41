"""INTEGRATE: the project is on the installed template version (`lifecycle upgrade --check`)."""

from __future__ import annotations

from lifecycle.checks.registry import failed, passed, register, todo


@register("integrate.template_current", "integrate", "the project is on the latest project template")
def template_current(ctx):
    from lifecycle.errors import LifecycleError
    from lifecycle.upgrade.plan import RECORD, template_status

    if not (ctx.root / RECORD).is_file():
        return todo(f"no {RECORD}: not made by `lifecycle new`, so it cannot be upgraded",
                    "nothing to do unless you want template upgrades: recreate it with `lifecycle new`")
    try:
        status = template_status(ctx.root)
    except LifecycleError as err:
        return failed(str(err), err.hint or "restore .lifecycle/ from version control")
    facts = {"template_version": status.current, "latest": status.latest}
    if status.pending is not None:
        return failed(status.describe(), "resolve the conflict markers, then run `lifecycle upgrade` again",
                      pending=status.pending.get("to_version"), **facts)
    if status.behind:
        return failed(status.describe(), "run `lifecycle upgrade --dry-run`, then `lifecycle upgrade`", **facts)
    return passed(status.describe(), **facts)
