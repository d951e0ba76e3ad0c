"""Which user code is provably cheap enough to run inside the portal's own process.

Code passes when its cost is bounded by its own length and the size of the data it reads: no loops,
comprehensions, functions or lambdas (so every node runs at most once); no operator that multiplies a size
(`*`, `**`, `%` formatting, `<<`, `@`); calls only to a few builtins that are linear in their arguments and to
the per-dossier functions; no method calls and no format specs (`f"{x:>1000000000}"`). Each statement can at
most add up the sizes of the names it reads, so at most MAX_NAME_READS reads bound every value to
2**(MAX_NAME_READS / 2) times the largest value in the task data.

Everything else runs in the sandbox child, under the time and memory budgets (`workflows.sandbox`). The rules
are deliberately narrow: a wrong "no" costs a fraction of a millisecond, a wrong "yes" could stall a worker.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from workflows.sandbox_rules import EXPRESSION_FUNCTIONS

MAX_NAME_READS = 8
# Linear in their arguments (int/str conversions are capped at 4300 digits by Python itself).
_CHEAP_CALL_NAMES = "len abs bool int float str min max round isinstance date datetime timedelta"
CHEAP_CALLS = frozenset(_CHEAP_CALL_NAMES.split())
# Keywords only where they are plain numbers: timedelta(days=3), date(year=…).
_KEYWORD_CALLS = frozenset({"date", "datetime", "timedelta"})
_ROUND_DIGITS = 64  # round(x, n) computes 10**-n for an int x

_OPERATORS = (ast.Add, ast.Sub, ast.Div, ast.FloorDiv, ast.BitAnd, ast.BitOr, ast.BitXor, ast.RShift)
_PLAIN_NODES = (
    ast.Expression,
    ast.Module,
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.Delete,
    ast.If,
    ast.Pass,
    ast.IfExp,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.Compare,
    ast.cmpop,
    ast.UnaryOp,
    ast.unaryop,
    ast.BinOp,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Del,
    ast.Constant,
    ast.Subscript,
    ast.Slice,
    ast.Attribute,
    ast.Call,
    ast.keyword,
    ast.Tuple,
    ast.List,
    ast.Dict,
    ast.Set,
    ast.Starred,
    ast.JoinedStr,
    ast.FormattedValue,
)


def _node_bounded(node: ast.AST, callees: set[int]) -> bool:
    if not isinstance(node, _PLAIN_NODES + _OPERATORS):
        return False
    if isinstance(node, ast.BinOp | ast.AugAssign):
        return isinstance(node.op, _OPERATORS)
    if isinstance(node, ast.operator):
        return isinstance(node, _OPERATORS)
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is None
    if isinstance(node, ast.Attribute):
        return isinstance(node.ctx, ast.Load) and id(node) not in callees
    if isinstance(node, ast.Call):
        return _call_bounded(node)
    return True


def _call_bounded(node: ast.Call) -> bool:
    if not isinstance(node.func, ast.Name):
        return False
    name = node.func.id
    if name not in CHEAP_CALLS and name not in EXPRESSION_FUNCTIONS:
        return False
    if node.keywords and (name not in _KEYWORD_CALLS or any(k.arg is None for k in node.keywords)):
        return False
    if name == "round" and len(node.args) > 1:
        digits = node.args[1]
        if isinstance(digits, ast.UnaryOp) and isinstance(digits.op, ast.USub):
            digits = digits.operand
        return isinstance(digits, ast.Constant) and type(digits.value) is int and digits.value <= _ROUND_DIGITS
    return True


def _name_reads(tree: ast.AST, callees: set[int]) -> int:
    return sum(
        1 for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in callees
    )


def tree_bounded(tree: ast.AST) -> bool:
    """True when the (already checked) tree provably runs in time and memory linear in its data."""
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    if not all(_node_bounded(node, callees) for node in ast.walk(tree)):
        return False
    return _name_reads(tree, callees) <= MAX_NAME_READS


@lru_cache(maxsize=4096)
def is_bounded(source: str, mode: str) -> bool:
    """Cached per distinct source, like compile_restricted: conditions are evaluated thousands of times."""
    try:
        tree = ast.parse(source, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return tree_bounded(tree)
