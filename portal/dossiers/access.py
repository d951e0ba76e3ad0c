"""Who may see what: every page that shows a dossier or a task asks here first.

A citizen sees only their own dossiers; an officer sees the dossiers of the agencies their groups belong to and
acts on the tasks of their groups; an officer a step names (camunda:assignee, camunda:candidateUsers) acts on that
step and sees its dossier; an administrator sees everything. Unknown and forbidden look the same to a citizen
(404), so dossier ids cannot be probed.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from portal.extensions import db
from portal.models import Dossier, Group, Task, User
from portal.procedures.services import compiled

APPLICANT_ROLE = "applicant"
# Task.role of a step that names officers and no group: only they (the assignee, the candidate users) take it.
NAMED_ROLE = "@named"


def officer_agency_ids(user: User) -> set[int]:
    if not user.group_ids():
        return set()
    rows = db.session.scalars(select(Group.agency_id).where(Group.id.in_(user.group_ids())))
    return set(rows)


def can_view_dossier(user: User, dossier: Dossier) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if dossier.applicant_id == user.id or user.is_admin:
        return True
    return user.is_officer and (dossier.agency_id in officer_agency_ids(user) or _named_on(user, dossier))


def named_in_step(user: User, task: Task) -> bool:
    """Whether the task's step names this officer: its camunda:assignee or one of its camunda:candidateUsers."""
    if not user.is_authenticated or not user.is_active or not user.is_officer or task.role == APPLICANT_ROLE:
        return False
    if task.role == NAMED_ROLE and task.assignee_id == user.id:
        return True
    step = compiled(task.dossier.version).model.steps.get(task.bpmn_id)
    return step is not None and step.names(user.email)


def _named_on(user: User, dossier: Dossier) -> bool:
    """An officer outside the agency sees a dossier one of whose steps names them (a dossier has few steps)."""
    tasks = db.session.scalars(select(Task).where(Task.dossier_id == dossier.id, Task.role != APPLICANT_ROLE))
    return any(user.id in (t.assignee_id, t.completed_by_id) or named_in_step(user, t) for t in tasks)


def can_act_on_task(user: User, task: Task) -> bool:
    """May do the step (the claim rules come on top: see services.check_can_act)."""
    if task.role == APPLICANT_ROLE:
        return task.assignee_id == user.id
    return (task.group_id is not None and task.group_id in user.group_ids()) or named_in_step(user, task)


def get_dossier_or_404(dossier_id: int, user: User) -> Dossier:
    dossier = db.session.get(Dossier, dossier_id)
    if dossier is None or not can_view_dossier(user, dossier):
        abort(404)
    return dossier


def get_task_or_404(task_id: int, user: User) -> Task:
    task = db.session.get(Task, task_id)
    if task is None or not (can_act_on_task(user, task) or can_view_dossier(user, task.dossier)):
        abort(404)
    return task
