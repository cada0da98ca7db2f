"""Safe expressions for diagram conditions, timer values and service parameters.

A diagram is tenant-written text, so nothing in it reaches Python's ``eval``/``exec``. Expressions
are a small Python-like language: literals, names from the task data, arithmetic, comparisons,
``and``/``or``/``not``, ``x if c else y``, subscripts and a few pure functions. Attribute access,
lambdas, comprehensions, ``**`` and calls to anything else are refused when the text is parsed;
what is left is evaluated here, node by node, by a small interpreter that knows every operation
it runs and bounds what each one makes.

Bounds (an expression runs on every workflow step, with text a tenant wrote and data a requester
partly typed, so nothing it does may grow without limit):

- ``MAX_EXPRESSION_LENGTH`` characters of expression text, nested at most ``MAX_DEPTH`` syntax
  levels deep (so neither parsing nor evaluating can exhaust the stack).
- ``MAX_SIZE``: the largest value one operation may make. A value's size is its length for a
  text, 1 + the sizes of its items (keys and values) for a list, tuple, set or dict, and 1 for
  anything else; an item held twice counts twice, so what ``==`` or ``in`` would walk through is
  bounded too. Where the size is known beforehand (repetition, concatenation, slicing) it is
  checked before anything is allocated.
- ``MAX_MADE``: the sizes of all the values one evaluation makes, added up; bounds the memory an
  expression holds at once (many values each under ``MAX_SIZE``) and the work it does.
- ``MAX_INT_BITS``: whole numbers an operation makes stay below 2**128 (about 3.4e38; conditions
  compare costs, hours and counts); decimal numbers must stay finite. Number literals too.
- ``MAX_ROUND_DIGITS``: ``round(x, n)`` with ``|n|`` at most this (Python computes ``10**-n``).
- ``MAX_NUMBER_TEXT``: ``int()`` and ``float()`` read a text of at most this many characters.
- ``MAX_CACHED_NODES``: checked syntax trees are kept by text so each is parsed once; together
  they hold at most this many nodes (about 20 MB; a typical condition has 5 to 15).

Operations a condition does not need are not there: ``%`` is the remainder of two numbers (no
text formatting), ``str()`` converts a single value (not a list, tuple, set or dict), and a dict
literal cannot unpack another with ``**``. Values read from the task data by name are not
measured (a long-text answer is legitimate to read); what operations make from them is.
"""

import ast
import math
import operator
import threading
from collections import OrderedDict

MAX_EXPRESSION_LENGTH = 500
MAX_DEPTH = 50
MAX_SIZE = 50_000
MAX_MADE = 200_000
MAX_INT_BITS = 128
MAX_ROUND_DIGITS = 40
MAX_NUMBER_TEXT = 100
MAX_CACHED_NODES = 50_000

_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Name,
    ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Subscript, ast.Slice,
    ast.Call, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div,
    ast.FloorDiv, ast.Mod, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot,
)
_LITERAL_TYPES = (str, int, float, bool, type(None))
_CONTAINERS = (list, tuple, set, frozenset, dict)
_PLAIN_TYPES = frozenset((int, float, bool, type(None)))  # items of size 1
_SEQUENCES = (str, list, tuple)

TOO_LARGE = f"the result is too large (more than {MAX_SIZE} characters or items)"
TOO_MUCH = f"the expression makes too much data (more than {MAX_MADE} characters or items)"
NUMBER_TOO_LARGE = f"the number is too large (whole numbers must stay below 2**{MAX_INT_BITS})"
NOT_FINITE = "the result is not a finite number"


class ExpressionError(Exception):
    """An expression that is not allowed, does not parse, or fails on the data given."""

    def __init__(self, expression: str, reason: str):
        super().__init__(f"{reason}: {expression!r}")
        self.expression = expression
        self.reason = reason


class _Refused(Exception):
    """An operation refused by a rule or a bound; the message is the reason for the tenant."""


def size_of(value, limit: int = MAX_SIZE) -> int:
    """The size of ``value`` as the bounds count it (see the module docstring). Counting stops
    once ``limit`` is passed, so measuring costs about ``limit`` steps at most, and a container
    of plain numbers is counted at C speed."""
    if isinstance(value, str):
        return len(value) or 1
    if not isinstance(value, _CONTAINERS):
        return 1
    total = 1
    pending = [value]  # containers still to count the items of: no recursion
    while pending:
        container = pending.pop()
        groups = (container.keys(), container.values()) if isinstance(container, dict) \
            else (container,)
        for items in groups:
            total += len(items)  # each item counts 1; a text counts its other characters too
            if total > limit:
                return total
            if _PLAIN_TYPES.issuperset(map(type, items)):
                continue
            for item in items:
                if isinstance(item, str):
                    total += len(item) - 1 if item else 0
                elif isinstance(item, _CONTAINERS):
                    pending.append(item)
    return total


def _check_size(size: int) -> None:
    if size > MAX_SIZE:
        raise _Refused(TOO_LARGE)


def _add(left, right):
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_size(len(left) + len(right))
    return left + right


def _multiply(left, right):
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and isinstance(times, int) and times > 0:
            if isinstance(seq, str):
                _check_size(len(seq) * times)
            else:  # the items are repeated, not the container around them
                _check_size((size_of(seq) - 1) * times + 1)
    return left * right


def _remainder(left, right):
    if not (isinstance(left, (int, float)) and isinstance(right, (int, float))):
        raise _Refused("'%' is the remainder of two numbers; text formatting is not available")
    return left % right


def _str(value=""):
    if isinstance(value, _CONTAINERS):
        raise _Refused("str() converts a number, a text, True/False or None, "
                       "not a list, tuple, set or dict")
    return str(value)


def _number_text(value) -> None:
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        raise _Refused(f"int() and float() read a number of at most {MAX_NUMBER_TEXT} characters")


def _int(value=0, *base):
    _number_text(value)
    return int(value, *base)


def _float(value=0.0):
    _number_text(value)
    return float(value)


def _round(number, ndigits=None):
    if isinstance(ndigits, int) and not -MAX_ROUND_DIGITS <= ndigits <= MAX_ROUND_DIGITS:
        raise _Refused(f"round() keeps at most {MAX_ROUND_DIGITS} digits")
    return round(number, ndigits)


FUNCTIONS = {
    "len": len,
    "str": _str,
    "int": _int,
    "float": _float,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
    "round": _round,
}

_BINARY = {
    ast.Add: _add, ast.Sub: operator.sub, ast.Mult: _multiply, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: _remainder,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARISONS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda left, right: left in right, ast.NotIn: lambda left, right: left not in right,
}


def _literal_problem(value) -> str | None:
    if not isinstance(value, _LITERAL_TYPES):
        return "only numbers, texts, True, False and None may be written as values"
    if type(value) is int and value.bit_length() > MAX_INT_BITS:
        return NUMBER_TOO_LARGE
    if type(value) is float and not math.isfinite(value):
        return NOT_FINITE
    return None


def _node_problem(node) -> str | None:
    """Why ``node`` is not allowed in an expression, or None."""
    if not isinstance(node, _ALLOWED_NODES):
        return f"'{type(node).__name__}' is not allowed"
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        return f"name '{node.id}' is not allowed"
    if isinstance(node, ast.Constant):
        return _literal_problem(node.value)
    if isinstance(node, ast.Dict) and None in node.keys:
        return "'**' is not allowed"
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            return "only len, str, int, float, bool, abs, min, max and round may be called"
        if node.keywords:
            return "keyword arguments are not allowed"
    return None


class _CheckedTrees:
    """Checked trees by expression text. The least recently used are dropped once the trees
    hold more than ``max_nodes`` syntax nodes: a tree weighs about 350 bytes a node (up to
    90 KB for one long expression), so a count of entries alone would not bound the memory."""

    def __init__(self, max_nodes: int):
        self._trees: OrderedDict[str, tuple[ast.Expression, int]] = OrderedDict()
        self._nodes = 0
        self._max_nodes = max_nodes
        self._lock = threading.Lock()

    def get(self, text: str) -> ast.Expression | None:
        with self._lock:
            entry = self._trees.get(text)
            if entry is None:
                return None
            self._trees.move_to_end(text)
            return entry[0]

    def put(self, text: str, tree: ast.Expression, nodes: int) -> None:
        with self._lock:
            if text in self._trees:
                return
            self._trees[text] = (tree, nodes)
            self._nodes += nodes
            while self._nodes > self._max_nodes:
                _, (_, dropped) = self._trees.popitem(last=False)
                self._nodes -= dropped


_checked_trees = _CheckedTrees(MAX_CACHED_NODES)


def parse_expression(expression: str) -> ast.Expression:
    """Parse and check an expression; the tree is kept, so a text in use is checked once."""
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError(str(expression), "empty expression")
    tree = _checked_trees.get(expression)
    if tree is None:
        tree, nodes = _parse(expression)
        _checked_trees.put(expression, tree, nodes)
    return tree


def _parse(expression: str) -> tuple[ast.Expression, int]:
    """The checked tree of ``expression`` and the number of its nodes."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(expression[:40] + "...", "expression too long")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(expression, f"syntax error ({exc.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(expression, "the expression cannot be read") from None
    nodes = 0
    pending = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise ExpressionError(expression, f"the expression is nested too deeply "
                                  f"(more than {MAX_DEPTH} levels)")
        problem = _node_problem(node)
        if problem:
            raise ExpressionError(expression, problem)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree, nodes


class _Evaluation:
    """One evaluation of a checked tree: the task data it reads and the room left for what its
    operations make (``MAX_MADE``). Every node that makes a value passes it through ``made``."""

    __slots__ = ("data", "room")

    def __init__(self, data):
        self.data = data
        self.room = MAX_MADE

    def eval(self, node):
        return _NODES[type(node)](self, node)

    def made(self, value):
        """Check a value an operation made against the bounds, count it, and return it."""
        kind = type(value)
        if kind is int and value.bit_length() > MAX_INT_BITS:
            raise _Refused(NUMBER_TOO_LARGE)
        if kind is float and not math.isfinite(value):
            raise _Refused(NOT_FINITE)
        size = size_of(value, min(MAX_SIZE, self.room))
        _check_size(size)
        self.room -= size
        if self.room < 0:
            raise _Refused(TOO_MUCH)
        return value

    def constant(self, node):
        return node.value

    def name(self, node):
        try:
            return self.data[node.id]
        except KeyError:
            raise _Refused(f"name '{node.id}' is not defined") from None

    def bool_op(self, node):
        stop_when = isinstance(node.op, ast.Or)  # 'or' stops at a true value, 'and' at a false
        for operand in node.values:
            value = self.eval(operand)
            if bool(value) is stop_when:
                break
        return value

    def if_exp(self, node):
        return self.eval(node.body if self.eval(node.test) else node.orelse)

    def compare(self, node):
        left = self.eval(node.left)
        for op, operand in zip(node.ops, node.comparators, strict=True):
            right = self.eval(operand)
            if not _COMPARISONS[type(op)](left, right):
                return False
            left = right
        return True

    def unary_op(self, node):
        return self.made(_UNARY[type(node.op)](self.eval(node.operand)))

    def bin_op(self, node):
        left = self.eval(node.left)
        return self.made(_BINARY[type(node.op)](left, self.eval(node.right)))

    def call(self, node):
        args = [self.eval(arg) for arg in node.args]
        return self.made(FUNCTIONS[node.func.id](*args))

    def subscript(self, node):
        container = self.eval(node.value)
        key = self.eval(node.slice)
        if type(key) is not slice:
            return container[key]  # a part of an existing value: nothing is made
        _check_size(len(range(*key.indices(len(container)))))
        return self.made(container[key])

    def slice_(self, node):
        return slice(*(None if part is None else self.eval(part)
                       for part in (node.lower, node.upper, node.step)))

    def list_(self, node):
        return self.made([self.eval(item) for item in node.elts])

    def tuple_(self, node):
        return self.made(tuple([self.eval(item) for item in node.elts]))

    def set_(self, node):
        return self.made({self.eval(item) for item in node.elts})

    def dict_(self, node):
        return self.made({self.eval(key): self.eval(value)
                          for key, value in zip(node.keys, node.values, strict=True)})


_NODES = {
    ast.Constant: _Evaluation.constant, ast.Name: _Evaluation.name,
    ast.BoolOp: _Evaluation.bool_op, ast.IfExp: _Evaluation.if_exp,
    ast.Compare: _Evaluation.compare, ast.UnaryOp: _Evaluation.unary_op,
    ast.BinOp: _Evaluation.bin_op, ast.Call: _Evaluation.call,
    ast.Subscript: _Evaluation.subscript, ast.Slice: _Evaluation.slice_,
    ast.List: _Evaluation.list_, ast.Tuple: _Evaluation.tuple_, ast.Set: _Evaluation.set_,
    ast.Dict: _Evaluation.dict_,
}


def evaluate(expression: str, data: dict):
    """Evaluate ``expression`` over ``data`` (task data); never runs Python from the diagram."""
    tree = parse_expression(expression)
    try:
        return _Evaluation(data).eval(tree.body)
    except _Refused as exc:
        raise ExpressionError(expression, str(exc)) from None
    except OverflowError as exc:
        raise ExpressionError(expression, f"the result is too large ({exc})") from None
    except MemoryError:
        raise ExpressionError(expression, TOO_LARGE) from None
    except RecursionError:
        raise ExpressionError(expression, "the expression is nested too deeply") from None
    except Exception as exc:  # a type error, a missing key, a division by zero...
        raise ExpressionError(expression, f"{type(exc).__name__}: {exc}") from None
