"""Names, ids and properties that the database stores in bounded columns must fit them.

A longer one would be refused by PostgreSQL at the upload or, worse, when a dossier reaches the step (an error 500
instead of a finding here). The bounds are those of portal/models (Procedure, Task, DossierEvent, Attachment).
"""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from workflows.bpmn_model import (
    BPMN_NS,
    NSMAP,
    form_nodes,
    lane_roles,
    local,
    main_processes,
    properties,
    start_forms,
    step_role,
)
from workflows.validation.context import Context, bpmn_nodes

ID = 100  # Procedure.key, ProcedureVersion.process_id, Task.bpmn_id, DossierEvent.step, Attachment.field
STEP_NAME = 255  # Task.name, DossierEvent.step_name
PROCESS_NAME = 500  # Procedure.name
ROLE = 60  # Task.role, Group.role
DECISION = 30  # Task.outcome
PROCESS_PROPERTIES = {"code": 40, "name_en": 500, "field": 255, "deadline": 20}
BIGINT_MAX = 2**63 - 1  # Procedure.fee
STEP_TAGS = ("Task", "task", "Event", "Process", "callActivity")  # userTask, task, startEvent, subProcess…


def _too_long(ctx: Context, node: etree._Element, what: str, value: str, limit: int) -> None:
    if len(value) > limit:
        ctx.report.add(
            node,
            _(
                "%(what)s is too long: at most %(max)d characters (it has %(length)d)",
                what=what,
                max=limit,
                length=len(value),
            ),
        )


def check_limits(ctx: Context) -> None:
    for process in main_processes(ctx.root):
        props = dict(properties(process))
        # Without a code property the process id is the catalogue code as well.
        _too_long(ctx, process, "id", process.get("id") or "", ID if props.get("code") else PROCESS_PROPERTIES["code"])
        _too_long(ctx, process, "name", process.get("name") or "", PROCESS_NAME)
        for name, limit in PROCESS_PROPERTIES.items():
            _too_long(ctx, process, name, (props.get(name) or "").strip(), limit)
        fee = (props.get("fee") or "").strip()
        if fee.isdigit() and (len(fee) > len(str(BIGINT_MAX)) or int(fee) > BIGINT_MAX):
            ctx.report.add(process, _("fee is too large: at most %(max)d VND", max=BIGINT_MAX))
    for node in ctx.root.iter(f"{{{BPMN_NS}}}*"):
        if local(node.tag).endswith(STEP_TAGS):  # a task, an event, a sub-process: a step of the dossier's history
            _too_long(ctx, node, "id", node.get("id") or "", ID)
            _too_long(ctx, node, "name", node.get("name") or "", STEP_NAME)
    lanes = lane_roles(ctx.root)
    for task in [*bpmn_nodes(ctx.root, "userTask"), *start_forms(ctx.root)]:
        _too_long(ctx, task, "role", step_role(task, lanes) or "", ROLE)
        for field in form_nodes(task):
            _too_long(ctx, field, "id", field.get("id") or "", ID)
            if field.get("id") == "decision":
                for option in field.findall("camunda:value", NSMAP):
                    _too_long(ctx, option, "id", option.get("id") or "", DECISION)
