"""Conditions, scripts, timers and message payloads: they must pass the restricted environment's check and
read only names the process can hold (form fields, script results, decision outputs, functions, builtins)."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import NSMAP, TIMER_KINDS, local, translate_expression, translate_timer
from workflows.scripting import EXPRESSION_FUNCTIONS, SAFE_BUILTINS, Mode, check_code, parse_code
from workflows.validation.context import Context, bpmn_nodes, camunda, span_ok
from workflows.validation.flow import bound_names, free_names, unbound_reads

__all__ = ["check_expressions", "free_names"]


def _assigned_names(source: str) -> set[str]:
    try:
        tree = parse_code(source, "exec")
    except (SyntaxError, ValueError):
        return set()
    return bound_names(tree)


def _expressions(root: etree._Element) -> Iterable[tuple[etree._Element, str, Mode, str]]:
    """(element, what, mode, Python source) for every piece of code in the file, as SpiffWorkflow will see it."""
    for node in bpmn_nodes(root, "conditionExpression"):
        yield node, _("condition"), "eval", translate_expression(node.text or "")
    for node in bpmn_nodes(root, "timerEventDefinition"):
        for child in node:
            if local(child.tag) in TIMER_KINDS:
                yield child, _("timer"), "eval", translate_timer(child.text or "")
    for node in bpmn_nodes(root, "messageEventDefinition"):
        payload = node.get(camunda("expression"))
        if payload:
            yield node, _("message payload"), "eval", translate_expression(payload)
    for node in bpmn_nodes(root, "scriptTask"):
        script = node.find("bpmn:script", NSMAP)
        python = (node.get("scriptFormat") or "").strip().lower() == "python"  # others are refused already
        if python and script is not None and script.text and script.text.strip():
            yield script, _("script"), "exec", script.text


def _collect_known_names(ctx: Context) -> dict[etree._Element, set[str]]:
    """Fill ctx.known_names; return, per script, the names known before it runs (everything but its own)."""
    names = ctx.known_names
    names.update(EXPRESSION_FUNCTIONS, SAFE_BUILTINS)
    names.update(f.get("id") or "" for f in ctx.root.iter(camunda("formField"), camunda("formProperty")))
    scripts = {node: _assigned_names(source) for node, _what, mode, source in _expressions(ctx.root) if mode == "exec"}
    for node in bpmn_nodes(ctx.root, "messageEventDefinition"):
        # SpiffWorkflow stores a caught message's payload there, else in `<event id>_Response`.
        event = node.getparent()
        names.add(node.get(camunda("resultVariable")) or f"{event.get('id') if event is not None else ''}_Response")
    # An external service task's declared outputs (camunda:outputParameter) are set when its handler has run.
    names.update(p.get("name") or "" for p in ctx.root.iter(camunda("outputParameter")))
    for node in bpmn_nodes(ctx.root, "dataObject"):
        names.update(filter(None, (node.get("id"), node.get("name"))))
    for node in bpmn_nodes(ctx.root, "businessRuleTask"):
        decision = ctx.decisions.get(node.get(camunda("decisionRef")) or "")
        if decision is not None:
            names.update(decision.outputs)
    before = {node: names.union(*(n for other, n in scripts.items() if other is not node)) for node in scripts}
    for assigned in scripts.values():
        names.update(assigned)
    return before


def _code_problems(node: etree._Element, what: str, mode: Mode, source: str, known: set[str]) -> list[str]:
    if not source.strip():
        # A missing condition is the gateway check's to report; `${}` and empty scripts or timers are ours.
        return [] if what == _("condition") and not (node.text or "").strip() else [_("%(what)s is empty", what=what)]
    reason = check_code(source, mode)
    if reason is not None and mode == "eval":  # quote a one-line expression; a script is too long
        return [_("%(what)s %(reason)s: %(code)s", what=what, reason=reason, code=source.strip())]
    if reason is not None:
        return [_("%(what)s %(reason)s", what=what, reason=reason)]
    tree = parse_code(source, mode)
    # A script's own assignments help only the lines after them.
    unknown = sorted(unbound_reads(tree, known) if mode == "exec" else free_names(tree) - known)
    return [_("unknown name %(name)r in %(what)s", name=name, what=what) for name in unknown] + _span_problems(tree)


def _span_problems(tree: ast.AST) -> list[str]:
    """before_due("1d") / after_start("4h") with a literal span that would fail at run time."""
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in EXPRESSION_FUNCTIONS and node.args and isinstance(node.args[0], ast.Constant):
            span = node.args[0].value
            if not (isinstance(span, str) and span_ok(span)):
                problems.append(_("%(func)s(%(span)r): the span must be like 1d or 4h", func=node.func.id, span=span))
    return problems


def check_expressions(ctx: Context) -> None:
    before_script = _collect_known_names(ctx)
    for node, what, mode, source in _expressions(ctx.root):
        known = before_script.get(node, ctx.known_names)
        for reason in _code_problems(node, what, mode, source, known):
            ctx.report.add(node, reason)
    for node in bpmn_nodes(ctx.root, "businessRuleTask"):
        decision = ctx.decisions.get(node.get(camunda("decisionRef")) or "")
        for name in sorted(decision.used_names - ctx.known_names if decision else ()):
            ctx.report.add(
                node, _("unknown name %(name)r in decision %(ref)s", name=name, ref=node.get(camunda("decisionRef")))
            )
