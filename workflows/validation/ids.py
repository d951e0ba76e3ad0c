"""Ids of extension elements that clash with the ids of BPMN elements.

SpiffWorkflow indexes every element of a process that has an `id` attribute (its `.//*[@id]`), extension elements
included, and follows sequence flows through that index: an enum option (`camunda:value`) or a form field with
the id of a task replaces the task there, and the file is then refused with a message about an unsupported task
type. Camunda itself keeps the two apart, so files from Camunda Modeler can have such ids; we name both.
"""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import BPMN_NS, local
from workflows.validation.context import Context, bpmn_nodes


def _owner(node: etree._Element) -> etree._Element | None:
    """The BPMN element (task, event…) whose extension holds the node."""
    current = node.getparent()
    while current is not None and etree.QName(current).namespace != BPMN_NS:
        current = current.getparent()
    while current is not None and (local(current.tag) == "extensionElements" or not current.get("id")):
        current = current.getparent()
    return current


def _field_of(option: etree._Element) -> str:
    parent = option.getparent()
    return (parent.get("id") or "") if parent is not None else ""


def check_ids(ctx: Context) -> None:
    for process in bpmn_nodes(ctx.root, "process"):
        elements: dict[str, etree._Element] = {}
        extensions: list[etree._Element] = []
        for node in process.iter(etree.Element):
            if not node.get("id"):
                continue
            if etree.QName(node).namespace == BPMN_NS:
                elements.setdefault(node.get("id") or "", node)
            else:
                extensions.append(node)
        for node in extensions:
            clash = elements.get(node.get("id") or "")
            if clash is None:
                continue
            owner = _owner(node)
            what = f"{local(clash.tag)} {clash.get('id')}"
            if clash.get("name"):
                what += f" ({' '.join((clash.get('name') or '').split())})"
            if local(node.tag) == "value":
                reason = _(
                    "option %(option)s of the enum field %(field)s has the same id as the element %(element)s; "
                    "give one of them another id",
                    option=node.get("id"),
                    field=_field_of(node),
                    element=what,
                )
            elif local(node.tag) in ("formField", "formProperty"):
                reason = _(
                    "form field %(field)s has the same id as the element %(element)s; give one of them another id",
                    field=node.get("id"),
                    element=what,
                )
            else:
                reason = _(
                    "%(tag)s %(id)s has the same id as the element %(element)s; give one of them another id",
                    tag=local(node.tag),
                    id=node.get("id"),
                    element=what,
                )
            ctx.report.add(owner if owner is not None else node, reason, line=node.sourceline)
