"""Names a script reads before it assigns them.

A name a script assigns is no help to the lines above the assignment: `total = fee + extra` followed by
`extra = 5` fails at run time when no form field, earlier script or decision supplies `extra`. Statements are
followed in order; a name bound in one branch of an `if` (or a loop body, a `try`) counts as bound after it, so
only reads that fail on every path are reported. Function bodies run when called, later: they may read any
name the script binds anywhere.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable


def free_names(tree: ast.AST) -> set[str]:
    """Names read by the code and not bound inside it (lambda and comprehension variables, functions,
    `except … as` and `match` capture names)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        else:
            bound.update(_string_bindings(node))
    return loaded - bound


def _string_bindings(node: ast.AST) -> list[str]:
    """Names bound by a node as plain strings rather than `ast.Name` stores."""
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.FunctionDef | ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
        return [node.name] if node.name else []
    if isinstance(node, ast.MatchMapping):
        return [node.rest] if node.rest else []
    return []


def bound_names(tree: ast.AST) -> set[str]:
    """Every name the code binds anywhere (assignments, loop targets, functions, captures)."""
    stores = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    return stores.union(*(_string_bindings(n) for n in ast.walk(tree) if not isinstance(n, ast.arg)))


class _Flow:
    def __init__(self, known: Iterable[str], script_names: set[str]) -> None:
        self.bound = set(known)
        self.script_names = script_names  # what a function body may read when it is called
        self.missing: set[str] = set()

    def read(self, *nodes: ast.AST | None) -> None:
        for node in nodes:
            if node is not None:
                self.missing |= free_names(node) - self.bound

    def bind(self, *nodes: ast.AST | None) -> None:
        """Targets of an assignment: names are bound; subscripts and attributes read their parts."""
        for node in nodes:
            if isinstance(node, ast.Name):
                self.bound.add(node.id)
            elif isinstance(node, ast.Tuple | ast.List):
                self.bind(*node.elts)
            elif isinstance(node, ast.Starred):
                self.bind(node.value)
            elif node is not None:
                self.read(node)

    def block(self, statements: Iterable[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node)
            return
        self.read(node)  # Expr, Return, Raise, Assert…: only reads
        self.bound |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _assign(flow: _Flow, node: ast.Assign) -> None:
    flow.read(node.value)
    _walrus(flow, node.value)
    flow.bind(*node.targets)


def _aug_assign(flow: _Flow, node: ast.AugAssign) -> None:
    flow.read(node.value)
    target = node.target
    flow.read(ast.Name(id=target.id, ctx=ast.Load()) if isinstance(target, ast.Name) else target)
    flow.bind(target)


def _delete(flow: _Flow, node: ast.Delete) -> None:
    for target in node.targets:
        if isinstance(target, ast.Name):
            flow.read(ast.Name(id=target.id, ctx=ast.Load()))
            flow.bound.discard(target.id)
        else:
            flow.read(target)


def _for(flow: _Flow, node: ast.For) -> None:
    flow.read(node.iter)
    flow.bind(node.target)
    flow.block(node.body)
    flow.block(node.orelse)


def _while(flow: _Flow, node: ast.While) -> None:
    flow.read(node.test)
    _walrus(flow, node.test)
    flow.block(node.body)
    flow.block(node.orelse)


def _if(flow: _Flow, node: ast.If) -> None:
    flow.read(node.test)
    _walrus(flow, node.test)
    flow.block(node.body)  # both branches in turn: a name bound in either counts as bound after the `if`
    flow.block(node.orelse)


def _try(flow: _Flow, node: ast.Try) -> None:
    flow.block(node.body)
    for handler in node.handlers:
        flow.read(handler.type)
        if handler.name:
            flow.bound.add(handler.name)
        flow.block(handler.body)
    flow.block(node.orelse)
    flow.block(node.finalbody)


def _match(flow: _Flow, node: ast.Match) -> None:
    flow.read(node.subject)
    for case in node.cases:
        flow.read(*(n for n in ast.walk(case.pattern) if isinstance(n, ast.expr)))  # values and classes
        flow.bound |= set().union(*(_string_bindings(n) for n in ast.walk(case.pattern)))
        flow.read(case.guard)
        flow.block(case.body)


def _function(flow: _Flow, node: ast.FunctionDef) -> None:
    flow.read(*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None))
    flow.bound.add(node.name)
    # The body runs when called, after the script has bound what it binds anywhere.
    flow.missing |= free_names(node) - flow.bound - flow.script_names


def _walrus(flow: _Flow, node: ast.AST) -> None:
    flow.bound |= {n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr)}


_HANDLERS: dict[type, Callable] = {
    ast.Assign: _assign,
    ast.AugAssign: _aug_assign,
    ast.Delete: _delete,
    ast.For: _for,
    ast.While: _while,
    ast.If: _if,
    ast.Try: _try,
    ast.Match: _match,
    ast.FunctionDef: _function,
}


def unbound_reads(tree: ast.AST, known: Iterable[str]) -> set[str]:
    """Names the script reads where neither `known` nor an earlier line of the script has bound them."""
    flow = _Flow(known, bound_names(tree))
    if isinstance(tree, ast.Module):
        flow.block(tree.body)
    else:
        flow.read(tree)
    return flow.missing
