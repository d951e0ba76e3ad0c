"""The file as a whole: size, XML safety, well-formedness, the XSD schema, one executable process."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Collection
from functools import lru_cache

from flask_babel import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator

from workflows.bpmn_model import BPMN_NS, NSMAP, UnsafeXmlError, local, main_processes, parse_xml
from workflows.validation.context import Context, bpmn_nodes, property_nodes
from workflows.validation.problems import Report
from workflows.validation.steps import check_process_property

MAX_BPMN_BYTES = 2 * 1024 * 1024

_PROCESS_ID = re.compile(r"[A-Za-z0-9_-]+")
_XSD_LOCK = threading.Lock()


def load(xml: bytes, report: Report, namespaces: Collection[str], kind: str) -> etree._Element | None:
    """Size, safety, well-formedness and root element; None when the rest cannot be checked."""
    if len(xml) > MAX_BPMN_BYTES:
        report.add(None, _("file is larger than %(size)s MiB", size=MAX_BPMN_BYTES // (1024 * 1024)))
        return None
    try:
        root = parse_xml(xml)
    except UnsafeXmlError as err:
        report.add(None, _("DOCTYPE and entity declarations are not allowed (DTD/XXE)"), line=err.line)
        return None
    except etree.XMLSyntaxError as err:
        report.add(None, _("not well-formed XML: %(error)s", error=err.msg), line=err.lineno or 1)
        return None
    except ValueError as err:  # e.g. an encoding declaration lxml refuses
        report.add(None, _("not well-formed XML: %(error)s", error=str(err)))
        return None
    if local(root.tag) != "definitions" or etree.QName(root).namespace not in namespaces:
        report.add(root, _("the root element must be %(kind)s definitions", kind=kind))
        return None
    return root


@lru_cache(maxsize=8)
def _xsd(path: str) -> BpmnValidator:
    return BpmnValidator(path) if path else BpmnValidator()


def check_schema(root: etree._Element, report: Report, xsd_path: str = "") -> None:
    document = copy.deepcopy(root)  # preprocess() rewrites bpmn-js correlation expressions in place
    with _XSD_LOCK:  # an XMLSchema object is not safe to share between threads
        validator = _xsd(xsd_path)
        validator.preprocess(document)
        validator.validator.validate(document.getroottree())
        errors = list(validator.validator.error_log)
    prefixes = {k: v for node in root.iter(etree.Element) for k, v in node.nsmap.items() if k}
    for error in errors:
        message = error.message.replace(f"{{{BPMN_NS}}}", "bpmn:")
        report.add(
            _node_at(root, error.path, prefixes),
            _("does not follow the schema: %(error)s", error=message),
            line=error.line,
        )


def _node_at(root: etree._Element, path: str | None, prefixes: dict[str, str]) -> etree._Element | None:
    """The element an XSD error names (lxml gives its XPath with the document's prefixes)."""
    try:
        nodes = root.getroottree().xpath(path, namespaces=prefixes) if path else []
    except etree.XPathError:
        return None
    return nodes[0] if isinstance(nodes, list) and nodes and isinstance(nodes[0], etree._Element) else None


def check_processes(ctx: Context) -> None:
    processes = main_processes(ctx.root)
    if not processes:
        ctx.report.add(ctx.root, _("the file has no executable process"))
    for extra in processes[1:]:
        ctx.report.add(extra, _("more than one executable process; a file holds one procedure"))
    ids = {p.get("id") for p in ctx.root.findall("bpmn:process", NSMAP)}
    for call in bpmn_nodes(ctx.root, "callActivity"):
        if call.get("calledElement") not in ids:
            ctx.report.add(call, _("calls process %(id)s, which is not in this file", id=call.get("calledElement")))
    for process in processes[:1]:
        if not _PROCESS_ID.fullmatch(process.get("id") or ""):
            ctx.report.add(process, _("process id may only hold letters, digits, _ and -"))
        for prop in property_nodes(process):
            check_process_property(prop, ctx.report)
