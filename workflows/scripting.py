"""The restricted script environment every SpiffWorkflow expression and script runs in.

BPMN files are written by administrators, not by citizens, so this is defence in depth: the code is checked on
its syntax tree before it is compiled (a whitelist of constructs, nothing named with a leading `_`, no
introspection helpers: `workflows.grammar`), it runs with `__builtins__` replaced by a short whitelist, and code
that is not provably cheap (`workflows.bounded`) runs in a sandbox child under time and memory budgets
(`workflows.sandbox`). The same check runs at upload (`workflows.validation`) so a refused expression never
reaches a dossier.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import CodeType
from typing import Any, Literal

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from workflows import sandbox
from workflows.bounded import is_bounded
from workflows.grammar import FORBIDDEN_ATTRIBUTES, FORBIDDEN_NAMES, MAX_EXPONENT, MAX_INT_LITERAL, check_tree
from workflows.sandbox_rules import EXPRESSION_FUNCTIONS, SAFE_BUILTINS

__all__ = [
    "EXPRESSION_FUNCTIONS",
    "FORBIDDEN_ATTRIBUTES",
    "FORBIDDEN_NAMES",
    "MAX_EXPONENT",
    "MAX_INT_LITERAL",
    "SAFE_BUILTINS",
    "RestrictedEnvironment",
    "check_code",
    "check_tree",
    "make_script_engine",
]

Mode = Literal["eval", "exec"]

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


def normalize(source: str, mode: Mode) -> str:
    """Strip the indentation XML pretty-printing adds, keeping line numbers for error messages."""
    if mode == "eval":
        return source.strip()
    return textwrap.dedent(source)


def parse_code(source: str, mode: Mode) -> ast.Module | ast.Expression:
    """Parse normalized source; raises SyntaxError (the DMN engine relies on that type)."""
    text = normalize(source, mode)
    # Two literal calls, so the type checker knows the result is one compile() accepts.
    return ast.parse(text, mode="eval") if mode == "eval" else ast.parse(text, mode="exec")


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


def _in_process(source: str, mode: Mode) -> bool:
    """Run here when budgets are off (the benchmark's baseline) or the code is provably cheap."""
    return not sandbox.budgets().enabled or _bounded(source, mode)


@lru_cache(maxsize=COMPILE_CACHE_SIZE)
def _bounded(source: str, mode: Mode) -> bool:
    return is_bounded(normalize(source, mode), mode)


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
        if not _in_process(expression, "eval"):
            return sandbox.run("eval", normalize(expression, "eval"), context, external_context, self.globals)
        # Checked by compile_restricted, provably cheap, and run with whitelisted builtins only.
        return eval(code, self._namespace(context, external_context))  # noqa: S307

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        code = compile_restricted(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        if not _in_process(script, "exec"):
            left = sandbox.run("exec", normalize(script, "exec"), context, external_context, self.globals)
            # The same dict object, changed as an in-process run would have changed it (deletions included).
            for key in [k for k in context if k not in left]:
                del context[key]
            context.update(left)
            return True
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
