"""Upload-time validation of a procedure's BPMN (and its DMN tables) against docs/BPMN.md.

Everything we cannot run is refused here, with the file, line, element id and a plain reason, so that nothing
is discovered at run time. No exception escapes: an unexpected error becomes a Problem too.
"""

from __future__ import annotations

import ast
import copy
import keyword
import re
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import gettext as _
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS

from workflows.bpmn_model import (
    BPMN_NS,
    CAMUNDA_NS,
    NSMAP,
    TIMER_KINDS,
    UnsafeXmlError,
    lane_roles,
    local,
    main_processes,
    parse_xml,
    prepare_xml,
    step_role,
    translate_expression,
    translate_timer,
)
from workflows.scripting import EXPRESSION_FUNCTIONS, SAFE_BUILTINS, check_code, parse_code

MAX_BPMN_BYTES = 2 * 1024 * 1024


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The subset of BPMN the portal runs (with SpiffWorkflow), by local tag name in the BPMN model namespace.
FLOW_NODES = _names(
    "startEvent endEvent userTask scriptTask businessRuleTask manualTask task exclusiveGateway "
    "parallelGateway inclusiveGateway eventBasedGateway subProcess callActivity boundaryEvent "
    "intermediateCatchEvent intermediateThrowEvent sendTask receiveTask"
)
SUPPORTED_ELEMENTS = (
    FLOW_NODES
    | _names(
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
# Elements that make the process wait for a person or an outside event: a loop through one of them is fine.
WAITING_ELEMENTS = _names("userTask manualTask receiveTask intermediateCatchEvent boundaryEvent eventBasedGateway")
# Elements SpiffWorkflow lets have several outgoing flows (besides exclusive/inclusive gateways).
SPLITTING_ELEMENTS = frozenset({"parallelGateway", "eventBasedGateway", "startEvent"})
CAMUNDA_ALLOWED = _names(
    "properties property formData formField validation constraint value failedJobRetryTimeCycle in out"
)
STEP_KINDS = ("submit", "reception", "supplement", "apology")
FIELD_TYPES = ("string", "long", "boolean", "date", "enum")
CONSTRAINTS = frozenset({"required", "minlength", "maxlength", "min", "max", "readonly"})
WIDGETS = ("textarea", "file", "email", "phone", "citizen_id")
DECISIONS = ("accept", "supplement", "refuse", "approve", "reject", "forward")
SERVICE_LEVELS = ("full_online", "partial_online", "public_service")
APPLICANT = "applicant"

_SPAN = re.compile(r"(\d+(?:\.\d+)?)([dh])")
_ROLE = re.compile(r"[A-Za-z0-9_.-]+")
_PROCESS_ID = re.compile(r"[A-Za-z0-9_-]+")
_XSD_LOCK = threading.Lock()


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    element_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.element_id}: {self.reason}"


@dataclass
class _Report:
    path: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, node: etree._Element | None, reason: str, line: int | None = None) -> None:
        if node is None:
            self.problems.append(Problem(self.path, line or 1, "-", reason))
            return
        self.problems.append(Problem(self.path, line or node.sourceline or 1, element_id(node), reason))

    def sorted(self) -> list[Problem]:
        unique = list(dict.fromkeys(self.problems))
        return sorted(unique, key=lambda p: p.line)


@dataclass
class _Decision:
    path: str
    outputs: set[str]
    used_names: set[str]
    valid: bool
    root: etree._Element


@dataclass
class _Context:
    root: etree._Element
    xml: bytes
    report: _Report
    decisions: dict[str, _Decision]
    known_roles: Collection[str] | None
    known_names: set[str] = field(default_factory=set)


def element_id(node: etree._Element) -> str:
    """The id of the node or its nearest ancestor with one, else its tag."""
    current: etree._Element | None = node
    while current is not None:
        if current.get("id"):
            return current.get("id")
        current = current.getparent()
    return local(node.tag) or "-"


def _bpmn(root: etree._Element, tag: str) -> Iterable[etree._Element]:
    return root.iter(f"{{{BPMN_NS}}}{tag}")


def _camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def _property_nodes(node: etree._Element) -> list[etree._Element]:
    return node.findall("bpmn:extensionElements/camunda:properties/camunda:property", NSMAP)


def _span_ok(value: str) -> bool:
    match = _SPAN.fullmatch(value.strip())
    return bool(match) and float(match.group(1)) > 0


# ---------------------------------------------------------------------------------------------- loading


def _load(xml: bytes, report: _Report, namespaces: Collection[str], kind: str) -> etree._Element | None:
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


def _check_schema(root: etree._Element, report: _Report, xsd_path: str = "") -> None:
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


# ---------------------------------------------------------------------------------------------- process


def _check_processes(ctx: _Context) -> None:
    processes = main_processes(ctx.root)
    if not processes:
        ctx.report.add(ctx.root, _("the file has no executable process"))
    for extra in processes[1:]:
        ctx.report.add(extra, _("more than one executable process; a file holds one procedure"))
    ids = {p.get("id") for p in ctx.root.findall("bpmn:process", NSMAP)}
    for call in _bpmn(ctx.root, "callActivity"):
        if call.get("calledElement") not in ids:
            ctx.report.add(call, _("calls process %(id)s, which is not in this file", id=call.get("calledElement")))
    for process in processes[:1]:
        if not _PROCESS_ID.fullmatch(process.get("id") or ""):
            ctx.report.add(process, _("process id may only hold letters, digits, _ and -"))
        for prop in _property_nodes(process):
            _check_process_property(prop, ctx.report)


def _process_property_reason(name: str, value: str) -> str | None:
    checks: dict[str, tuple[Callable[[str], bool], str]] = {
        "deadline": (lambda v: v == "same-day" or _span_ok(v), _("deadline must be same-day, Nd or Nh")),
        "deadline_kind": (lambda v: v in ("working", "calendar"), _("deadline_kind must be working or calendar")),
        "fee": (lambda v: v.isdigit(), _("fee must be a whole number of VND")),
        "service_level": (
            lambda v: v in SERVICE_LEVELS,
            _("service_level must be one of %(levels)s", levels=", ".join(SERVICE_LEVELS)),
        ),
        "max_rounds": (lambda v: v.isdigit() and 1 <= int(v) <= 100, _("max_rounds must be from 1 to 100")),
    }
    if name in checks and not checks[name][0](value.strip()):
        return f"{checks[name][1]} ({value!r})"
    return None


def _check_process_property(prop: etree._Element, report: _Report) -> None:
    reason = _process_property_reason(prop.get("name") or "", prop.get("value") or "")
    if reason:
        report.add(prop, reason)


# ---------------------------------------------------------------------------------------------- elements


def _check_elements(ctx: _Context) -> None:
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


def _camunda_element_reason(node: etree._Element, name: str) -> str:
    if name in ("executionListener", "taskListener"):
        if any(node.get(a) for a in ("class", "delegateExpression", "expression")):
            return _("listener runs Java code, which the portal does not run")
        return _("listeners are not supported; use a script task")
    if name == "connector":
        return _("camunda:connector calls an outside service, which the portal does not do")
    return _("camunda:%(name)s is not supported", name=name)


def _check_camunda_attributes(node: etree._Element, name: str, report: _Report) -> None:
    for attribute in ("class", "delegateExpression"):
        if node.get(_camunda(attribute)):
            report.add(node, _("runs Java code (camunda:%(attr)s); the portal runs no Java", attr=attribute))
    if node.get(_camunda("expression")) and name != "messageEventDefinition":
        report.add(node, _("uses camunda:expression, which the portal does not run"))
    if node.get(_camunda("type")) == "external" or node.get(_camunda("topic")):
        report.add(node, _("is an external task; the portal has no external workers"))
    if node.get(_camunda("resource")):
        report.add(node, _("loads code from camunda:resource; write it inline"))


def _check_bpmn_element(node: etree._Element, name: str, ctx: _Context) -> None:
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
    if name == "serviceTask":
        return _("service tasks are not supported: the portal runs no Java or outside services")
    if name in ("standardLoopCharacteristics", "multiInstanceLoopCharacteristics"):
        return _("loop and multi-instance markers are not supported")
    return _("element type %(name)s is not supported", name=name)


def _check_script_task(node: etree._Element, report: _Report) -> None:
    script_format = (node.get("scriptFormat") or "").strip()
    if not script_format:
        report.add(node, _("script task has no scriptFormat; it must be python"))
    elif script_format.lower() != "python":
        report.add(node, _("script is in %(lang)s; only python is supported", lang=script_format))
    script = node.find("bpmn:script", NSMAP)
    if (script is None or not (script.text or "").strip()) and not node.get(_camunda("resource")):
        report.add(node, _("script task has no script"))


def _check_business_rule(node: etree._Element, ctx: _Context) -> None:
    ref = node.get(_camunda("decisionRef"))
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


def _check_result_variable(node: etree._Element, outputs: set[str], report: _Report) -> None:
    # SpiffWorkflow ignores camunda:resultVariable and writes each output under its own name, which matches
    # Camunda only when the variable is the one output's name.
    variable = node.get(_camunda("resultVariable"))
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


# ---------------------------------------------------------------------------------------------- steps


def _check_steps(ctx: _Context) -> None:
    lanes = lane_roles(ctx.root)
    submits: list[etree._Element] = []
    for task in _bpmn(ctx.root, "userTask"):
        kind = _check_step_properties(task, ctx.report)
        role = _check_role(task, lanes, ctx)
        if kind == "submit":
            submits.append(task)
            if role != APPLICANT:
                ctx.report.add(task, _("the submit step must belong to the applicant role, not %(role)s", role=role))
        _check_form(task, kind, ctx.report)
    processes = main_processes(ctx.root)
    if not submits and processes:
        ctx.report.add(processes[0], _("no user task has kind submit (the applicant's application form)"))
    for extra in submits[1:]:
        ctx.report.add(
            extra, _("a second submit step; a procedure has exactly one (the first is %(id)s)", id=submits[0].get("id"))
        )
    for end in _bpmn(ctx.root, "endEvent"):
        _check_step_properties(end, ctx.report, allowed=("status",))


def _check_role(task: etree._Element, lanes: dict[str, str], ctx: _Context) -> str | None:
    role = step_role(task, lanes)
    if not role:
        ctx.report.add(task, _("user task has no role: set camunda:candidateGroups or put it in a lane"))
    elif not _ROLE.fullmatch(role):
        ctx.report.add(task, _("role %(role)s must be one role code (letters, digits, _ . -)", role=role))
    elif ctx.known_roles is not None and role != APPLICANT and role not in ctx.known_roles:
        ctx.report.add(task, _("unknown role %(role)s", role=role))
    return role


def _check_step_properties(
    node: etree._Element, report: _Report, allowed: Sequence[str] = ("status", "allowance", "kind")
) -> str | None:
    kind = None
    for prop in _property_nodes(node):
        name, value = prop.get("name") or "", (prop.get("value") or "").strip()
        if name not in allowed:
            continue
        if name == "status" and not (value.isdigit() and 1 <= int(value) <= 10):
            report.add(prop, _("status must be a whole number from 1 to 10, not %(value)r", value=value))
        elif name == "allowance" and not _span_ok(value):
            report.add(prop, _("allowance %(value)r is not a time like 10d or 4h", value=value))
        elif name == "kind":
            kind = value
            if value not in STEP_KINDS:
                report.add(
                    prop,
                    _("unknown kind %(value)r (expected one of %(kinds)s)", value=value, kinds=", ".join(STEP_KINDS)),
                )
    return kind


def _check_form(task: etree._Element, kind: str | None, report: _Report) -> None:
    fields = task.findall("bpmn:extensionElements/camunda:formData/camunda:formField", NSMAP)
    seen: set[str] = set()
    for node in fields:
        field_id = node.get("id") or ""
        if field_id in seen:
            report.add(node, _("form field %(id)s appears twice", id=field_id))
        seen.add(field_id)
        for reason in _field_reasons(node, field_id):
            report.add(node, reason)
    if kind == "apology" and not {"new_appointment", "reason"} <= seen:
        report.add(task, _("the apology step's form needs the fields new_appointment (date) and reason"))


def _field_reasons(node: etree._Element, field_id: str) -> list[str]:
    reasons = []
    if not field_id.isidentifier() or keyword.iskeyword(field_id) or field_id.startswith("_"):
        reasons.append(_("form field id %(id)r is not a Python identifier", id=field_id))
    if field_id in EXPRESSION_FUNCTIONS:
        reasons.append(_("form field id %(id)s is the name of a function", id=field_id))
    field_type = node.get("type") or ""
    options = [v.get("id") or "" for v in node.findall("camunda:value", NSMAP)]
    if field_type not in FIELD_TYPES:
        reasons.append(_("form field %(id)s has unsupported type %(type)r", id=field_id, type=field_type))
    if field_type == "enum" and not options:
        reasons.append(_("enum field %(id)s has no options", id=field_id))
    if field_id == "decision":
        reasons += _decision_reasons(field_type, options)
    return reasons + _extras_reasons(node, field_id)


def _decision_reasons(field_type: str, options: list[str]) -> list[str]:
    if field_type != "enum":
        return [_("the decision field must be an enum")]
    return [
        _("decision option %(value)r is not one of %(values)s", value=o, values=", ".join(DECISIONS))
        for o in options
        if o not in DECISIONS
    ]


def _extras_reasons(node: etree._Element, field_id: str) -> list[str]:
    reasons = []
    for constraint in node.findall("camunda:validation/camunda:constraint", NSMAP):
        name, config = constraint.get("name") or "", (constraint.get("config") or "").strip()
        if name not in CONSTRAINTS:
            reasons.append(_("form field %(id)s has unknown constraint %(name)r", id=field_id, name=name))
        elif name in ("minlength", "maxlength", "min", "max") and not re.fullmatch(r"-?\d+", config):
            # The form builder reads them as integers.
            reasons.append(_("%(name)s of form field %(id)s must be a whole number", name=name, id=field_id))
    for prop in node.findall("camunda:properties/camunda:property", NSMAP):
        if prop.get("id") == "widget" and prop.get("value") not in WIDGETS:
            reasons.append(
                _(
                    "form field %(id)s has unknown widget %(value)r (expected one of %(widgets)s)",
                    id=field_id,
                    value=prop.get("value"),
                    widgets=", ".join(WIDGETS),
                )
            )
    return reasons


# ---------------------------------------------------------------------------------------------- expressions


def _free_names(tree: ast.AST) -> set[str]:
    """Names read by the code and not bound inside it (lambda and comprehension variables, functions)."""
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound


def _assigned_names(source: str) -> set[str]:
    try:
        tree = parse_code(source, "exec")
    except (SyntaxError, ValueError):
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    return names | {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def _expressions(root: etree._Element) -> Iterable[tuple[etree._Element, str, str, str]]:
    """(element, what, mode, Python source) for every piece of code in the file, as SpiffWorkflow will see it."""
    for node in _bpmn(root, "conditionExpression"):
        yield node, _("condition"), "eval", translate_expression(node.text or "")
    for node in _bpmn(root, "timerEventDefinition"):
        for child in node:
            if local(child.tag) in TIMER_KINDS:
                yield child, _("timer"), "eval", translate_timer(child.text or "")
    for node in _bpmn(root, "messageEventDefinition"):
        if node.get(_camunda("expression")):
            yield node, _("message payload"), "eval", translate_expression(node.get(_camunda("expression")))
    for node in _bpmn(root, "scriptTask"):
        script = node.find("bpmn:script", NSMAP)
        python = (node.get("scriptFormat") or "").strip().lower() == "python"  # others are refused already
        if python and script is not None and (script.text or "").strip():
            yield script, _("script"), "exec", script.text


def _collect_known_names(ctx: _Context) -> None:
    names = ctx.known_names
    names.update(EXPRESSION_FUNCTIONS, SAFE_BUILTINS)
    names.update(f.get("id") or "" for f in ctx.root.iter(_camunda("formField")))
    for _node, _what, mode, source in _expressions(ctx.root):
        if mode == "exec":
            names.update(_assigned_names(source))
    for node in _bpmn(ctx.root, "messageEventDefinition"):
        # SpiffWorkflow stores a caught message's payload there, else in `<event id>_Response`.
        names.add(node.get(_camunda("resultVariable")) or f"{node.getparent().get('id')}_Response")
    for node in _bpmn(ctx.root, "dataObject"):
        names.update(filter(None, (node.get("id"), node.get("name"))))
    for node in _bpmn(ctx.root, "businessRuleTask"):
        decision = ctx.decisions.get(node.get(_camunda("decisionRef")) or "")
        if decision is not None:
            names.update(decision.outputs)


def _code_problems(node: etree._Element, what: str, mode: str, source: str, known: set[str]) -> list[str]:
    if not source.strip():
        # A missing condition is the gateway check's to report; `${}` and empty scripts or timers are ours.
        return [] if what == _("condition") and not (node.text or "").strip() else [_("%(what)s is empty", what=what)]
    reason = check_code(source, mode)
    if reason is not None and mode == "eval":  # quote a one-line expression; a script is too long
        return [_("%(what)s %(reason)s: %(code)s", what=what, reason=reason, code=source.strip())]
    if reason is not None:
        return [_("%(what)s %(reason)s", what=what, reason=reason)]
    tree = parse_code(source, mode)
    unknown = sorted(_free_names(tree) - known)
    return [_("unknown name %(name)r in %(what)s", name=name, what=what) for name in unknown] + _span_problems(tree)


def _span_problems(tree: ast.AST) -> list[str]:
    """before_due("1d") / after_start("4h") with a literal span that would fail at run time."""
    problems = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id in EXPRESSION_FUNCTIONS and node.args and isinstance(node.args[0], ast.Constant):
            span = node.args[0].value
            if not (isinstance(span, str) and _span_ok(span)):
                problems.append(_("%(func)s(%(span)r): the span must be like 1d or 4h", func=node.func.id, span=span))
    return problems


def _check_expressions(ctx: _Context) -> None:
    _collect_known_names(ctx)
    for node, what, mode, source in _expressions(ctx.root):
        for reason in _code_problems(node, what, mode, source, ctx.known_names):
            ctx.report.add(node, reason)
    for node in _bpmn(ctx.root, "businessRuleTask"):
        decision = ctx.decisions.get(node.get(_camunda("decisionRef")) or "")
        for name in sorted(decision.used_names - ctx.known_names if decision else ()):
            ctx.report.add(
                node, _("unknown name %(name)r in decision %(ref)s", name=name, ref=node.get(_camunda("decisionRef")))
            )


# ---------------------------------------------------------------------------------------------- flows


def _check_references(ctx: _Context) -> None:
    """Dangling references, which SpiffWorkflow reports with misleading messages."""
    ids = {n.get("id") for n in ctx.root.iter(etree.Element) if n.get("id")}
    messages = {m.get("id") for m in _bpmn(ctx.root, "message")}
    for flow in _flows(ctx.root):
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                ctx.report.add(flow, _("%(end)s %(ref)s names no element", end=end, ref=flow.get(end)))
    for event in _bpmn(ctx.root, "boundaryEvent"):
        if event.get("attachedToRef") not in ids:
            ctx.report.add(event, _("attachedToRef %(ref)s names no element", ref=event.get("attachedToRef")))
    for definition in _bpmn(ctx.root, "messageEventDefinition"):
        if definition.get("messageRef") and definition.get("messageRef") not in messages:
            ctx.report.add(definition, _("messageRef %(ref)s names no bpmn:message", ref=definition.get("messageRef")))
    for definition in _bpmn(ctx.root, "timerEventDefinition"):
        if not any(local(child.tag) in TIMER_KINDS for child in definition):
            ctx.report.add(definition, _("timer has no timeDate, timeDuration or timeCycle"))
    for process in main_processes(ctx.root):
        if process.find("bpmn:startEvent", NSMAP) is None:
            ctx.report.add(process, _("the process has no start event"))


def _flows(root: etree._Element) -> list[etree._Element]:
    return list(_bpmn(root, "sequenceFlow"))


def _has_condition(flow: etree._Element) -> bool:
    condition = flow.find("bpmn:conditionExpression", NSMAP)
    return condition is not None and bool((condition.text or "").strip())


def _check_gateways(ctx: _Context) -> None:
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in _flows(ctx.root):
        outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
    nodes = {n.get("id"): n for n in ctx.root.iter(etree.Element) if n.get("id")}
    for source_id, flows in outgoing.items():
        source = nodes.get(source_id)
        kind = local(source.tag) if source is not None else ""
        if kind in ("exclusiveGateway", "inclusiveGateway"):
            _check_gateway(source, flows, ctx.report)
            continue
        if len(flows) > 1 and kind not in SPLITTING_ELEMENTS:
            ctx.report.add(source, _("has %(count)s outgoing flows; split them with a gateway", count=len(flows)))
        for flow in flows:
            if _has_condition(flow):
                ctx.report.add(
                    flow,
                    _(
                        "condition is never tested: only flows leaving an exclusive or "
                        "inclusive gateway have conditions"
                    ),
                )


def _check_gateway(gateway: etree._Element, flows: list[etree._Element], report: _Report) -> None:
    default = gateway.get("default")
    if default and default not in {f.get("id") for f in flows}:
        report.add(gateway, _("default flow %(id)s does not leave this gateway", id=default))
    if len(flows) < 2:
        return
    for flow in flows:
        if flow.get("id") != default and not _has_condition(flow):
            report.add(
                flow, _("flow leaves gateway %(gw)s without a condition and is not its default", gw=gateway.get("id"))
            )


def _contains_waiting(node: etree._Element) -> bool:
    return any(local(d.tag) in WAITING_ELEMENTS for d in node.iter(etree.Element))


def _waits(node: etree._Element, processes: dict[str, etree._Element]) -> bool:
    """Does entering this element wait for a person or an outside event?"""
    name = local(node.tag)
    if name == "subProcess":
        return _contains_waiting(node)
    if name == "callActivity":
        called = processes.get(node.get("calledElement") or "")
        return called is not None and _contains_waiting(called)
    return name in WAITING_ELEMENTS


def _automatic_graph(root: etree._Element) -> dict[str, list[str]]:
    processes = {p.get("id") or "": p for p in root.findall("bpmn:process", NSMAP)}
    # Document order, so the loop reported is the same on every run.
    graph: dict[str, list[str]] = {
        n.get("id"): []
        for n in root.iter(etree.Element)
        if local(n.tag) in FLOW_NODES and n.get("id") and not _waits(n, processes)
    }
    for flow in _flows(root):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in graph and target in graph:
            graph[source].append(target)
    return graph


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle of the graph as a path, found by iterative depth-first search."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in graph:
        if state.get(start):
            continue
        path, stack = [start], [iter(graph[start])]
        state[start] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                return [*path[path.index(target) :], target]
            elif not state.get(target):
                state[target] = 1
                path.append(target)
                stack.append(iter(graph[target]))
    return None


def _check_loops(ctx: _Context) -> None:
    graph = _automatic_graph(ctx.root)
    nodes = {n.get("id"): n for n in ctx.root.iter(etree.Element) if n.get("id")}
    for _attempt in range(len(graph)):
        cycle = _find_cycle(graph)
        if cycle is None:
            return
        ctx.report.add(
            nodes[cycle[0]], _("a loop of automatic steps would never stop: %(path)s", path=" → ".join(cycle))
        )
        graph[cycle[-2]].remove(cycle[-1])  # break it and look for another


# ---------------------------------------------------------------------------------------------- SpiffWorkflow


def _spiff_line(err: ValidationException, root: etree._Element) -> tuple[etree._Element | None, int | None]:
    """SpiffWorkflow reports the element id; its line numbers are unreliable, so find the element in our tree."""
    node = next((n for n in root.iter(etree.Element) if err.id and n.get("id") == err.id), None)
    line = err.line_number if isinstance(err.line_number, int) and err.line_number > 0 else None
    return node, line


def _check_spiff(ctx: _Context, process_id: str) -> None:
    parser = CamundaParser()
    for decision in ctx.decisions.values():
        if decision.valid:
            parser.add_dmn_xml(decision.root, filename=decision.path)
    try:
        parser.add_bpmn_xml(parse_xml(prepare_xml(ctx.xml)), filename=ctx.report.path)
        parser.get_spec(process_id)
        parser.get_subprocess_specs(process_id)
    except ValidationException as err:
        node, line = _spiff_line(err, ctx.root)
        ctx.report.add(node, _("SpiffWorkflow cannot read this: %(error)s", error=str(err).strip()), line=line)


# ---------------------------------------------------------------------------------------------- DMN


def _load_decisions(dmn_files: Sequence[tuple[str, bytes]]) -> dict[str, _Decision]:
    decisions = {}
    for path, xml in dmn_files:
        try:
            root = parse_xml(xml)
        except (UnsafeXmlError, etree.XMLSyntaxError, ValueError):
            continue
        valid = not validate_dmn(xml, path)
        for node in root.iter(etree.Element):
            if local(node.tag) == "decision" and node.get("id"):
                outputs, used = _decision_names(node)
                decisions[node.get("id")] = _Decision(path, outputs, used, valid, root)
    return decisions


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
            used |= _free_names(parse_code(source, "eval"))
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


def _check_dmn_code(root: etree._Element, report: _Report) -> None:
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


def _check_decisions(root: etree._Element, report: _Report) -> None:
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


def _check_dmn_spiff(root: etree._Element, report: _Report) -> None:
    parser = CamundaParser()
    try:
        parser.add_dmn_xml(root, filename=report.path)
        for decision_id in list(parser.dmn_parsers):
            parser.get_engine(decision_id, root)
    except ValidationException as err:
        node, line = _spiff_line(err, root)
        report.add(node, _("SpiffWorkflow cannot read this: %(error)s", error=str(err).strip()), line=line)


def validate_dmn(xml: bytes, path: str) -> list[Problem]:
    """Problems of one DMN file; an empty list means SpiffWorkflow can run its decision."""
    report = _Report(path)
    try:
        root = _load(xml, report, DMN_SCHEMAS, "DMN")
        if root is not None:
            _check_schema(root, report, DMN_SCHEMAS[etree.QName(root).namespace])
            _run([lambda: _check_decisions(root, report)], report)
            if not report.problems:
                _run([lambda: _check_dmn_spiff(root, report)], report)
    except Exception as err:  # validation reports, it never raises
        report.add(None, _("could not be checked: %(error)s", error=repr(err)))
    return report.sorted()


# ---------------------------------------------------------------------------------------------- entry point


def _run(checks: Sequence[Callable[[], None]], report: _Report) -> None:
    """Run each check; a crash in one becomes a problem and the others still run."""
    for check in checks:
        try:
            check()
        except Exception as err:  # validation reports, it never raises
            report.add(None, _("could not be checked: %(error)s", error=repr(err)))


def validate_bpmn(
    xml: bytes, path: str, dmn_files: Sequence[tuple[str, bytes]] = (), known_roles: Collection[str] | None = None
) -> list[Problem]:
    """Every problem that keeps the file from being published; an empty list means it can run."""
    report = _Report(path)
    try:
        root = _load(xml, report, (BPMN_NS,), "BPMN")
        if root is None:
            return report.sorted()
        ctx = _Context(root, xml, report, _load_decisions(dmn_files), known_roles)
        _run(
            [
                lambda: _check_schema(root, report),
                lambda: _check_processes(ctx),
                lambda: _check_elements(ctx),
                lambda: _check_steps(ctx),
                lambda: _check_expressions(ctx),
                lambda: _check_gateways(ctx),
                lambda: _check_references(ctx),
                lambda: _check_loops(ctx),
            ],
            report,
        )
        processes = main_processes(root)
        # SpiffWorkflow stops at its first error and repeats ours: ask it only about an otherwise clean file.
        if not report.problems and len(processes) == 1:
            _run([lambda: _check_spiff(ctx, processes[0].get("id"))], report)
    except Exception as err:  # validation reports, it never raises
        report.add(None, _("could not be checked: %(error)s", error=repr(err)))
    return report.sorted()
