"""DMN decision tables: what SpiffWorkflow's DMN engine runs, and what a BPMN file learns from them."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from flask_babel import gettext as _
from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from workflows.bpmn_model import CAMUNDA_NS, UnsafeXmlError, local, parse_xml
from workflows.scripting import check_code, parse_code
from workflows.validation.context import Decision
from workflows.validation.expressions import free_names
from workflows.validation.problems import Problem, Report, run_checks
from workflows.validation.spiff import check_dmn_spiff
from workflows.validation.structure import check_schema, load


def load_decisions(dmn_files: Sequence[tuple[str, bytes]]) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    for path, xml in dmn_files:
        try:
            root = parse_xml(xml)
        except (UnsafeXmlError, etree.XMLSyntaxError, ValueError):
            continue
        valid = not validate_dmn(xml, path)
        for node in root.iter(etree.Element):
            decision_id = node.get("id")
            if local(node.tag) == "decision" and decision_id:
                outputs, used = _decision_names(node)
                decisions[decision_id] = Decision(path, outputs, used, valid, root)
    return decisions


def decision_refs(bpmn_xml: bytes) -> set[str] | None:
    """The decisions the BPMN's business rule tasks name (camunda:decisionRef), or None if it cannot be read."""
    try:
        root = parse_xml(bpmn_xml)
    except (UnsafeXmlError, etree.XMLSyntaxError, ValueError):
        return None
    refs: set[str] = set()
    for node in root.iter(etree.Element):
        if local(node.tag) == "businessRuleTask":
            ref = node.get(f"{{{CAMUNDA_NS}}}decisionRef") or node.get("decisionRef")
            if ref:
                refs.add(ref.strip())
    return refs


def decision_ids(dmn_xml: bytes) -> set[str]:
    """The ids of the decisions a DMN file defines (none if it cannot be read)."""
    try:
        root = parse_xml(dmn_xml)
    except (UnsafeXmlError, etree.XMLSyntaxError, ValueError):
        return set()
    return {n.get("id") or "" for n in root.iter(etree.Element) if local(n.tag) == "decision"} - {""}


def split_tables(bpmn_xml: bytes, dmn_files: Sequence[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(the tables the process uses, the names of those it does not): a table belongs to a procedure only if
    one of its business rule tasks references a decision the table defines. An unreadable BPMN keeps them all,
    for validation to report on."""
    refs = decision_refs(bpmn_xml)
    if refs is None:
        return list(dmn_files), []
    used: list[tuple[str, bytes]] = []
    unused: list[str] = []
    for name, xml in dmn_files:
        if decision_ids(xml) & refs:
            used.append((name, xml))
        else:
            unused.append(name)
    return used, unused


def _dmn_children(node: etree._Element, name: str) -> list[etree._Element]:
    return [n for n in node.iter(etree.Element) if local(n.tag) == name]


def _raw_text(node: etree._Element) -> str:
    text = next((c for c in node if local(c.tag) == "text"), None)
    return (text.text or "") if text is not None else ""


def _text(node: etree._Element) -> str:
    return _raw_text(node).strip()


def _entry_source(entry: str) -> str:
    """A DMN input entry as DMNEngine evaluates it, with `?` standing for the input value."""
    entry = re.sub(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""", "dmninputexpr", entry)
    if "dmninputexpr" in entry or check_code(entry, "eval") is None:
        return entry
    return f"dmninputexpr {entry}"  # the engine's `v {entry}` form: `> 5`, `in ("a", "b")`


def _decision_names(decision: etree._Element) -> tuple[set[str], set[str]]:
    """(outputs it writes to task data, names its expressions read)."""
    outputs = {(o.get("name") or o.get("label") or "").split(".")[0] for o in _dmn_children(decision, "output")}
    used: set[str] = set()
    sources = [_text(n) for n in _dmn_children(decision, "inputExpression") + _dmn_children(decision, "outputEntry")]
    sources += [_entry_source(_text(n)) for n in _dmn_children(decision, "inputEntry") if _text(n) not in ("", "-")]
    for source in sources:
        if source and check_code(source, "eval") is None:
            used |= free_names(parse_code(source, "eval"))
    return outputs, used - {"dmninputexpr"}


def _entry_reason(raw: str) -> str | None:
    entry = raw.strip()
    source = _entry_source(entry)
    if source.startswith("dmninputexpr ") and re.match(r"\w", raw):
        # DMNEngine glues input and entry without a space: `kind` + `in (…)` reads `kindin (…)`.
        return _("starts with a word, which SpiffWorkflow joins to the input; write ? %(entry)s", entry=entry)
    reason = check_code(source, "eval")
    if reason is not None:
        return reason
    tree = parse_code(source, "eval")
    body = tree.body if isinstance(tree, ast.Expression) else None
    if isinstance(body, ast.Tuple):
        return _('is a FEEL list, which never matches; write ? in ("a", "b")')
    if isinstance(body, ast.UnaryOp) and isinstance(body.op, ast.Not):
        return _("is a FEEL not(…), which does not work here; write ? != value")
    return None


def _check_dmn_code(root: etree._Element, report: Report) -> None:
    for node in _dmn_children(root, "inputExpression"):
        reason = check_code(_text(node), "eval") if _text(node) else _("is empty")
        if reason:
            report.add(node, _("input expression %(reason)s", reason=reason))
    for node in _dmn_children(root, "inputEntry"):
        reason = _entry_reason(_raw_text(node)) if _text(node) not in ("", "-") else None
        if reason:
            report.add(node, _("input entry %(code)r %(reason)s", code=_text(node), reason=reason))
    for node in _dmn_children(root, "outputEntry"):
        reason = check_code(_text(node), "eval") if _text(node) else None
        if reason:
            report.add(node, _("output entry %(code)r %(reason)s", code=_text(node), reason=reason))
    for node in _dmn_children(root, "output"):
        name = node.get("name") or node.get("label") or ""
        if not all(part.isidentifier() and not part.startswith("_") for part in name.split(".")):
            report.add(node, _("output name %(name)r is not a Python identifier", name=name))


def _check_decisions(root: etree._Element, report: Report) -> None:
    decisions = _dmn_children(root, "decision")
    if len(decisions) != 1:
        report.add(root, _("a DMN file must hold exactly one decision, not %(count)s", count=len(decisions)))
        return
    tables = _dmn_children(decisions[0], "decisionTable")
    if len(tables) != 1:
        report.add(decisions[0], _("the decision must hold exactly one decision table"))
        return
    if tables[0].get("hitPolicy", "UNIQUE").upper() not in ("UNIQUE", "FIRST", "COLLECT"):
        report.add(
            tables[0],
            _("hit policy %(policy)s is not supported (UNIQUE, FIRST or COLLECT)", policy=tables[0].get("hitPolicy")),
        )
    if tables[0].get("aggregation"):
        report.add(tables[0], _("COLLECT aggregation is not supported"))
    _check_dmn_code(root, report)


def validate_dmn(xml: bytes, path: str) -> list[Problem]:
    """Problems of one DMN file; an empty list means SpiffWorkflow can run its decision."""
    report = Report(path)
    try:
        root = load(xml, report, DMN_SCHEMAS, "DMN")
        if root is not None:
            check_schema(root, report, DMN_SCHEMAS[etree.QName(root).namespace])
            run_checks([lambda: _check_decisions(root, report)], report)
            if not report.problems:
                run_checks([lambda: check_dmn_spiff(root, report)], report)
    except Exception as err:  # validation reports, it never raises
        report.add(None, _("could not be checked: %(error)s", error=repr(err)))
    return report.sorted()
