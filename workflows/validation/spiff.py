"""The last word goes to SpiffWorkflow's own parser, asked only about a file our checks found clean."""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

from workflows.bpmn_model import parse_xml, prepare_xml
from workflows.validation.context import Context
from workflows.validation.problems import Report


def _spiff_line(err: ValidationException, root: etree._Element) -> tuple[etree._Element | None, int | None]:
    """SpiffWorkflow reports the element id; its line numbers are unreliable, so find the element in our tree."""
    node = next((n for n in root.iter(etree.Element) if err.id and n.get("id") == err.id), None)
    line = err.line_number if isinstance(err.line_number, int) and err.line_number > 0 else None
    return node, line


def _report_spiff_error(err: ValidationException, root: etree._Element, report: Report) -> None:
    node, line = _spiff_line(err, root)
    report.add(node, _("SpiffWorkflow cannot read this: %(error)s", error=str(err).strip()), line=line)


def check_spiff(ctx: Context, process_id: str) -> None:
    parser = CamundaParser()
    for decision in ctx.decisions.values():
        if decision.valid:
            parser.add_dmn_xml(decision.root, filename=decision.path)
    try:
        parser.add_bpmn_xml(parse_xml(prepare_xml(ctx.xml)), filename=ctx.report.path)
        parser.get_spec(process_id)
        parser.get_subprocess_specs(process_id)
    except ValidationException as err:
        _report_spiff_error(err, ctx.root, ctx.report)


def check_dmn_spiff(root: etree._Element, report: Report) -> None:
    parser = CamundaParser()
    try:
        parser.add_dmn_xml(root, filename=report.path)
        for decision_id in list(parser.dmn_parsers):
            parser.get_engine(decision_id, root)
    except ValidationException as err:
        _report_spiff_error(err, root, report)
