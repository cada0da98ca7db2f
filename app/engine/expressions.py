"""Safe expressions for diagram conditions, timer values and service parameters.

A diagram is tenant-written text, so nothing in it reaches Python's ``eval``/``exec``. Expressions
are a small Python-like language: literals, names from the task data, arithmetic, comparisons,
``and``/``or``/``not``, ``x if c else y``, subscripts and a few pure functions. Attribute access,
lambdas, comprehensions and calls to anything else are refused before evaluation, and the
evaluation itself is done by simpleeval, which also caps powers and string sizes.
"""

import ast
import operator
from functools import lru_cache

from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes

MAX_EXPRESSION_LENGTH = 500

FUNCTIONS = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
}

_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Name,
    ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Subscript, ast.Slice,
    ast.Call, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.FloorDiv, ast.Mod, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot,
)


MAX_SEQUENCE = 10_000


def _size(value, limit: int = MAX_SEQUENCE) -> int:
    """Items in a (nested) sequence, counting each string character; stops past ``limit``."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple)):
        total = 0
        for item in value:
            total += _size(item, limit)
            if total > limit:
                break
        return max(total, 1)
    return 1


def _multiply(left, right):
    """Like ``*``, but a repeated string, list or tuple may not exceed MAX_SEQUENCE items."""
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            if _size(seq) * max(times, 0) > MAX_SEQUENCE:
                raise ValueError("sequence too long")
    return operator.mul(left, right)


OPERATORS = {**DEFAULT_OPERATORS, ast.Mult: _multiply}


class ExpressionError(Exception):
    """An expression that is not allowed, does not parse, or fails on the data given."""

    def __init__(self, expression: str, reason: str):
        super().__init__(f"{reason}: {expression!r}")
        self.expression = expression
        self.reason = reason


@lru_cache(maxsize=4096)
def parse_expression(expression: str) -> ast.Expression:
    """Parse and check an expression; the result is cached, so each text is checked once."""
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError(str(expression), "empty expression")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(expression[:40] + "...", "expression too long")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(expression, f"syntax error ({exc.msg})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(expression, f"'{type(node).__name__}' is not allowed")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(expression, f"name '{node.id}' is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(expression, "only len, str, int, float, bool, abs, min, "
                                      "max and round may be called")
            if node.keywords:
                raise ExpressionError(expression, "keyword arguments are not allowed")
    return tree


def evaluate(expression: str, data: dict):
    """Evaluate ``expression`` over ``data`` (task data); never runs Python from the diagram."""
    tree = parse_expression(expression)
    evaluator = EvalWithCompoundTypes(names=dict(data), functions=FUNCTIONS, operators=OPERATORS)
    try:
        return evaluator.eval(expression.strip(), previously_parsed=tree.body)
    except Exception as exc:  # simpleeval raises many types; report them as one
        raise ExpressionError(expression, f"{type(exc).__name__}: {exc}") from None
