"""`lifecycle models ls|show|estimate` and the top-level `lifecycle select`. Thin: parse -> call -> print.

No heavy imports at module level: the catalog reads YAML; torch loads only inside `estimate`/`select`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from lifecycle.cli.choices import ESTIMATE_METHOD, ESTIMATE_METHOD_HELP, TASK, TASK_HELP
from lifecycle.cli.options import sub_app, PROJECT_OPTION

models_app = sub_app(
    name="models",
    help="The built-in model catalog: list, show, and estimate memory.",
    epilog="Examples:\n\n"
    "  lifecycle models ls --task summarization --max-params 3B\n\n"
    "  lifecycle models show google/flan-t5-base\n\n"
    "  lifecycle models estimate google/flan-t5-base --method lora --dtype bf16 --batch-size 8 --seq-len 512",
)

GIB = 1024**3


def _console():
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    # piped or captured output: wide enough that ids and task lists are never cut to "google/f…"
    return console if console.is_terminal else Console(highlight=False, soft_wrap=True, width=200)


def _size(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit}" if unit == "B" else f"{n / div:.0f}{unit}"
    return str(n)


def _parse_count(text: str) -> int:
    from lifecycle.errors import CatalogError

    t = text.strip().upper()
    mult = {"K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9}.get(t[-1:], 1)
    try:
        return int(float(t[:-1] if mult != 1 else t) * mult)
    except ValueError:
        raise CatalogError(f"cannot read parameter count '{text}'", hint="write it like 3B, 500M or 1.5B") from None


@models_app.command(
    "ls",
    epilog="Examples:\n\n"
    "  lifecycle models ls\n\n"
    "  lifecycle models ls --task summarization --arch encoder-decoder\n\n"
    "  lifecycle models ls --max-params 3B --commercial\n\n"
    "  lifecycle models ls --licence apache-2.0 --json",
)
def ls_cmd(
    task: Optional[str] = typer.Option(None, "--task", parser=TASK, metavar="TASK", help=TASK_HELP),
    arch: Optional[str] = typer.Option(None, "--arch", help="encoder, encoder-decoder or decoder."),
    max_params: Optional[str] = typer.Option(None, "--max-params", help="Largest size, e.g. 3B or 500M."),
    commercial: bool = typer.Option(False, "--commercial", help="Only licences that allow commercial use."),
    licence: Optional[str] = typer.Option(None, "--licence", "--license", help="Only this licence, e.g. apache-2.0."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List catalog models, filtered by task, architecture, size and licence."""
    from lifecycle.catalog import load_catalog
    from lifecycle.errors import CatalogError, did_you_mean

    archs = ["encoder", "encoder-decoder", "decoder"]
    if arch and arch not in archs:
        raise CatalogError(did_you_mean(arch, archs, kind="architecture"))
    limit = _parse_count(max_params) if max_params else None
    rows = [e for e in load_catalog()
            if (not task or task in [t.value for t in e.tasks]) and (not arch or e.architecture == arch)
            and (limit is None or e.parameters <= limit) and (not commercial or e.commercial_use)
            and (not licence or e.licence.lower() == licence.lower())]
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in rows], indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} models")
    for col in ("id", "arch", "params", "context", "licence", "commercial", "tasks"):
        table.add_column(col, justify="right" if col in ("params", "context") else "left")
    for e in rows:
        table.add_row(e.id, e.architecture, _size(e.parameters), f"{e.context_window:,}", e.licence,
                      "yes" if e.commercial_use else "no", ", ".join(t.value for t in e.tasks))
    _console().print(table)


@models_app.command(
    "show",
    epilog="Examples:\n\n"
    "  lifecycle models show google/flan-t5-base\n\n"
    "  lifecycle models show gpt2 --json",
)
def show_cmd(
    model_id: str = typer.Argument(..., help="Hub id (or alias) from `lifecycle models ls`."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every fact the catalog holds about one model, with where each came from."""
    from lifecycle.catalog import get_entry

    e = get_entry(model_id)
    if as_json:
        typer.echo(json.dumps(e.model_dump(mode="json"), indent=2))
        return
    con = _console()
    con.print(f"[bold]{e.id}[/bold]" + (f"  (also: {', '.join(e.aliases)})" if e.aliases else ""))
    con.print(f"  architecture    {e.architecture} ({e.family}, {e.model_class})")
    con.print(f"  parameters      {e.parameters:,} ({_size(e.parameters)})")
    con.print(f"  context window  {e.context_window:,} tokens")
    con.print(f"  licence         {e.licence} (commercial use: {'yes' if e.commercial_use else 'no'})")
    con.print(f"  tasks           {', '.join(t.value for t in e.tasks)}")
    con.print(f"  instruction-tuned {'yes' if e.instruction_tuned else 'no'}")
    con.print("  config          " + ", ".join(f"{k}={v}" for k, v in e.config.items()))
    con.print("  sources")
    for k, v in e.source.model_dump().items():
        con.print(f"    {k}: {v}")


@models_app.command(
    "estimate",
    epilog="Examples:\n\n"
    "  lifecycle models estimate google/flan-t5-base --method inference --dtype bf16\n\n"
    "  lifecycle models estimate meta-llama/Llama-3.1-8B-Instruct --method qlora --dtype int4 --batch-size 4 --seq-len 1024\n\n"
    "  lifecycle models estimate ./models/my-model --method full --dtype fp32 --json\n\n"
    "  lifecycle models estimate google/flan-t5-small --method lora --dtype fp32 --device cpu -b 4 -s 256\n\n"
    "  lifecycle models estimate google/flan-t5-base --method full --seq-len 512 --target-len 128\n\n"
    "  lifecycle models estimate --project .            # the project's question: what `select` and `check select` ask\n\n"
    "  lifecycle models estimate google/flan-t5-large --project . --batch-size 4   # another model, one flag changed\n\n"
    "Weights match `accelerate estimate-memory`; the rest comes from simulating the step on fake tensors. "
    "With --project the method, dtype, batch, lengths, LoRA rank and dropout come from the project "
    "(lifecycle.yaml, configs/finetune.yaml, the data sample); flags given change only themselves.",
)
def estimate_cmd(
    model: Optional[str] = typer.Argument(None, help="Catalog id, a local model folder, or a hub id in the local cache (default with --project: configs/model.yaml's model)."),
    method: Optional[str] = typer.Option(None, "--method", parser=ESTIMATE_METHOD, metavar="METHOD", help=ESTIMATE_METHOD_HELP + " [default: inference]"),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="fp32, bf16, int8 or int4 (default: bf16; the method's own, e.g. int4 for qlora)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", min=1, help="Sequences per step [default: 1]."),
    seq_len: Optional[int] = typer.Option(None, "--seq-len", "-s", min=1, help="Input tokens per sequence [default: 512]."),
    target_len: Optional[int] = typer.Option(None, "--target-len", min=1, help="Training: target tokens; an encoder-decoder's decoder length (default: --seq-len), appended to a decoder-only sequence."),
    device: Optional[str] = typer.Option(None, "--device", help="gpu (what PyTorch allocates) or cpu (adds what glibc malloc keeps resident) [default: gpu]."),
    lora_r: Optional[int] = typer.Option(None, "--lora-r", min=1, help="LoRA rank (lora/qlora) [default: 8]."),
    lora_dropout: Optional[float] = typer.Option(None, "--lora-dropout", help="LoRA dropout; above 0 peft keeps a dropped-out copy of each adapted layer's input [default: 0]."),
    target_modules: Optional[str] = typer.Option(None, "--target-modules", help="LoRA layers, comma-separated (default: the per-architecture choice training makes)."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow a local model's own Python code."),
    project: Optional[Path] = typer.Option(None, "--project", "-p", help="Ask the project's memory question (the one `select` and `check select` ask)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Memory for inference or any fine-tuning method, with a breakdown; --project asks the project's question."""
    from lifecycle.catalog.memory import MemoryRequest, estimate_memory, tokens_label
    from lifecycle.errors import CatalogError

    targets = [t.strip() for t in target_modules.split(",") if t.strip()] if target_modules else None
    given = {"method": method, "dtype": dtype, "batch_size": batch_size, "seq_len": seq_len,
             "target_len": target_len, "device": device, "lora_r": lora_r, "lora_dropout": lora_dropout,
             "target_modules": tuple(targets) if targets else None}
    if project is not None:
        from lifecycle.project import Project

        proj = Project.find(project)
        request = MemoryRequest.for_project(proj, given)
        if model is None:
            mc = proj.model_config()
            model = str(proj.path(mc.model)) if proj.path(mc.model).is_dir() else mc.model
            trust_remote_code = trust_remote_code or mc.trust_remote_code
    else:
        if model is None:
            raise CatalogError("name a model, or pass --project to estimate the project's model",
                               hint="lifecycle models estimate google/flan-t5-base, or lifecycle models estimate --project .")
        fields = {k: v for k, v in given.items() if v is not None}
        fields.setdefault("method", "inference")
        if "dtype" not in fields:
            from lifecycle.methods import INFERENCE, get_estimator_method

            own = None if fields["method"] == INFERENCE else get_estimator_method(fields["method"]).default_dtype
            fields["dtype"] = own or "bf16"
        request = MemoryRequest(**fields)
    est = estimate_memory(model, request, trust_remote_code=trust_remote_code)
    if as_json:
        out = est.to_dict()
        out["request"] = {k: list(v) if isinstance(v, tuple) else v for k, v in request.__dict__.items()}
        typer.echo(json.dumps(out, indent=2))
        return
    from rich.table import Table

    r = request
    title = (f"{est.model}: {r.method}, {r.dtype} on {r.device.upper()}, batch {r.batch_size} x "
             f"{tokens_label(r.seq_len, r.target_len)} tokens; "
             f"{est.parameters:,} parameters" + (f", {est.trainable_parameters:,} trainable" if r.method != "inference" else ""))
    table = Table(title=title)
    table.add_column("component")
    table.add_column("GiB", justify="right")
    table.add_column("bytes", justify="right")
    for name, b in est.components.items():
        table.add_row(name.replace("_", " "), f"{b / GIB:.3f}", f"{b:,}")
    table.add_row("[bold]total (peak)[/bold]", f"[bold]{est.total_gib:.3f}[/bold]", f"{est.total_bytes:,}")
    con = _console()
    con.print(table)
    for note in est.notes:
        con.print(f"  note: {note}")


def _rank_with_progress(rank, req, only):
    """Each uncached memory estimate simulates a step (about a second a model): show which one runs,
    on stderr and only on a terminal."""
    import sys

    if not sys.stderr.isatty():
        return rank(req, only)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("ranking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, model_id: str) -> None:
            bar.update(task, completed=done, total=total, description=model_id)

        return rank(req, only, progress)


app = sub_app()  # top-level verbs; lifecycle.cli.main adds them

@app.command(
    "select",
    epilog="Examples:\n\n"
    "  lifecycle select\n\n"
    "  lifecycle select --gpu-memory 24GiB --top 5\n\n"
    "  lifecycle select --memory 16GiB --json\n\n"
    "  lifecycle select --apply google/flan-t5-base\n\n"
    "  lifecycle select --apply models/flan-t5-base   # a local folder (offline); its README.md `base_model:` names the catalog model",
)
def select_cmd(
    gpu_memory: Optional[str] = typer.Option(None, "--gpu-memory", help="Override scope.hardware: one GPU's memory, e.g. 24GiB or 80GB (binary units: 80GB = 80GiB, as in `new`)."),
    memory: Optional[str] = typer.Option(None, "--memory", help="RAM budget for CPU projects (default: this machine's RAM, the rule `check select` uses too)."),
    top: Optional[int] = typer.Option(None, "--top", min=1, help="Show only the best N."),
    only: Optional[List[str]] = typer.Option(None, "--candidate", help="Evaluate only these ids (repeatable)."),
    apply: Optional[str] = typer.Option(None, "--apply", help="Record this model (catalog id or local folder) in lifecycle.yaml and configs/model.yaml."),
    project: Optional[Path] = PROJECT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Rank catalog models for this project's scope, with a reason per criterion; --apply records one."""
    from lifecycle.catalog.selection import apply_selection, request_for_project
    from lifecycle.project import Project

    proj = Project.find(project)
    if apply:
        name, reason = apply_selection(proj, apply, gpu_memory=gpu_memory, memory=memory)
        typer.echo(f"selected {name}: {reason}")
        typer.echo(f"updated {proj.manifest_path.name} (selection.model, selection.reason) and configs/model.yaml (model)")
        return
    from lifecycle.catalog.selection import rank

    req, data_note = request_for_project(proj, gpu_memory=gpu_memory, memory=memory)
    cands = _rank_with_progress(rank, req, only)
    shown = cands[:top] if top else cands
    if as_json:
        typer.echo(json.dumps({"task": req.task, "method": req.method, "budget_bytes": req.budget.bytes,
                               "memory_request": {k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in req.memory.__dict__.items()},
                               "data_tokens": req.tokens, "data_note": data_note,
                               "candidates": [c.to_dict() for c in shown]}, indent=2))
        return
    from rich.markup import escape

    con = _console()
    con.print(f"[bold]task[/bold] {req.task}; [bold]adaptation[/bold] {req.method}; "
              f"[bold]budget[/bold] {escape(req.budget.describe())}")
    con.print(f"[dim]{escape(data_note)}[/dim]")
    for i, c in enumerate(shown, 1):
        mark = "[green]OK[/green]" if c.ok else f"[red]{c.passed}/{len(c.criteria)}[/red]"
        con.print(f"{i:>2}. {mark} [bold]{c.entry.id}[/bold] ({_size(c.entry.parameters)})")
        for crit in c.criteria:
            sym = "[green]pass[/green]" if crit.passed else "[red]fail[/red]"
            con.print(f"      {sym} {crit.name}: {escape(crit.reason)}")
        for note in c.notes:
            con.print(f"      [yellow]note[/yellow] {escape(note)}")
    best = next((c for c in cands if c.ok), None)
    if best:
        con.print(f"\nnext: lifecycle select --apply {best.entry.id}")
