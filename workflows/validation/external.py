"""External service tasks (`camunda:type="external"`): a topic with a handler, inputs, outputs, retry cycle."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import NSMAP, retry_intervals
from workflows.validation.context import Context, bpmn_nodes, camunda

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_TOPIC = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
_REFERENCE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
# What else would make a service task run something the portal does not run; those are reported elsewhere.
_OTHER_IMPLEMENTATIONS = ("class", "delegateExpression", "expression")


def check_service_tasks(ctx: Context) -> None:
    for node in bpmn_nodes(ctx.root, "serviceTask"):
        if node.get(camunda("type")) != "external":
            if not _runs_something_else(node):
                ctx.report.add(
                    node,
                    _(
                        'service task must be an external task: set camunda:type="external" and a camunda:topic '
                        "whose handler the portal has"
                    ),
                )
            continue
        _check_topic(node, ctx)
        _check_parameters(node, ctx)
        _check_retry_cycle(node, ctx)
    for node in ctx.root.iter(camunda("inputOutput")):
        holder = node.getparent()  # extensionElements
        task = holder.getparent() if holder is not None else None
        if task is None or etree.QName(task).localname != "serviceTask":  # a service task's own is checked above
            ctx.report.add(node, _("camunda:inputOutput is only supported on external service tasks"))


def _runs_something_else(node: etree._Element) -> bool:
    if any(node.get(camunda(a)) for a in _OTHER_IMPLEMENTATIONS):
        return True
    return node.find("bpmn:extensionElements/camunda:connector", NSMAP) is not None


def _check_topic(node: etree._Element, ctx: Context) -> None:
    topic = (node.get(camunda("topic")) or "").strip()
    if not topic:
        ctx.report.add(node, _("external service task has no camunda:topic"))
    elif not _TOPIC.fullmatch(topic):
        ctx.report.add(node, _("topic %(topic)r has characters other than letters, digits, . _ : -", topic=topic))
    elif ctx.known_topics is not None and topic not in ctx.known_topics:
        ctx.report.add(
            node,
            _(
                "topic %(topic)s has no handler in this portal (topics with a handler: %(topics)s)",
                topic=topic,
                topics=", ".join(sorted(ctx.known_topics)) or "-",
            ),
        )


def _check_parameters(node: etree._Element, ctx: Context) -> None:
    io = node.find("bpmn:extensionElements/camunda:inputOutput", NSMAP)
    if io is None:
        return
    seen: set[str] = set()
    for param in io.findall("camunda:inputParameter", NSMAP):
        name = param.get("name") or ""
        if not _NAME.fullmatch(name):
            ctx.report.add(param, _("input parameter name %(name)r is not a plain identifier", name=name))
        elif name in seen:
            ctx.report.add(param, _("input parameter %(name)s is declared twice", name=name))
        seen.add(name)
        text = param.text or ""
        if ("${" in text or "#{" in text) and not _REFERENCE.fullmatch(text.strip()):
            ctx.report.add(
                param,
                _(
                    "input parameter %(name)s: write a variable alone, as ${variable}; other text is taken "
                    "literally and expressions are not evaluated",
                    name=name,
                ),
            )
    for param in io.findall("camunda:outputParameter", NSMAP):
        name = param.get("name") or ""
        if not _NAME.fullmatch(name):
            ctx.report.add(param, _("output parameter name %(name)r is not a plain identifier", name=name))
        elif (param.text or "").strip() not in ("", f"${{{name}}}"):
            ctx.report.add(
                param,
                _(
                    "output parameter %(name)s: outputs keep the handler's names; leave its value empty",
                    name=name,
                ),
            )


def _check_retry_cycle(node: etree._Element, ctx: Context) -> None:
    cycle = node.find("bpmn:extensionElements/camunda:failedJobRetryTimeCycle", NSMAP)
    if cycle is None:
        return
    if retry_intervals(cycle.text or "") is None:
        ctx.report.add(
            cycle,
            _(
                "camunda:failedJobRetryTimeCycle %(cycle)r is not like R3/PT5M (1 to 20 attempts) or "
                "PT1M,PT10M (durations in weeks, days, hours, minutes, seconds)",
                cycle=(cycle.text or "").strip(),
            ),
        )
