"""`lifecycle optimize quantize` (int8 with its measured quality cost) and `lifecycle optimize export`
(a vLLM-ready folder, command and Dockerfile). Thin: parse -> lifecycle.optimize -> print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

optimize_app = sub_app(
    help="Make the model cheaper to serve: int8 quantization measured against fp32, export for vLLM.",
    epilog="Examples:\n\n"
    "  lifecycle optimize quantize                       # configs/model.yaml -> int8, scored on the eval set\n\n"
    "  lifecycle optimize quantize --run RUN_ID --limit 50\n\n"
    "  lifecycle serve --run QUANTIZE_RUN_ID             # serve the int8 model\n\n"
    "  lifecycle optimize export --run RUN_ID            # decoder-only: merged folder + vllm serve + Dockerfile",
)


@optimize_app.command("quantize", epilog=(
    "Examples:\n\n"
    "  lifecycle optimize quantize\n\n"
    "  lifecycle optimize quantize --run 20261201T101500Z-finetune-ab12cd3 --threads 2\n\n"
    "  lifecycle optimize quantize --bits 4              # refused on a CPU: needs bitsandbytes and CUDA\n\n"
    "Writes runs/<time>-quantize-<hash>/: quantize.json and report.md (weight bytes, generation tokens/s, "
    "fp32 vs int8 side by side; quality delta per metric with its paired-bootstrap CI), model_int8.pt, and the "
    "two eval runs plus the compare run it made (`lifecycle eval compare`)."))
def quantize_cmd(
    run: Optional[str] = typer.Option(None, "--run", "-r", help="A finetune or merge run (default: configs/model.yaml)."),
    bits: int = typer.Option(8, "--bits", help="8: int8 dynamic (CPU). 4: bitsandbytes, needs CUDA."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1, help="First N examples of the eval set."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch threads for the speed measurement."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Quantize to int8 and measure size, speed and quality against fp32."""
    from lifecycle.optimize.quantize import QuantizeOptions, quantize
    from lifecycle.project import Project

    proj = Project.find(project)
    run_obj, r = quantize(proj, QuantizeOptions(run=run, bits=bits, limit=limit, threads=threads, argv=sys.argv),
                          echo=typer.echo)
    sp, s = r["speed"], r["size"]
    typer.echo(f"weights: {s['fp32_bytes'] / 1e6:.2f} MB fp32 -> {s['int8_bytes'] / 1e6:.2f} MB int8 ({s['ratio']:.2f}x)")
    typer.echo(f"generation: {sp['fp32']['tokens_per_s']} -> {sp['int8']['tokens_per_s']} tokens/s "
               f"({sp['tokens_per_s_ratio']}x)")
    for m, q in r["quality"].items():
        typer.echo(f"  {m}: {q['fp32']:.4f} -> {q['int8']:.4f} ({q['delta']:+.4f}, 95% CI "
                   f"[{q['ci'][0]:+.4f}, {q['ci'][1]:+.4f}]) {q['verdict']}")
    typer.echo(f"run {run_obj.id}: {run_obj.path / 'report.md'}")


@optimize_app.command("export", epilog=(
    "Examples:\n\n"
    "  lifecycle optimize export                         # the base model (decoder-only)\n\n"
    "  lifecycle optimize export --run 20261201T101500Z-finetune-ab12cd3 --name support-bot\n\n"
    "Writes runs/<time>-export-<hash>/: model/ (merged weights + tokenizer), serve_vllm.sh (the `vllm serve` "
    "command), Dockerfile (FROM vLLM's image) and README.md. Encoder-decoder models (T5) are refused with the "
    "reason: vLLM serves decoder-only models; use `lifecycle serve`."))
def export_cmd(
    run: Optional[str] = typer.Option(None, "--run", "-r", help="A finetune or merge run (default: configs/model.yaml)."),
    name: Optional[str] = typer.Option(None, "--name", help="--served-model-name for vLLM (default: run id or folder name)."),
    image: Optional[str] = typer.Option(None, "--image", help="vLLM image for the Dockerfile."),
    project: Optional[Path] = PROJECT_OPTION,
) -> None:
    """Export a decoder-only model for vLLM: merged folder, command and Dockerfile."""
    from lifecycle.optimize.export import VLLM_IMAGE, export_vllm
    from lifecycle.project import Project

    proj = Project.find(project)
    out = export_vllm(proj, run_ref=run, name=name, image=image or VLLM_IMAGE, argv=sys.argv, echo=typer.echo)
    typer.echo(f"run {out.id}")
