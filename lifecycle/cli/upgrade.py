"""`lifecycle upgrade`: take a newer project template, keeping every edit. Thin: parse -> call -> print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

app = sub_app()  # a top-level verb; lifecycle.cli.main adds it

EPILOG = (
    "Examples:\n\n"
    "  lifecycle upgrade --check     # CI: exit 1 when the project is behind\n\n"
    "  lifecycle upgrade --dry-run   # the per-file summary, nothing written\n\n"
    "  lifecycle upgrade             # merge in the latest template\n\n"
    "  lifecycle upgrade --to 2      # a given shipped version\n\n"
    "Per file: untouched by you -> the new version; changed by you and by the template -> a three-way\n"
    "merge (conflicts marked with <<<<<<< yours / >>>>>>> template N inside the file); lifecycle.yaml and\n"
    "configs/*.yaml are merged key by key first (your comments and key order kept), so edits on\n"
    "neighbouring lines do not collide; the summary says merged (yaml) or merged (text). data/, runs/\n"
    "and attestations are never touched. Exit 1 while conflicts remain: resolve them, then run\n"
    "`lifecycle upgrade` again to record the new version. Refuses on uncommitted git changes unless --force."
)


@app.command("upgrade", epilog=EPILOG)
def upgrade_cmd(
    check: bool = typer.Option(False, "--check", help="Only report; exit 1 when the project is behind."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would change; write nothing."),
    to: Optional[str] = typer.Option(None, "--to", metavar="VERSION", help="Template version (default: the latest shipped)."),
    force: bool = typer.Option(False, "--force", help="Upgrade even with uncommitted changes in git."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Upgrade the project to a newer template version with a three-way merge; no edit is lost."""
    from lifecycle.project import find_root
    from lifecycle.upgrade.history import UpgradeError
    from lifecycle.upgrade.plan import apply_plan, git_dirty, pending, plan_upgrade, record_version, template_status, unresolved

    root = find_root(project)
    if check:
        status = template_status(root)
        typer.echo(status.describe())
        if status.behind:
            typer.echo("run `lifecycle upgrade` to take the newer template", err=True)
            raise typer.Exit(1)
        return

    state = pending(root)
    if state is not None and not dry_run:
        if to is not None and str(to) != str(state["to_version"]):
            raise UpgradeError(f"an upgrade to template {state['to_version']} is in progress, not {to}",
                               hint="resolve its conflicts and run `lifecycle upgrade` first")
        left = unresolved(root, state)
        if left:
            for path in left:
                typer.echo(f"  conflict   {path}: conflict markers still in the file")
            typer.echo(f"{len(left)} file(s) still conflicted; resolve them, then run `lifecycle upgrade` again",
                       err=True)
            raise typer.Exit(1)
        record_version(root, str(state["to_version"]), str(state["from_version"]), state.get("files"))
        typer.echo(f"conflicts resolved: the project is now at template {state['to_version']}")
        return

    if not force and not dry_run:
        dirty = git_dirty(root)
        if dirty:
            shown = ", ".join(dirty[:3]) + (", ..." if len(dirty) > 3 else "")
            raise UpgradeError(f"{root}: {len(dirty)} uncommitted change(s) in git ({shown}); nothing was changed",
                               hint="commit them first so the upgrade can be reviewed and undone, or add --force")

    plan = plan_upgrade(root, to=to)
    if plan.from_version == plan.to_version:
        typer.echo(f"already at template {plan.to_version}; nothing to do")
        return
    for line in plan.summary_lines():
        typer.echo(line)
    conflicts = len(plan.conflicts)
    if dry_run:
        typer.echo(f"dry run: nothing written ({conflicts} conflict(s) would remain)")
        raise typer.Exit(1 if conflicts else 0)
    apply_plan(plan)
    if conflicts:
        typer.echo(f"{conflicts} conflict(s): resolve them (search for '<<<<<<<'), then run `lifecycle upgrade` "
                   f"again to record template {plan.to_version}", err=True)
        raise typer.Exit(1)
    typer.echo(f"upgraded to template {plan.to_version}; review with `git diff` and run the project's tests")
