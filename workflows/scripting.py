"""The restricted script environment every SpiffWorkflow expression and script runs in.

BPMN files are written by administrators, not by citizens, so this is defence in depth rather than a sandbox
to run hostile code: the code is checked on its syntax tree before it is compiled (no imports, nothing that
starts with `_`, no introspection helpers, no power or number big enough to stall a worker), and it runs with
`__builtins__` replaced by a short whitelist.
The same check runs at upload (`workflows.validation`) so a refused expression never reaches a dossier.
"""

from __future__ import annotations

import ast
import builtins
import textwrap
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import CodeType, MappingProxyType
from typing import Any, Literal

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

Mode = Literal["eval", "exec"]

# Functions the engine passes per dossier; validation accepts these names before any dossier exists.
EXPRESSION_FUNCTIONS = ("before_due", "after_start")

_BUILTIN_NAMES = (
    "len min max sum abs round int float str bool list dict set tuple sorted any all range enumerate zip "
    "isinstance True False None"
)
SAFE_BUILTINS: Mapping[str, Any] = MappingProxyType(
    {name: getattr(builtins, name) for name in _BUILTIN_NAMES.split()}
    | {"datetime": datetime, "date": date, "timedelta": timedelta}
)

# Not in the whitelist anyway; naming them is refused up front so the author hears why, not a NameError later.
_FORBIDDEN_NAME_LIST = (
    "exec eval open compile getattr setattr delattr hasattr globals locals vars type dir breakpoint input help "
    "memoryview object super classmethod staticmethod property"
)
FORBIDDEN_NAMES = frozenset(_FORBIDDEN_NAME_LIST.split())

# Attributes without a leading underscore that still reach frames, code or globals (generator/traceback
# introspection) and the str.format mini-language, which does attribute lookups the tree check cannot see.
_FORBIDDEN_ATTRIBUTE_LIST = (
    "gi_frame gi_code gi_yieldfrom cr_frame cr_code cr_await ag_frame ag_code f_globals f_locals f_builtins "
    "f_back f_code tb_frame tb_next format format_map mro"
)
FORBIDDEN_ATTRIBUTES = frozenset(_FORBIDDEN_ATTRIBUTE_LIST.split())

# `10 ** 10 ** 9` would compute for hours, `"a" * 10000000000000000` would exhaust memory: a power needs a small
# literal exponent and a literal number must stay below what a procedure plausibly needs. This stops the obvious
# cases only; a loop or a repetition by a computed count (`"a" * 10 ** 12`) still needs a time or memory limit.
MAX_EXPONENT = 64
MAX_INT_LITERAL = 10**15

COMPILE_CACHE_SIZE = 4096


class UnsafeCodeError(ValueError):
    """The code parses but uses something the restricted environment refuses."""


def _syntax_reason(err: SyntaxError) -> str:
    # Python gives offset 0 when the code ends too early ("a =="): point just past the end instead.
    column = err.offset or len((err.text or "").rstrip("\n")) + 1
    if (err.lineno or 1) > 1:
        return _(
            "syntax error at line %(line)s, column %(column)s: %(msg)s", line=err.lineno, column=column, msg=err.msg
        )
    return _("syntax error at column %(column)s: %(msg)s", column=column, msg=err.msg)


def _node_reason(node: ast.AST) -> str | None:
    """Why one syntax-tree node is refused, or None."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return _("uses import")
    if isinstance(node, ast.Global | ast.Nonlocal):
        return _("uses global or nonlocal")
    if isinstance(node, ast.ClassDef):
        return _("defines a class")
    if isinstance(node, ast.AsyncFunctionDef | ast.Await | ast.AsyncFor | ast.AsyncWith):
        return _("uses async code")
    if isinstance(node, ast.Name):
        return _name_reason(node.id)
    if isinstance(node, ast.Attribute):
        return _attribute_reason(node.attr)
    if isinstance(node, ast.arg | ast.FunctionDef) and _private(_bound_name(node)):
        return _("accesses private name %(name)s", name=_bound_name(node))
    return _size_reason(node)


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


def _bound_name(node: ast.arg | ast.FunctionDef) -> str:
    return node.arg if isinstance(node, ast.arg) else node.name


def _private(name: str) -> bool:
    return name.startswith("_")


def _name_reason(name: str) -> str | None:
    if _private(name):
        return _("accesses private name %(name)s", name=name)
    if name in FORBIDDEN_NAMES:
        return _("uses forbidden name %(name)s", name=name)
    return None


def _attribute_reason(attr: str) -> str | None:
    if _private(attr):
        return _("accesses private name %(name)s", name=attr)
    if attr in FORBIDDEN_ATTRIBUTES:
        return _("uses forbidden attribute %(name)s", name=attr)
    return None


def normalize(source: str, mode: Mode) -> str:
    """Strip the indentation XML pretty-printing adds, keeping line numbers for error messages."""
    if mode == "eval":
        return source.strip()
    return textwrap.dedent(source)


def parse_code(source: str, mode: Mode) -> ast.AST:
    """Parse normalized source; raises SyntaxError (the DMN engine relies on that type)."""
    return ast.parse(normalize(source, mode), mode=mode)


def check_tree(tree: ast.AST) -> str | None:
    """The first refused construct in a parsed tree, or None."""
    for node in ast.walk(tree):
        reason = _node_reason(node)
        if reason is not None:
            return reason
    return None


def check_code(source: str, mode: Literal["eval", "exec"]) -> str | None:
    """None if the code is acceptable, else a plain English reason."""
    if source is None or not source.strip():
        return _("is empty")
    try:
        tree = parse_code(source, mode)
    except SyntaxError as err:
        return _syntax_reason(err)
    except (ValueError, RecursionError, MemoryError):  # null bytes, absurd nesting
        return _("cannot be read as Python")
    return check_tree(tree)


@lru_cache(maxsize=COMPILE_CACHE_SIZE)
def compile_restricted(source: str, mode: Mode) -> CodeType:
    """Check and compile once per distinct source: conditions are evaluated thousands of times."""
    tree = parse_code(source, mode)
    reason = check_tree(tree)
    if reason is not None:
        raise UnsafeCodeError(reason)
    # '<string>' lets SpiffWorkflow's error reporter find the failing line of a script.
    return compile(tree, "<string>", mode)


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment with checked, cached code and whitelisted builtins.

    `self.globals` holds only the given functions: SpiffWorkflow refuses task data that shadows a global
    (check_for_overwrite), and builtins such as `date` or `sum` are plausible form field ids.
    """

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        super().__init__(dict(functions or {}))

    def _namespace(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None) -> dict:
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        # Set last: task data must never be able to supply its own builtins.
        namespace["__builtins__"] = dict(SAFE_BUILTINS)
        return namespace

    def evaluate(self, expression: str | None, context: dict, external_context: dict | None = None) -> Any:
        if expression is None or not expression.strip():  # e.g. a message throw event without a payload
            return None
        code = compile_restricted(expression, "eval")
        # Checked by compile_restricted and run with whitelisted builtins only.
        return eval(code, self._namespace(context, external_context))  # noqa: S307

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        code = compile_restricted(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        # Scripts assign into task data, so they run in the context dict itself, as SpiffWorkflow does.
        context.update(self.globals)
        context.update(external_context or {})
        context["__builtins__"] = dict(SAFE_BUILTINS)
        try:
            exec(code, context)  # noqa: S102 - checked by compile_restricted, builtins whitelisted
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise UnsafeCodeError(_("service tasks are not supported"))


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose validate() applies the same rules as evaluation."""

    def validate(self, expression: str) -> None:
        # SyntaxError must escape as such: DMNEngine.needs_eq() catches it to decide whether to add '=='.
        tree = parse_code(expression, "eval")
        reason = check_tree(tree)
        if reason is not None:
            raise UnsafeCodeError(reason)


def make_script_engine(functions: dict[str, Callable] | None = None) -> PythonScriptEngine:
    """A script engine for one dossier; `functions` are its per-dossier helpers (before_due, after_start)."""
    return RestrictedScriptEngine(environment=RestrictedEnvironment(functions))
