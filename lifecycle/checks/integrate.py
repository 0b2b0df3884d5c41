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


@register("integrate.signoff", "integrate", "stakeholders signed off on the evidence", "manual")
def signoff(ctx):
    return attested(ctx, "integrate.signoff", "stakeholders reviewed the status board and the best run's report")
