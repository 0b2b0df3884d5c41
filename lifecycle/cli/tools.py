"""`lifecycle tools`: the calculator tool (a safe arithmetic evaluator), the generated arithmetic eval
set, and the model's accuracy with vs without the tool (PAL-style). Thin: parse -> call -> print."""

from __future__ import annotations

import json
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
                   "Each line: id, question, expression, answer (computed by the calculator).")
def arith_set_cmd(n: int = typer.Option(50, "-n", min=1, max=100000, help="Questions."),
                  seed: int = typer.Option(0, "--seed"),
                  out: Optional[Path] = typer.Option(None, "--out", "-o", help=f"Output JSONL (default: {ARITH_DEFAULT})."),
                  project: Optional[Path] = PROJECT_OPTION) -> None:
    """Write a generated arithmetic eval set."""
    from lifecycle.config.yaml_io import atomic_write_text
    from lifecycle.project import Project
    from lifecycle.tools.pal import arithmetic_set

    path = out if out is not None else Project.find(project).path(ARITH_DEFAULT)
    rows = arithmetic_set(n, seed=seed)
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
    typer.echo(f"wrote {len(rows)} questions to {path}")


@tools_app.command("eval", epilog="Examples:\n\n  lifecycle tools eval\n\n  lifecycle tools eval --data data/tools/arith.jsonl --limit 20\n\n"
                   "Two tool_eval runs with the project's model: a direct numeric answer, and an expression the "
                   "calculator computes; accuracy of each with a bootstrap CI and the paired test.")
def eval_cmd(data: Optional[Path] = typer.Option(None, "--data", "-d", help=f"Arithmetic set (default: {ARITH_DEFAULT}; generated when absent)."),
             limit: Optional[int] = typer.Option(None, "--limit", "-n", min=1),
             project: Optional[Path] = PROJECT_OPTION) -> None:
    """Accuracy with vs without the calculator on the arithmetic set."""
    from lifecycle.errors import DataError
    from lifecycle.project import Project
    from lifecycle.tools.pal import arithmetic_set, run_tool_eval

    proj = Project.find(project)
    path = data if data is not None else proj.path(ARITH_DEFAULT)
    if path.is_file():
        from lifecycle.data import check_id, check_text, iter_json_objects, json_type

        rows = []
        # streamed: bad UTF-8, bad JSON, a non-object or a wrong field type is one file:line error
        for i, row in iter_json_objects(path, kind="arithmetic set"):
            if not {"id", "question", "answer"} <= set(row):
                raise DataError(f"{path}:{i}: needs id, question and answer")
            check_id(row["id"], path, i, "id")
            check_text(row, "question", path, i)
            if isinstance(row["answer"], bool) or not isinstance(row["answer"], (str, int, float)):
                raise DataError(f"{path}:{i}: answer: must be text or a number, got {json_type(row['answer'])}")
            rows.append(row)
    elif data is not None:
        raise DataError(f"{path}: not found", hint="write one with `lifecycle tools arith-set`")
    else:
        rows = arithmetic_set(50)
    rows = rows[:limit] if limit else rows
    res = run_tool_eval(proj, rows, argv=sys.argv)
    c = res["comparison"]
    typer.echo(f"direct: {res['runs']['direct']}  accuracy {res['direct']:.3f}")
    typer.echo(f"tool:   {res['runs']['tool']}  accuracy {res['tool']:.3f}")
    typer.echo(f"tool - direct: {c['diff']:+.3f}  95% CI [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}]  p={c['p_value']:.4f}")
