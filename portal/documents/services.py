"""The one-stop-shop documents, read from the dossier's real data: its Task rows and timeline.

- receipt (Giấy tiếp nhận hồ sơ và hẹn trả kết quả): once the desk has received the dossier;
- supplement request (Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ): the last step that asked for more documents;
- refusal slip (Phiếu từ chối tiếp nhận giải quyết hồ sơ): the step that refused;
- process-control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ): one row per handover, for officers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select, union
from sqlalchemy.orm import joinedload

from portal.core.presentation import status_label
from portal.dossiers.named import is_named_task, named_officers, step_of, task_unit
from portal.extensions import db
from portal.models import Dossier, DossierEvent, ProcedureVersion, Task, TaskState, User

from . import results

APPLICANT_ROLE = "applicant"
TITLES = {
    "receipt": _l("Receipt and appointment slip"),
    "supplement_request": _l("Request to supplement the dossier"),
    "refusal": _l("Refusal slip"),
    "process_control": _l("Process-control slip"),
    "result": _l("Result of the procedure"),
    "apology": _l("Apology and new appointment slip"),
}
CITIZEN_DOCUMENTS = ("receipt", "supplement_request", "refusal", "result", "apology")


def decision_task(dossier: Dossier, outcome: str) -> Task | None:
    """The dossier's last completed step with this decision."""
    return db.session.scalar(
        select(Task)
        .where(Task.dossier_id == dossier.id, Task.state == TaskState.COMPLETED, Task.outcome == outcome)
        .options(joinedload(Task.group), joinedload(Task.completed_by))
        .order_by(Task.completed_at.desc(), Task.id.desc())
        .limit(1)
    )


def reception_task(dossier: Dossier) -> Task | None:
    """The desk's reception step that accepted the dossier (the officer who signs the receipt)."""
    return db.session.scalar(
        select(Task)
        .where(Task.dossier_id == dossier.id, Task.kind == "reception", Task.state == TaskState.COMPLETED)
        .options(joinedload(Task.completed_by), joinedload(Task.group))
        .order_by(Task.completed_at.desc(), Task.id.desc())
        .limit(1)
    )


def is_available(dossier: Dossier, name: str) -> bool:
    if name == "receipt":
        return dossier.received_at is not None
    if name == "supplement_request":
        return decision_task(dossier, "supplement") is not None
    if name == "refusal":
        return decision_task(dossier, "refuse") is not None
    if name == "result":
        return results.has_result(dossier)
    if name == "apology":
        return apology_event(dossier) is not None
    return name == "process_control"


def apology_event(dossier: Dossier) -> DossierEvent | None:
    """The dossier's last apology (an officer moved the appointment, with the reason)."""
    return last_event(dossier, "apology")


def last_event(dossier: Dossier, kind: str) -> DossierEvent | None:
    return db.session.scalar(
        select(DossierEvent)
        .where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind == kind)
        .order_by(DossierEvent.id.desc())
        .limit(1)
    )


def available_documents(dossier: Dossier, officer: bool) -> list[tuple[str, str]]:
    """(endpoint, title) of the documents this dossier has, for links on its pages: the same rules as
    `is_available`, with the decisions read in one query."""
    decisions = select(Task.outcome.label("name")).where(
        Task.dossier_id == dossier.id,
        Task.state == TaskState.COMPLETED,
        Task.outcome.in_(DECISION_DOCUMENTS.values()),
    )
    # The result: a step the model says issues it took its decision (the version's declarations come from its
    # cached spec, no query) and the version has a result template (not loaded here).
    result = select(literal(RESULT).label("name")).where(
        Task.dossier_id == dossier.id,
        Task.state == TaskState.COMPLETED,
        results.decided_result(results.result_steps_of(dossier.version)),
        select(ProcedureVersion.id)
        .where(ProcedureVersion.id == dossier.procedure_version_id, ProcedureVersion.result_template.is_not(None))
        .exists(),
    )
    apology = select(literal(APOLOGY).label("name")).where(
        DossierEvent.dossier_id == dossier.id, DossierEvent.kind == "apology"
    )
    decided: set[str | None] = set(db.session.scalars(union(decisions, result, apology)))
    names = TITLES if officer else CITIZEN_DOCUMENTS
    return [(f"documents.{name}", str(TITLES[name])) for name in names if _has(dossier, name, decided)]


DECISION_DOCUMENTS = {"supplement_request": "supplement", "refusal": "refuse"}


RESULT = "result"
APOLOGY = "apology"


def _has(dossier: Dossier, name: str, decided: set[str | None]) -> bool:
    if name in DECISION_DOCUMENTS:
        return DECISION_DOCUMENTS[name] in decided
    if name in (RESULT, APOLOGY):
        return name in decided
    return is_available(dossier, name)


def may_see(user: User, dossier: Dossier, name: str) -> bool:
    """The applicant gets the slips addressed to them; the process-control slip is the agency's own record."""
    if name in CITIZEN_DOCUMENTS:
        return True
    return user.is_officer and (user.is_admin or dossier.applicant_id != user.id)


def document_context(dossier: Dossier, name: str) -> dict[str, object]:
    """What the document's template shows besides the dossier (the same for the HTML page and the signed PDF)."""
    context: dict[str, object] = {
        "dossier": dossier,
        "procedure": dossier.version.procedure,
        "agency": dossier.agency,
        "title": TITLES[name],
    }
    if name == "receipt":
        context["reception"] = reception_task(dossier)
        context["attachments"] = sorted(dossier.attachments, key=lambda a: a.id)
    elif name == "result":
        context["body"] = results.render_body(dossier.version.result_template or "", results.dossier_context(dossier))
        context["online"] = results.delivered_online(dossier)
        context["approval"] = results.result_task(dossier)
    elif name == "apology":
        entry = apology_event(dossier)
        if entry is None:
            raise LookupError(f"dossier {dossier.id} has no apology")
        data = entry.data or {}
        context["entry"] = entry
        context["old_appointment"] = _moment(data.get("old_appointment"))
        context["new_appointment"] = _moment(data.get("new_appointment"))
        context["items"] = reason_lines(entry.note)
    elif name in DECISION_DOCUMENTS:
        task = decision_task(dossier, DECISION_DOCUMENTS[name])
        if task is None:
            raise LookupError(f"dossier {dossier.id} has no {name}")
        context["task"] = task
        context["items"] = reason_lines(task.reason)
    else:
        context["rows"] = control_rows(dossier)
    return context


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def reason_lines(text: str | None) -> list[str]:
    """A consolidated request is written one item a line; each becomes a numbered item on the slip."""
    return [line.strip(" -•\t") for line in (text or "").splitlines() if line.strip(" -•\t")]


@dataclass
class ControlRow:
    from_unit: str
    from_person: str
    to_unit: str
    to_person: str
    at: datetime | None
    due_at: datetime | None
    result: str | None  # early | on_time | late
    note: str


def _unit(task: Task, dossier: Dossier) -> str:
    """The applicant for their steps; the group; for a step of named officers, the unit of the officer."""
    return task_unit(task, lambda unit: unit.name, _("Applicant"))


def _person(task: Task, dossier: Dossier) -> str:
    if task.role == APPLICANT_ROLE:
        return dossier.applicant.full_name
    who = task.completed_by or task.assignee
    if who is None and is_named_task(task):  # nobody took it yet: the officers it names
        return ", ".join(u.full_name for u in named_officers(step_of(task)))
    return who.full_name if who else ""


def control_rows(dossier: Dossier) -> list[ControlRow]:
    """One row per handover: a finished step hands the dossier to the steps it opened (same moment)."""
    tasks = list(
        db.session.scalars(
            select(Task)
            .where(Task.dossier_id == dossier.id, Task.state != TaskState.CANCELLED)
            .options(joinedload(Task.group), joinedload(Task.completed_by), joinedload(Task.assignee))
            .order_by(Task.created_at, Task.id)
        )
    )
    rows = []
    for task in tasks:
        if task.state != TaskState.COMPLETED:
            continue
        # The engine opens the next steps in the same run that closes this one, with the same clock reading.
        receivers = [t for t in tasks if t.created_at == task.completed_at and t.id != task.id]
        to_unit = ", ".join(dict.fromkeys(_unit(t, dossier) for t in receivers))
        to_person = ", ".join(p for p in dict.fromkeys(_person(t, dossier) for t in receivers) if p)
        if not receivers:
            to_unit = status_label(dossier.status) if dossier.is_ended else ""
        rows.append(
            ControlRow(
                from_unit=_unit(task, dossier),
                from_person=_person(task, dossier),
                to_unit=to_unit,
                to_person=to_person,
                at=task.completed_at,
                due_at=task.due_at,
                result=task.timeliness,
                note=" — ".join(p for p in (task.name, task.reason, task.comment) if p),
            )
        )
    return rows
