"""Which BPMN elements and Camunda extensions the portal runs; script and business rule tasks."""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import BPMN_NS, CAMUNDA_NS, NSMAP, TIMER_KINDS, local
from workflows.validation.context import Context, camunda, names
from workflows.validation.problems import Report

# The subset of BPMN the portal runs (with SpiffWorkflow), by local tag name in the BPMN model namespace.
FLOW_NODES = names(
    "startEvent endEvent userTask scriptTask businessRuleTask manualTask task exclusiveGateway "
    "parallelGateway inclusiveGateway eventBasedGateway subProcess callActivity boundaryEvent "
    "intermediateCatchEvent intermediateThrowEvent sendTask receiveTask serviceTask"
)
SUPPORTED_ELEMENTS = (
    FLOW_NODES
    | names(
        "definitions process collaboration participant messageFlow message signal error escalation "
        "itemDefinition category categoryValue group sequenceFlow conditionExpression laneSet lane "
        "childLaneSet flowNodeRef textAnnotation text association dataObject dataObjectReference "
        "dataInputAssociation dataOutputAssociation sourceRef targetRef documentation extensionElements "
        "incoming outgoing script timerEventDefinition messageEventDefinition terminateEventDefinition "
        "errorEventDefinition escalationEventDefinition signalEventDefinition ioSpecification dataInput "
        "dataOutput inputSet outputSet dataInputRefs dataOutputRefs property dataState correlationKey "
        "correlationProperty correlationPropertyRef correlationPropertyRetrievalExpression formalExpression "
        "messagePath messageFlowRef"
    )
    | frozenset(TIMER_KINDS)
)
CAMUNDA_ALLOWED = names(
    "properties property formData formField formProperty validation constraint value failedJobRetryTimeCycle in out "
    "inputOutput inputParameter outputParameter"
)


def check_elements(ctx: Context) -> None:
    refused: set[etree._Element] = set()  # one problem for a refused extension, none for its insides
    for node in ctx.root.iter(etree.Element):
        namespace, name = etree.QName(node).namespace, local(node.tag)
        if node.getparent() in refused:
            refused.add(node)
            continue
        if namespace == BPMN_NS:
            _check_bpmn_element(node, name, ctx)
        elif namespace == CAMUNDA_NS and name not in CAMUNDA_ALLOWED:
            ctx.report.add(node, _camunda_element_reason(node, name))
            refused.add(node)
            continue
        _check_camunda_attributes(node, name, ctx.report)


# ---------------------------------------------------------------------------------------------- Camunda


def _camunda_element_reason(node: etree._Element, name: str) -> str:
    if name in ("executionListener", "taskListener"):
        if any(node.get(a) for a in ("class", "delegateExpression", "expression")):
            return _("listener runs Java code, which the portal does not run")
        return _("listeners are not supported; use a script task")
    if name == "connector":
        return _("camunda:connector calls an outside service, which the portal does not do")
    return _("camunda:%(name)s is not supported", name=name)


def _check_camunda_attributes(node: etree._Element, name: str, report: Report) -> None:
    for attribute in ("class", "delegateExpression"):
        if node.get(camunda(attribute)):
            report.add(node, _("runs Java code (camunda:%(attr)s); the portal runs no Java", attr=attribute))
    if node.get(camunda("expression")) and name != "messageEventDefinition":
        report.add(node, _("uses camunda:expression, which the portal does not run"))
    if (node.get(camunda("type")) == "external" or node.get(camunda("topic"))) and name != "serviceTask":
        report.add(node, _("is an external task; only a bpmn:serviceTask can be one"))
    if node.get(camunda("resource")):
        report.add(node, _("loads code from camunda:resource; write it inline"))


# ---------------------------------------------------------------------------------------------- BPMN


def _check_bpmn_element(node: etree._Element, name: str, ctx: Context) -> None:
    if name not in SUPPORTED_ELEMENTS:
        ctx.report.add(node, _unsupported_reason(name))
    elif name == "scriptTask":
        _check_script_task(node, ctx.report)
    elif name == "businessRuleTask":
        _check_business_rule(node, ctx)
    elif name in ("sendTask", "receiveTask") and node.get("implementation") not in (
        None,
        "##WebService",
        "##unspecified",
    ):
        ctx.report.add(
            node, _("has an implementation (%(impl)s) the portal cannot run", impl=node.get("implementation"))
        )
    elif name == "conditionExpression" and (node.get("language") or "python").lower() != "python":
        ctx.report.add(
            node, _("condition language %(lang)s is not supported; use Python or ${…}", lang=node.get("language"))
        )


def _unsupported_reason(name: str) -> str:
    if name in ("standardLoopCharacteristics", "multiInstanceLoopCharacteristics"):
        return _("loop and multi-instance markers are not supported")
    return _("element type %(name)s is not supported", name=name)


def _check_script_task(node: etree._Element, report: Report) -> None:
    script_format = (node.get("scriptFormat") or "").strip()
    if not script_format:
        report.add(node, _("script task has no scriptFormat; it must be python"))
    elif script_format.lower() != "python":
        report.add(node, _("script is in %(lang)s; only python is supported", lang=script_format))
    script = node.find("bpmn:script", NSMAP)
    if (script is None or not (script.text or "").strip()) and not node.get(camunda("resource")):
        report.add(node, _("script task has no script"))


def _check_business_rule(node: etree._Element, ctx: Context) -> None:
    ref = node.get(camunda("decisionRef"))
    if not ref:
        ctx.report.add(node, _("business rule task has no camunda:decisionRef"))
    elif ref not in ctx.decisions:
        ctx.report.add(
            node,
            _(
                "decision %(ref)s is not in the DMN files given (available: %(ids)s)",
                ref=ref,
                ids=", ".join(sorted(ctx.decisions)) or "-",
            ),
        )
    elif not ctx.decisions[ref].valid:
        ctx.report.add(
            node, _("decision %(ref)s: its DMN file %(path)s has problems", ref=ref, path=ctx.decisions[ref].path)
        )
    else:
        _check_result_variable(node, ctx.decisions[ref].outputs, ctx.report)


def _check_result_variable(node: etree._Element, outputs: set[str], report: Report) -> None:
    # SpiffWorkflow ignores camunda:resultVariable and writes each output under its own name, which matches
    # Camunda only when the variable is the one output's name.
    variable = node.get(camunda("resultVariable"))
    if variable and outputs != {variable}:
        report.add(
            node,
            _(
                "camunda:resultVariable %(var)s is ignored: the decision writes its outputs (%(outputs)s) "
                "under their own names",
                var=variable,
                outputs=", ".join(sorted(outputs)),
            ),
        )
