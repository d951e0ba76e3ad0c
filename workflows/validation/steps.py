"""Our conventions on top of BPMN: process and step properties, roles, forms."""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Sequence

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import (
    CAMUNDA_NS,
    NSMAP,
    form_nodes,
    initiator_names,
    is_initiator,
    lane_roles,
    local,
    main_processes,
    people,
    start_forms,
    step_role,
)
from workflows.scripting import EXPRESSION_FUNCTIONS
from workflows.validation.context import Context, bpmn_nodes, property_nodes, span_ok
from workflows.validation.problems import Report

STEP_KINDS = ("submit", "reception", "supplement", "apology")
FIELD_TYPES = ("string", "long", "boolean", "date", "enum")
CONSTRAINTS = frozenset({"required", "minlength", "maxlength", "min", "max", "readonly"})
WIDGETS = ("textarea", "file", "email", "phone", "citizen_id", "money")
DECISIONS = ("accept", "supplement", "refuse", "approve", "reject", "forward")
SERVICE_LEVELS = ("full_online", "partial_online", "public_service")
APPLICANT = "applicant"
ISSUES_RESULT = "issues_result"  # the step property naming the decision that issues the result document

_ROLE = re.compile(r"[A-Za-z0-9_.-]+")
_EXPRESSION = re.compile(r"[$#]\{")
# Form property attributes (Activiti's forms) that compute or rename the value: the portal does neither.
UNSUPPORTED_PROPERTY_ATTRIBUTES = ("expression", "variable")


# ---------------------------------------------------------------------------------------------- process


def _process_property_reason(name: str, value: str) -> str | None:
    checks: dict[str, tuple[Callable[[str], bool], str]] = {
        "deadline": (lambda v: v == "same-day" or span_ok(v), _("deadline must be same-day, Nd or Nh")),
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


def check_process_property(prop: etree._Element, report: Report) -> None:
    reason = _process_property_reason(prop.get("name") or "", prop.get("value") or "")
    if reason:
        report.add(prop, reason)


# ---------------------------------------------------------------------------------------------- steps


def check_steps(ctx: Context) -> None:
    lanes = lane_roles(ctx.root)
    initiators = initiator_names(ctx.root)
    submits: list[etree._Element] = start_forms(ctx.root)  # Camunda's start form is the application form
    for event in submits:
        _check_step_properties(event, ctx.report, allowed=("status",))
        _check_issues_result(event, ctx.report, user_task=False)
        _check_form(event, "submit", ctx.report)
    for task in bpmn_nodes(ctx.root, "userTask"):
        kind = _check_step_properties(task, ctx.report)
        _check_issues_result(task, ctx.report)
        role = _check_role(task, lanes, initiators, ctx)
        if kind == "submit":
            submits.append(task)
            if role != APPLICANT:
                ctx.report.add(task, _("the submit step must belong to the applicant role, not %(role)s", role=role))
        _check_form(task, kind, ctx.report)
    processes = main_processes(ctx.root)
    if not submits and processes:
        ctx.report.add(
            processes[0],
            _("no application form: no user task has kind submit and the start event has no form (camunda:formData)"),
        )
    for extra in submits[1:]:
        if local(submits[0].tag) == "startEvent":
            reason = _(
                "a second application form (a start form or a submit step); a procedure has exactly one "
                "(the first is %(id)s)",
                id=submits[0].get("id"),
            )
        else:
            reason = _(
                "a second submit step; a procedure has exactly one (the first is %(id)s)", id=submits[0].get("id")
            )
        ctx.report.add(extra, reason)
    for end in bpmn_nodes(ctx.root, "endEvent"):
        _check_step_properties(end, ctx.report, allowed=("status",))
        _check_issues_result(end, ctx.report, user_task=False)


def _check_role(task: etree._Element, lanes: dict[str, str], initiators: frozenset[str], ctx: Context) -> str | None:
    role = step_role(task, lanes, initiators)
    named = _check_people(task, initiators, ctx)
    if not role:
        if not named:  # else a step of the officers it names
            ctx.report.add(
                task,
                _(
                    "user task has no role: set camunda:candidateGroups, camunda:assignee or "
                    "camunda:candidateUsers, or put it in a lane"
                ),
            )
    elif not _ROLE.fullmatch(role):
        ctx.report.add(task, _("role %(role)s must be one role code (letters, digits, _ . -)", role=role))
    elif ctx.known_roles is not None and role != APPLICANT and role not in ctx.known_roles:
        ctx.report.add(task, _("unknown role %(role)s", role=role))
    return role


def _check_people(task: etree._Element, initiators: frozenset[str], ctx: Context) -> bool:
    """camunda:assignee and camunda:candidateUsers: officers known to the portal (by email), or `${initiator}`
    alone for the applicant. Returns whether the task names anyone."""
    assignee, candidates = people(task)
    named = [("assignee", assignee)] if assignee else []
    named += [("candidateUsers", c) for c in candidates]
    applicant = [name for _attr, name in named if is_initiator(name, initiators)]
    for attr, name in named:
        if is_initiator(name, initiators):
            continue
        if _EXPRESSION.search(name):
            ctx.report.add(
                task,
                _(
                    "camunda:%(attr)s %(name)s: write an officer's email, or ${initiator} for the applicant; "
                    "other expressions are not supported",
                    attr=attr,
                    name=name,
                ),
            )
        elif applicant:
            ctx.report.add(
                task, _("a step of the applicant (${initiator}) cannot also name officers (%(name)s)", name=name)
            )
        elif ctx.known_people is not None and name.lower() not in ctx.known_people:
            ctx.report.add(
                task,
                _(
                    "camunda:%(attr)s names %(name)s, who is not an active officer of the portal (give the email "
                    "of an officer's account)",
                    attr=attr,
                    name=name,
                ),
            )
    if applicant and (task.get(f"{{{CAMUNDA_NS}}}candidateGroups") or "").strip():
        ctx.report.add(task, _("a step of the applicant (${initiator}) cannot also have camunda:candidateGroups"))
    return bool(named)


def _check_step_properties(
    node: etree._Element, report: Report, allowed: Sequence[str] = ("status", "allowance", "kind")
) -> str | None:
    kind = None
    for prop in property_nodes(node):
        name, value = prop.get("name") or "", (prop.get("value") or "").strip()
        if name not in allowed:
            continue
        if name == "status" and not (value.isdigit() and 1 <= int(value) <= 10):
            report.add(prop, _("status must be a whole number from 1 to 10, not %(value)r", value=value))
        elif name == "allowance" and not span_ok(value):
            report.add(prop, _("allowance %(value)r is not a time like 10d or 4h", value=value))
        elif name == "kind":
            kind = value
            if value not in STEP_KINDS:
                report.add(
                    prop,
                    _("unknown kind %(value)r (expected one of %(kinds)s)", value=value, kinds=", ".join(STEP_KINDS)),
                )
    return kind


def _check_issues_result(node: etree._Element, report: Report, user_task: bool = True) -> None:
    """`issues_result`: the decision value with which completing this user task issues the procedure's result
    document. It must be one of the options of the step's `decision` field. Several steps may declare it (a
    procedure signed by the chairman or, on another path, the vice-chairman): the dossier's result is then the
    last of them completed with its value. One step declares it once: two values would make the result depend
    on which line the reader keeps."""
    declared = [p for p in property_nodes(node) if p.get("name") == ISSUES_RESULT]
    if not declared:
        return
    for extra in declared[1:]:
        report.add(extra, _("issues_result is declared more than once on this step; declare it once"))
    prop = declared[0]
    value = (prop.get("value") or "").strip()
    if not user_task:
        report.add(prop, _("issues_result belongs on a user task whose form has a decision field"))
        return
    decision = next((f for f in form_nodes(node) if f.get("id") == "decision"), None)
    if decision is None:
        report.add(
            prop,
            _(
                "issues_result %(value)r needs a decision field on the step (an enum form field named decision)",
                value=value,
            ),
        )
        return
    options = [v.get("id") or "" for v in decision.findall("camunda:value", NSMAP)]
    if value not in options:
        report.add(
            prop,
            _(
                "issues_result %(value)r is not one of the options of the step's decision field (%(values)s)",
                value=value,
                values=", ".join(options) or "-",
            ),
        )


# ---------------------------------------------------------------------------------------------- forms


def _check_form(task: etree._Element, kind: str | None, report: Report) -> None:
    seen: set[str] = set()
    for node in form_nodes(task):
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
    form_property = local(node.tag) == "formProperty"  # Activiti's forms: the type defaults to string
    field_type = node.get("type") or ("string" if form_property else "")
    options = [v.get("id") or "" for v in node.findall("camunda:value", NSMAP)]
    if form_property:
        reasons += [
            _("form property %(id)s uses %(attr)s, which the portal does not support", id=field_id, attr=attr)
            for attr in UNSUPPORTED_PROPERTY_ATTRIBUTES
            if node.get(attr)
        ]
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
