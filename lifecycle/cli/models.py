"""`lifecycle models ls|show|estimate`. Thin: parse -> call -> print.

No heavy imports at module level: the catalog reads YAML; torch loads only inside `estimate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.choices import ESTIMATE_METHOD, ESTIMATE_METHOD_HELP, TASK, TASK_HELP
from lifecycle.cli.display import GIB, console, params_label
from lifecycle.cli.options import sub_app

models_app = sub_app(
    name="models",
    help="The built-in model catalog: list, show, and estimate memory.",
    epilog="Examples:\n\n"
    "  lifecycle models ls --task summarization --max-params 3B\n\n"
    "  lifecycle models show google/flan-t5-base\n\n"
    "  lifecycle models estimate google/flan-t5-base --method lora --dtype bf16 --batch-size 8 --seq-len 512",
)

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
    from lifecycle.catalog.filter import CatalogFilter, filter_catalog

    criteria = CatalogFilter.from_text(task=task, architecture=arch, max_params=max_params,
                                       commercial_only=commercial, licence=licence)
    rows = filter_catalog(criteria)
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in rows], indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} models")
    for col in ("id", "arch", "params", "context", "licence", "commercial", "tasks"):
        table.add_column(col, justify="right" if col in ("params", "context") else "left")
    for e in rows:
        table.add_row(e.id, e.architecture, params_label(e.parameters), f"{e.context_window:,}", e.licence,
                      "yes" if e.commercial_use else "no", ", ".join(t.value for t in e.tasks))
    console().print(table)


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
    con = console()
    con.print(f"[bold]{e.id}[/bold]" + (f"  (also: {', '.join(e.aliases)})" if e.aliases else ""))
    con.print(f"  architecture    {e.architecture} ({e.family}, {e.model_class})")
    con.print(f"  parameters      {e.parameters:,} ({params_label(e.parameters)})")
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
        request = MemoryRequest.from_flags(given)
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
    con = console()
    con.print(table)
    for note in est.notes:
        con.print(f"  note: {note}")
