"""`lifecycle tools`: the calculator tool (a safe arithmetic evaluator), the generated arithmetic eval
set, and the model's accuracy with vs without the tool (PAL-style). Thin: parse -> call -> print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from lifecycle.cli.options import PROJECT_OPTION, sub_app

tools_app = sub_app(
    help="Tools for exact work: the calculator, its arithmetic eval set, accuracy with vs without it.",
    epilog="Examples:\n\n"
    '  lifecycle tools calc "(12 + 7) * 3 ** 2"\n\n'
    "  lifecycle tools arith-set -n 50 --out data/tools/arith.jsonl\n\n"
    "  lifecycle tools eval --data data/tools/arith.jsonl",
)
ARITH_DEFAULT = "data/tools/arith.jsonl"


@tools_app.command("calc", epilog='Examples:\n\n  lifecycle tools calc "2 ** 10 - 24"\n\n  lifecycle tools calc "7 // 2 + 7 % 2"\n\n'
                   "Only numbers, + - * / // % **, unary +/- and parentheses; names, attributes and calls are "
                   "refused (exit code 1); exponents and results are bounded.")
def calc_cmd(expression: str = typer.Argument(..., help="Arithmetic expression.")) -> None:
    """Evaluate an arithmetic expression safely (never eval)."""
    from lifecycle.tools.calculator import evaluate, format_number

    typer.echo(format_number(evaluate(expression)))


@tools_app.command("arith-set", epilog="Examples:\n\n  lifecycle tools arith-set\n\n  lifecycle tools arith-set -n 200 --seed 1 --out data/tools/big.jsonl\n\n"
                   "Each line: id, question (\"What is 412 times 37?\"), expression, answer (computed by the calculator); "
                   "deterministic for a seed, answers never negative.")
def arith_set_cmd(n: int = typer.Option(50, "-n", min=1, max=100000, help="Questions."),
                  seed: int = typer.Option(0, "--seed"),
                  terms: int = typer.Option(2, "--terms", min=2, max=3, help="Operands per question (2 or 3)."),
                  out: Optional[Path] = typer.Option(None, "--out", "-o", help=f"Output JSONL (default: {ARITH_DEFAULT})."),
                  project: Optional[Path] = PROJECT_OPTION) -> None:
    """Write a generated arithmetic eval set."""
    from lifecycle.project import Project
    from lifecycle.tools.arithmetic import write_arithmetic_set

    path = out if out is not None else Project.find(project).path(ARITH_DEFAULT)
    write_arithmetic_set(path, n, seed=seed, terms=terms)
    typer.echo(f"wrote {n} questions to {path}")


@tools_app.command("eval", epilog="Examples:\n\n  lifecycle tools eval\n\n  lifecycle tools eval --data data/tools/arith.jsonl --limit 20\n\n"
                   "Two eval runs with the project's model on the arithmetic set: a direct numeric answer, and an "
                   "expression the calculator computes. Both have the same eval key, so `lifecycle eval compare "
                   "DIRECT TOOL` pairs them; the comparison (a compare run) is written and printed.")
def eval_cmd(data: Optional[Path] = typer.Option(None, "--data", "-d", help=f"Arithmetic set (default: {ARITH_DEFAULT}; written when absent)."),
             limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1),
             project: Optional[Path] = PROJECT_OPTION) -> None:
    """Accuracy with vs without the calculator on the arithmetic set, by the paired test."""
    from lifecycle.errors import DataError
    from lifecycle.project import Project
    from lifecycle.tools.arithmetic import write_arithmetic_set
    from lifecycle.tools.pal import run_tool_eval

    proj = Project.find(project)
    path = data if data is not None else proj.path(ARITH_DEFAULT)
    if not path.is_file():
        if data is not None:
            raise DataError(f"{path}: not found", hint="write one with `lifecycle tools arith-set`")
        write_arithmetic_set(path)
        typer.echo(f"wrote the generated arithmetic set (50 questions, seed 0) to {path}")
    res = run_tool_eval(proj, path, limit=limit, argv=sys.argv)
    c = res.comparison
    typer.echo(f"direct: {res.runs['direct'].id}  exact match {res.accuracy['direct']:.3f}")
    typer.echo(f"tool:   {res.runs['tool'].id}  exact match {res.accuracy['tool']:.3f}")
    typer.echo(f"tool - direct: {c['diff']:+.3f}  95% CI [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}]  p={c['p_value']:.4f}  "
               f"({c['verdict']}; compare run {c['compare_run']})")
    typer.echo(f"again: lifecycle eval compare {res.runs['direct'].id} {res.runs['tool'].id}")
