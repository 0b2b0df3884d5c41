"""INTEGRATE, augmentation: the retrieval index matches the documents, and retrieval measurably
helps (read from the rag_eval run records of `lifecycle rag eval`). A project declares augmentation
with `enabled: true` in configs/rag.yaml (the scaffold ships the file with `enabled: false`, so a
project that does not use retrieval gets no failing gate)."""

from __future__ import annotations

from lifecycle.checks.registry import failed, passed, register, todo

_DECLARE = ("set `enabled: true` in configs/rag.yaml to use retrieval (`lifecycle rag samples` writes the file "
            "when it is missing)")
_UNDECLARED = "the project declares no retrieval (configs/rag.yaml missing or `enabled: false`)"


def _setup(ctx):
    from lifecycle.project import Project
    from lifecycle.rag.project import CONFIG, rag_setup

    if not ctx.path(CONFIG).is_file():
        return None
    setup = rag_setup(Project(ctx.root))
    return setup if setup.cfg.enabled else None


@register("integrate.rag_index_fresh", "integrate", "the retrieval index matches the documents")
def rag_index_fresh(ctx):
    from lifecycle.rag.index import read_manifest

    s = _setup(ctx)
    if s is None:
        return todo(_UNDECLARED, _DECLARE)
    fr = s.freshness()
    if not fr.exists:
        return failed(f"no index in {ctx.shown(s.index_dir)}", "run `lifecycle rag index`")
    manifest = read_manifest(s.index_dir) or {}
    evidence = {"index": ctx.shown(s.index_dir), "built": manifest.get("built"), "chunks": manifest.get("chunks"),
                "documents": manifest.get("documents")}
    if fr.fresh:
        return passed(f"{manifest.get('documents')} documents, {manifest.get('chunks')} chunks, built "
                      f"{manifest.get('built')}", **evidence)
    return failed(fr.line(), "run `lifecycle rag index` (unchanged documents are not re-embedded)",
                  changed=fr.changed, added=fr.added, removed=fr.removed, **evidence)


@register("integrate.grounded", "integrate", "retrieval beats no retrieval by the paired test")
def grounded(ctx):
    s = _setup(ctx)
    if s is None:
        return todo(_UNDECLARED, _DECLARE)
    runs = [r for r in ctx.runs("rag_eval") if r.meta.get("role") == "rag"]
    if not runs:
        return todo("no complete `lifecycle rag eval` run yet", "run `lifecycle rag eval`")
    run = runs[-1]
    comparison = (run.meta.get("rag") or {}).get("comparison") or {}
    target = ctx.manifest.scope.success.metric
    metric = target if target in comparison else "exact_match"
    evidence = {"run": run.id, "baseline": (run.meta.get("rag") or {}).get("paired_with"),
                "metric": metric, "comparison": comparison}
    for name in (metric, "unsupported_answer_rate"):
        r = comparison.get(name)
        if r and r.get("verdict") == "B better":
            return passed(f"{run.id}: RAG better on {name} ({r['diff']:+.4f}, p={r['p_value']:.4f})", **evidence)
    shown = ", ".join(f"{n} {comparison[n]['diff']:+.4f} (p={comparison[n]['p_value']:.3f})"
                      for n in (metric, "unsupported_answer_rate") if n in comparison)
    return failed(f"{run.id}: RAG is not better by the paired test: {shown or 'no comparison recorded'}",
                  "improve retrieval (`lifecycle rag query` to inspect), the prompt's {context} wording or the "
                  "model, then `lifecycle rag eval` again", **evidence)
