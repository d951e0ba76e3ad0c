"""The Python grammar user code may use, as a whitelist of syntax-tree nodes.

A construct is accepted only when it is listed here; anything else (a node type a later Python adds included) is
refused. On top of the list, every way code can *name* something is checked: variables, attributes, function
and parameter names, `except … as` names, keyword argument names (`f(__x=1)`), the keys of a `**{…}` literal,
and the capture names of `match` patterns. `match` class patterns with keyword attributes (`case str(__class__=k)`)
look attributes up by a plain string, so they are refused outright, as are `**` unpackings whose keys the check
cannot see. Builtins that look attributes up by string (getattr, vars, format…) are not available and are refused
by name; str.format and format_map are refused as attributes.
"""

from __future__ import annotations

import ast

from flask_babel import gettext as _

# Not in the whitelist anyway; naming them is refused up front so the author hears why, not a NameError later.
_FORBIDDEN_NAME_LIST = (
    "exec eval open compile getattr setattr delattr hasattr globals locals vars type dir breakpoint input help "
    "memoryview object super classmethod staticmethod property format __import__ attrgetter methodcaller"
)
FORBIDDEN_NAMES = frozenset(_FORBIDDEN_NAME_LIST.split())

# Attributes without a leading underscore that still reach frames, code or globals (generator/traceback
# introspection) and the str.format mini-language, which does attribute lookups the tree check cannot see.
_FORBIDDEN_ATTRIBUTE_LIST = (
    "gi_frame gi_code gi_yieldfrom cr_frame cr_code cr_await ag_frame ag_code f_globals f_locals f_builtins "
    "f_back f_code f_trace tb_frame tb_next format format_map mro"
)
FORBIDDEN_ATTRIBUTES = frozenset(_FORBIDDEN_ATTRIBUTE_LIST.split())

# `10 ** 10 ** 9` would compute for hours, `"a" * 10000000000000000` would exhaust memory: a power needs a small
# literal exponent and a literal number must stay below what a procedure plausibly needs. The time and memory
# budgets (workflows.sandbox) stop everything else.
MAX_EXPONENT = 64
MAX_INT_LITERAL = 10**15

# Every node type user code may contain. Operators and contexts are checked by their base class below.
_STATEMENTS = (
    ast.Module,
    ast.Expression,
    ast.FunctionDef,
    ast.Return,
    ast.Delete,
    ast.Assign,
    ast.AugAssign,
    ast.For,
    ast.While,
    ast.If,
    ast.Raise,
    ast.Try,
    ast.Assert,
    ast.Expr,
    ast.Pass,
    ast.Break,
    ast.Continue,
    ast.Match,
)
_EXPRESSIONS = (
    ast.BoolOp,
    ast.NamedExpr,
    ast.BinOp,
    ast.UnaryOp,
    ast.Lambda,
    ast.IfExp,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Compare,
    ast.Call,
    ast.FormattedValue,
    ast.JoinedStr,
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Starred,
    ast.Name,
    ast.List,
    ast.Tuple,
    ast.Slice,
)
_PARTS = (
    ast.comprehension,
    ast.ExceptHandler,
    ast.arguments,
    ast.arg,
    ast.keyword,
    ast.match_case,
    ast.MatchValue,
    ast.MatchSingleton,
    ast.MatchSequence,
    ast.MatchMapping,
    ast.MatchClass,
    ast.MatchStar,
    ast.MatchAs,
    ast.MatchOr,
)
ALLOWED_NODES = frozenset(_STATEMENTS + _EXPRESSIONS + _PARTS)
_OPERATOR_BASES = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


def _refused(node: ast.AST) -> str:
    """Why a construct outside the whitelist is refused; the common ones get words of their own."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return _("uses import")
    if isinstance(node, ast.Global | ast.Nonlocal):
        return _("uses global or nonlocal")
    if isinstance(node, ast.ClassDef):
        return _("defines a class")
    if isinstance(node, ast.AsyncFunctionDef | ast.Await | ast.AsyncFor | ast.AsyncWith):
        return _("uses async code")
    words = {ast.With: "with", ast.Yield: "yield", ast.YieldFrom: "yield from", ast.AnnAssign: _("an annotation")}
    return _("uses %(construct)s, which procedures may not use", construct=words.get(type(node), type(node).__name__))


def private(name: str) -> bool:
    return name.startswith("_")


def _name_reason(name: str) -> str | None:
    if private(name):
        return _("accesses private name %(name)s", name=name)
    if name in FORBIDDEN_NAMES:
        return _("uses forbidden name %(name)s", name=name)
    return None


def _attribute_reason(attr: str) -> str | None:
    if private(attr):
        return _("accesses private name %(name)s", name=attr)
    if attr in FORBIDDEN_ATTRIBUTES:
        return _("uses forbidden attribute %(name)s", name=attr)
    return None


def _bound_names(node: ast.AST) -> list[str]:
    """Names a node binds or passes that are not `ast.Name` nodes: they are plain strings in the tree."""
    if isinstance(node, ast.FunctionDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
        return [node.name] if node.name else []
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    if isinstance(node, ast.keyword):
        return [node.arg] if node.arg else []
    return []


def _special_reason(node: ast.AST) -> str | None:
    """Constructs that are listed but refused in some of their forms."""
    if isinstance(node, ast.MatchClass) and node.kwd_attrs:
        return _("matches a class pattern by attribute name (%(name)s)", name=node.kwd_attrs[0])
    if isinstance(node, ast.FunctionDef) and node.decorator_list:
        return _("uses a decorator")
    if isinstance(node, ast.keyword) and node.arg is None:
        return _unpacking_reason(node.value)
    annotated = node.returns if isinstance(node, ast.FunctionDef) else getattr(node, "annotation", None)
    if isinstance(node, ast.FunctionDef | ast.arg) and annotated is not None:
        return _("uses %(construct)s, which procedures may not use", construct=_("an annotation"))
    return None


def _unpacking_reason(value: ast.AST) -> str | None:
    """`f(**{...})` passes keyword names as strings: only a literal dict with plain string keys is provable."""
    if not isinstance(value, ast.Dict) or any(key is None for key in value.keys):
        return _("passes keyword arguments with ** from something other than a literal dict")
    for key in value.keys:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return _("passes keyword arguments with ** from something other than a literal dict")
        if private(key.value):
            return _("accesses private name %(name)s", name=key.value)
    return None


def _size_reason(node: ast.AST) -> str | None:
    """Why a power or a number is too big to compute safely, or None."""
    if isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Pow):
        exponent = _int_literal(node.right if isinstance(node, ast.BinOp) else node.value)
        if exponent is None or not -MAX_EXPONENT <= exponent <= MAX_EXPONENT:
            return _("uses ** with an exponent that is not a whole number from -64 to 64")
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value > MAX_INT_LITERAL:
        return _("uses a number larger than 10**15")
    return None


def _int_literal(node: ast.AST) -> int | None:
    """The value of a whole number written in the code (`-3` is a minus sign applied to 3), else None."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:  # not True/False, not a float
        return sign * node.value
    return None


def node_reason(node: ast.AST) -> str | None:
    """Why one syntax-tree node is refused, or None."""
    if type(node) not in ALLOWED_NODES and not isinstance(node, _OPERATOR_BASES):
        return _refused(node)
    if isinstance(node, ast.Name):
        return _name_reason(node.id)
    if isinstance(node, ast.Attribute):
        return _attribute_reason(node.attr)
    for name in _bound_names(node):
        if private(name):
            return _("accesses private name %(name)s", name=name)
    return _special_reason(node) or _size_reason(node)


def check_tree(tree: ast.AST) -> str | None:
    """The first refused construct in a parsed tree, or None."""
    for node in ast.walk(tree):
        reason = node_reason(node)
        if reason is not None:
            return reason
    return None
