"""A safe arithmetic evaluator: the expression is parsed with `ast` and only a whitelist of nodes is
evaluated by this module's own walker (never `eval`/`exec`): numbers, + - * / // % **, unary + and -,
parentheses. Names, attributes, calls, subscripts, comprehensions, strings, booleans and complex
numbers are refused. Size limits keep a hostile input from exhausting time or memory: the text length,
the nesting depth, the exponent, and the size of every intermediate result."""

from __future__ import annotations

import ast
import math
import operator
from numbers import Real

from lifecycle.errors import LifecycleError

MAX_CHARS = 500
MAX_DEPTH = 300         # a 500-character sum nests ~250 deep; Python recursion stays far below its limit
MAX_EXPONENT = 1000
MAX_INT_BITS = 2048      # intermediate integers up to ~617 digits
MAX_FLOAT = 1e300


class CalculatorError(LifecycleError):
    """An expression the calculator refuses (not arithmetic, too large, division by zero)."""


_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _check_size(value):
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise CalculatorError(f"result too large (over {MAX_INT_BITS} bits)")
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value) or abs(value) > MAX_FLOAT):
        raise CalculatorError("result is not a finite number within range")
    return value


def _pow(base, exp):
    if abs(exp) > MAX_EXPONENT:
        raise CalculatorError(f"exponent {exp} is larger than {MAX_EXPONENT}")
    if isinstance(base, int) and isinstance(exp, int) and exp > 0:
        # estimate before computing: bits(base ** exp) ~ bits(base) * exp
        if base not in (0, 1, -1) and (abs(base).bit_length() - 1) * exp > MAX_INT_BITS:
            raise CalculatorError(f"result too large (over {MAX_INT_BITS} bits)")
    if base == 0 and exp < 0:
        raise CalculatorError("zero to a negative power")
    if isinstance(base, float) or isinstance(exp, float) or exp < 0:
        if base < 0 and not float(exp).is_integer():
            raise CalculatorError("a negative number to a fractional power is not a real number")
        try:
            return float(base) ** float(exp)
        except OverflowError:
            raise CalculatorError("result too large") from None
    return base ** exp


def _eval(node, depth: int):
    if depth > MAX_DEPTH:
        raise CalculatorError(f"expression nested deeper than {MAX_DEPTH}")
    if isinstance(node, ast.Expression):
        return _eval(node.body, depth + 1)
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise CalculatorError(f"only numbers are allowed, not {type(v).__name__} {v!r}"[:120])
        return _check_size(v)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, depth + 1))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, depth + 1), _eval(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            return _check_size(_pow(left, right))
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise CalculatorError("division by zero")
        if isinstance(node.op, ast.Mult) and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
                raise CalculatorError(f"result too large (over {MAX_INT_BITS} bits)")
        try:
            return _check_size(_BINARY[type(node.op)](left, right))
        except OverflowError:  # e.g. a huge integer mixed with a float
            raise CalculatorError("result too large") from None
    what = type(node).__name__
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        what = type(node.op).__name__
    raise CalculatorError(f"'{what}' is not allowed: only numbers, + - * / // % **, unary +/- and parentheses")


def evaluate(expression: str) -> Real:
    """The value of an arithmetic expression, or CalculatorError (one line saying why)."""
    if not isinstance(expression, str):
        raise CalculatorError("the expression must be text")
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    if not text:
        raise CalculatorError("empty expression")
    if len(text) > MAX_CHARS:
        raise CalculatorError(f"expression has {len(text)} characters; the limit is {MAX_CHARS}")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError) as err:  # ValueError: null bytes
        raise CalculatorError(f"not an arithmetic expression: {getattr(err, 'msg', str(err))}") from None
    except RecursionError:
        raise CalculatorError(f"expression nested deeper than {MAX_DEPTH}") from None
    return _eval(tree, 0)


def format_number(value: Real) -> str:
    """Integers without a decimal point; floats rounded to 10 significant decimals, trailing zeros off."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.10g}"
