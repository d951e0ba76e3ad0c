"""What a dossier page shows: its steps as a timeline, its documents, the officer's request to the citizen.

Shared by the citizen's dossier page and the public tracking page (which leaves out notes and documents).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.catalogue.services import localized
from portal.core.time import utcnow
from portal.documents.services import decision_task, reason_lines
from portal.dossiers.named import task_unit
from portal.extensions import db
from portal.models import Attachment, Dossier, ExternalJob, JobState, Status, Task, TaskState
from portal.procedures.services import compiled
from workflows.bpmn_model import ProcedureModel

APPLICANT_ROLE = "applicant"
# Outcomes whose reason is addressed to the citizen (a request for documents, a refusal).
CITIZEN_FACING = frozenset({"supplement", "refuse"})


@dataclass
class TimelineRow:
    name: str
    unit: str
    started_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    timeliness: str | None  # early | on_time | late, when the step is done
    waiting: bool
    overdue: bool  # still waiting past its due time
    note: str | None  # the reason given to the citizen, if any


def steps_of(dossier: Dossier) -> list[Task]:
    stmt = (
        select(Task)
        .where(Task.dossier_id == dossier.id, Task.state != TaskState.CANCELLED)
        .options(joinedload(Task.group))
        .order_by(Task.created_at, Task.id)
    )
    return list(db.session.scalars(stmt))


def timeline(dossier: Dossier, *, with_notes: bool = True) -> list[TimelineRow]:
    now = utcnow()
    rows = []
    english = str(get_locale() or "vi") == "en"
    specs = compiled(dossier.version).model.steps if english else {}
    for task in steps_of(dossier):
        unit = task_unit(task, localized, _("You (the applicant)"))
        waiting = task.state == TaskState.READY
        note = task.reason if with_notes and task.outcome in CITIZEN_FACING else None
        rows.append(
            TimelineRow(
                name=localized(specs[task.bpmn_id]) if task.bpmn_id in specs else task.name,
                unit=unit,
                started_at=task.created_at,
                completed_at=task.completed_at,
                due_at=task.due_at,
                timeliness=task.timeliness,
                waiting=waiting,
                overdue=waiting and task.due_at is not None and task.due_at < now,
                note=note,
            )
        )
    return rows


def current_step_ids(dossier: Dossier) -> list[str]:
    stmt = select(Task.bpmn_id).where(Task.dossier_id == dossier.id, Task.state == TaskState.READY)
    return list(db.session.scalars(stmt))


def done_step_ids(dossier: Dossier) -> list[str]:
    stmt = select(Task.bpmn_id).where(Task.dossier_id == dossier.id, Task.state == TaskState.COMPLETED).distinct()
    return list(db.session.scalars(stmt))


def request_reason(task: Task) -> str | None:
    """The consolidated request the citizen answers: the reason of the step that asked for the supplement."""
    stmt = (
        select(Task)
        .where(Task.dossier_id == task.dossier_id, Task.outcome.in_(CITIZEN_FACING), Task.completed_at.is_not(None))
        .order_by(Task.completed_at.desc(), Task.id.desc())
        .limit(1)
    )
    asked = db.session.scalar(stmt)
    return asked.reason if asked is not None else None


@dataclass
class OpenRequest:
    """A request for documents the citizen has not answered yet, as the request slip words it."""

    asked_at: datetime | None
    items: list[str]  # what is missing and why, one item a line of the officer's consolidated request


def open_request(dossier: Dossier) -> OpenRequest | None:
    """The request for documents the dossier waits on (status 5), or None."""
    if dossier.status != Status.SUPPLEMENT:
        return None
    asked = decision_task(dossier, "supplement")
    if asked is None:
        return None
    return OpenRequest(asked_at=asked.completed_at, items=reason_lines(asked.reason))


def field_labels(model: ProcedureModel, english: bool = False) -> dict[str, str]:
    labels: dict[str, str] = {}
    for step in model.steps.values():
        for spec in step.form:
            labels.setdefault(spec.id, (spec.label_en if english and spec.label_en else spec.label) or spec.id)
    return labels


def documents(dossier: Dossier) -> list[Attachment]:
    stmt = select(Attachment).where(Attachment.dossier_id == dossier.id).order_by(Attachment.created_at, Attachment.id)
    return list(db.session.scalars(stmt))


@dataclass
class ExternalWait:
    """A step the dossier waits on that another system does (a BPMN external service task): its name only, and
    whether it is being looked into (an incident) — never the handler's error, which is for administrators."""

    name: str
    looked_into: bool


def external_waits(dossier: Dossier) -> list[ExternalWait]:
    stmt = (
        select(ExternalJob)
        .where(ExternalJob.dossier_id == dossier.id, ExternalJob.state.in_(JobState.WAITING))
        .order_by(ExternalJob.id)
    )
    return [
        ExternalWait(name=job.element_name, looked_into=job.state == JobState.INCIDENT)
        for job in db.session.scalars(stmt)
    ]
