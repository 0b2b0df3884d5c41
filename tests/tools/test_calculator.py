"""The calculator tool: exact arithmetic, hostile input refused, PAL-style use and its eval set."""

from __future__ import annotations

import time

import pytest

from lifecycle.tools.calculator import CalculatorError, evaluate, format_number
from lifecycle.tools import arithmetic, pal


@pytest.mark.parametrize("expr, value", [
    ("2 + 3 * 4", 14), ("(2 + 3) * 4", 20), ("2 ** 10", 1024), ("7 // 2", 3), ("7 % 3", 1), ("-(3 - 5) ** 2", -4),
    ("1 / 4", 0.25), ("+5", 5), ("2 ** -1", 0.5), ("1.5 * 4", 6.0), ("2^3", 8), ("10 ** 300 // 10 ** 299", 10),
    ("+".join(["1"] * 240), 240), ("(" * 50 + "1" + ")" * 50, 1),
])
def test_arithmetic_matches_python(expr, value):
    assert evaluate(expr) == value


@pytest.mark.parametrize("expr, why", [
    ("__import__('os').system('id')", "'Call' is not allowed"),
    ("(1).__class__", "'Attribute' is not allowed"),
    ("x + 1", "'Name' is not allowed"),
    ("[1, 2][0]", "'Subscript' is not allowed"),
    ("[1] * 10", "'List' is not allowed"),
    ("'a' * 3", "only numbers are allowed"),
    ("True + 1", "only numbers are allowed"),
    ("1j * 2", "only numbers are allowed"),
    ("lambda: 1", "'Lambda' is not allowed"),
    ("1 if 1 else 2", "'IfExp' is not allowed"),
    ("1 < 2", "'Compare' is not allowed"),
    ("1 << 10000", "'LShift' is not allowed"),
    ("9 ** 9 ** 9", "exponent 387420489 is larger than 1000"),
    ("99999 ** 999", "result too large"),
    ("(10 ** 300) * (10 ** 300) * (10 ** 300)", "result too large"),
    ("10.0 ** 400", "result too large"),
    ("1e308 * 10", "not a finite number"),
    ("1 / 0", "division by zero"),
    ("5 % 0", "division by zero"),
    ("(-8) ** 0.5", "not a real number"),
    ("-" * 400 + "1", "nested deeper"),
    ("1 +", "not an arithmetic expression"),
    ("1" * 600, "limit is 500"),
    ("", "empty expression"),
    ("import os", "not an arithmetic expression"),
])
def test_hostile_or_invalid_expressions_are_refused_quickly(expr, why):
    t = time.perf_counter()
    with pytest.raises(CalculatorError, match=why.replace("(", r"\(").replace("*", r"\*")):
        evaluate(expr)
    assert time.perf_counter() - t < 0.5


def test_the_evaluator_never_calls_eval(monkeypatch):
    import builtins

    def boom(*a, **k):
        raise AssertionError("eval/exec must not be called")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    assert evaluate("6 * 7") == 42


def test_format_number():
    assert format_number(42.0) == "42" and format_number(1 / 3) == "0.3333333333" and format_number(-7) == "-7"


def test_pal_extraction_and_answers():
    assert pal.extract_expression("Expression: (12 + 7) * 3") == "(12 + 7) * 3"
    assert pal.extract_expression("The answer is 12 * 4 apples") == "12 * 4"
    assert pal.tool_answer("12 * (3 + 4)") == ("84", None)
    assert pal.tool_answer("no numbers here") == (None, "no arithmetic expression in the output")
    answer, err = pal.tool_answer("Expression: 5 / 0")
    assert answer is None and err == "division by zero"
    assert pal.direct_answer("It is 1,234 in total") == "1234"
    assert pal.same_number("84.0", "84") and not pal.same_number(None, "84")


def test_arithmetic_set_is_seeded_and_exact():
    rows = arithmetic.arithmetic_set(30, seed=3)
    assert rows == arithmetic.arithmetic_set(30, seed=3) and rows != arithmetic.arithmetic_set(30, seed=4)
    assert [r["id"] for r in rows] == [f"arith-{i:03d}" for i in range(30)]
    assert {len(r["expression"].split()) for r in arithmetic.arithmetic_set(40, terms=3)} == {5}
    words = {"+": "plus", "-": "minus", "*": "times"}
    for r in rows:
        assert r["question"] == "What is " + " ".join(words.get(t, t) for t in r["expression"].split()) + "?"
        assert int(r["answer"]) == eval(r["expression"], {"__builtins__": {}}) >= 0  # the reference: Python itself
    # a model that writes the right expression gets every answer with the tool; copying digits does not
    tool = [pal.tool_answer(f"Expression: {r['expression']}")[0] for r in rows]
    direct = [pal.direct_answer(r["expression"]) for r in rows]  # "answers" with the first operand
    refs = [r["answer"] for r in rows]
    assert pal.accuracy(tool, refs).value == 1.0 and pal.accuracy(direct, refs).value == 0.0


def test_calc_cli(run_cli):
    r = run_cli("tools", "calc", "(12 + 7) * 3 ** 2")
    assert r.returncode == 0 and r.stdout.strip() == "171"
    r = run_cli("tools", "calc", "__import__('os').getcwd()")
    assert r.returncode == 1 and r.stderr.startswith("error: 'Call' is not allowed") and "Traceback" not in r.stderr


def test_arith_set_cli_writes_the_generated_set(run_cli, tmp_path):
    import json

    out = tmp_path / "arith.jsonl"
    r = run_cli("tools", "arith-set", "-n", "12", "--seed", "5", "--terms", "3", "--out", str(out))
    assert r.returncode == 0 and f"wrote 12 questions to {out}" in r.stdout, r.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == arithmetic.arithmetic_set(12, seed=5, terms=3)
