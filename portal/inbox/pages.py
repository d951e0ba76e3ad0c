"""What the officer's dossier and task pages show: who may open them, and the dossier read for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import abort
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.attachments.services import parse_ids
from portal.core.presentation import money, number
from portal.dossiers.access import get_dossier_or_404, get_task_or_404, named_in_step
from portal.extensions import db
from portal.models import Attachment, Dossier, DossierEvent, Task, TaskState, User
from portal.procedures.services import compiled
from workflows.bpmn_model import StepSpec

from .queries import scope_of
from .services import task_agency_id


def officer_task_or_404(task_id: int, user: User) -> Task:
    """A task of one of my groups, one whose step names me, or one of an agency I lead (to reassign it).
    Anything else looks unknown."""
    if not user.is_authenticated or not user.is_officer:
        abort(404)
    task = get_task_or_404(task_id, user)
    scope = scope_of(user)
    if task.group_id in scope.group_ids or user.is_admin or named_in_step(user, task):
        return task
    if scope.leader_agency_ids and task_agency_id(task) in scope.leader_agency_ids:
        return task
    abort(404)


def officer_dossier_or_404(dossier_id: int, user: User) -> Dossier:
    """A dossier of my agencies (the citizen has their own pages)."""
    if not user.is_authenticated or not user.is_officer:
        abort(404)
    return get_dossier_or_404(dossier_id, user)


def step_of(task: Task) -> StepSpec | None:
    return compiled(task.dossier.version).model.steps.get(task.bpmn_id)


@dataclass
class FieldView:
    label: str
    value: Any
    files: list[Attachment] = field(default_factory=list)


def _display(spec: Any, value: Any) -> Any:
    if spec.type == "long" and isinstance(value, int) and not isinstance(value, bool):
        return money(value) if spec.widget == "money" else number(value)
    if spec.type == "enum":
        return dict(spec.options).get(value, value)
    if spec.type == "boolean":
        return _("Yes") if value else _("No")
    if spec.type == "date" and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), "dd/MM/yyyy")
        except ValueError:
            return value
    return value


def application_fields(dossier: Dossier, english: bool = False) -> list[FieldView]:
    """The application data, labelled with the submit step's form (the procedure's own words)."""
    model = compiled(dossier.version).model
    step = model.submit_step
    data = dossier.form_data or {}
    attachments = {a.id: a for a in dossier.attachments}
    if step is None:
        return [FieldView(key, value) for key, value in data.items()]
    shown = []
    for spec in step.form:
        label = spec.label_en if english and spec.label_en else spec.label
        value = data.get(spec.id)
        if spec.widget == "file":
            files = [attachments[i] for i in parse_ids(_ids_text(value)) if i in attachments]
            shown.append(FieldView(label, None, files))
        elif value not in (None, ""):
            shown.append(FieldView(label, _display(spec, value)))
    return shown


def _ids_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def timeline(dossier: Dossier) -> list[DossierEvent]:
    """The dossier's history, oldest first; the step-started lines are left out (the handover shows them)."""
    return list(
        db.session.scalars(
            select(DossierEvent)
            .where(DossierEvent.dossier_id == dossier.id, DossierEvent.kind != "step_started")
            .options(joinedload(DossierEvent.actor))
            .order_by(DossierEvent.at, DossierEvent.id)
        )
    )


def supplement_requests(dossier: Dossier) -> list[Task]:
    """Earlier requests for more documents, so a new one can be written as one consolidated list."""
    return list(
        db.session.scalars(
            select(Task)
            .where(Task.dossier_id == dossier.id, Task.state == TaskState.COMPLETED, Task.outcome == "supplement")
            .order_by(Task.completed_at)
        )
    )


def open_steps(dossier: Dossier) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task)
            .where(Task.dossier_id == dossier.id, Task.state == TaskState.READY)
            .options(joinedload(Task.group), joinedload(Task.assignee))
            .order_by(Task.id)
        )
    )


def next_step_words(dossier: Dossier) -> str:
    """What happens next, for the flash after a step: the waiting steps and who does them."""
    from portal.catalogue.services import localized
    from portal.core.presentation import status_label
    from portal.dossiers.access import APPLICANT_ROLE

    steps = open_steps(dossier)
    if not steps:
        return _("The dossier is now: %(status)s.", status=status_label(dossier.status))
    names = []
    for task in steps:
        who = localized(task.group) if task.group else _("the applicant")
        if task.group is None and task.role != APPLICANT_ROLE:  # a step of named officers
            who = task.assignee.full_name if task.assignee else _("the officers named for it")
        names.append(_("%(step)s (%(who)s)", step=task.name, who=who))
    return _("Next: %(steps)s.", steps="; ".join(names))
