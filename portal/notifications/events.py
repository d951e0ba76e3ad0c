"""Who hears about what happens to a dossier. Receivers of `dossier_event`, run inside the dossier's transaction.

They only add rows (notifications, planned reminders); sending happens after the commit (see outbox.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import event

from portal.dossiers.named import named_officers
from portal.dossiers.runtime import APPLICANT_ROLE, DossierRun
from portal.dossiers.signals import dossier_event
from portal.extensions import db
from portal.models import DossierEvent, Reminder, ReminderKind, Status, Task, TaskState, User
from workflows.bpmn_model import StepSpec

from . import content
from .outbox import CITIZEN_CHANNELS, group_members, notify

REFUSED = frozenset({Status.NOT_ACCEPTED, Status.STOPPED})


def on_dossier_event(entry: DossierEvent, run: DossierRun, **_: Any) -> None:
    handler = HANDLERS.get(entry.kind)
    if handler is not None:
        with db.session.no_autoflush:  # the dossier's own flush writes everything in one batch
            handler(entry, run)


def _to_citizen(run: DossierRun, kind: str, build: Any) -> None:
    notify(run.dossier.applicant, kind, build, dossier=run.dossier, channels=CITIZEN_CHANNELS)


def _submitted(_entry: DossierEvent, run: DossierRun) -> None:
    # The reception step just opened is not flushed yet: its deadline is the expected reception time.
    _to_citizen(run, "submitted", lambda: content.submitted(run.dossier, run.open_tasks))


def _received(_entry: DossierEvent, run: DossierRun) -> None:
    _to_citizen(run, "received", lambda: content.received(run.dossier))


def _last_reason(run: DossierRun) -> str | None:
    """The reason the deciding step gave (the step just completed in this run)."""
    done = [t for t in run.open_tasks if t.state == TaskState.COMPLETED and t.completed_at == run.now]
    return next((t.reason for t in reversed(done) if t.reason), None)


def _status(entry: DossierEvent, run: DossierRun) -> None:
    new, d = entry.to_status, run.dossier
    if new == Status.SUPPLEMENT:
        reason = _last_reason(run)
        _to_citizen(run, "supplement", lambda: content.supplement(d, reason))
    elif new in REFUSED:
        reason = entry.note or _last_reason(run)
        _to_citizen(run, "refused", lambda: content.refused(d, reason))
    elif new == Status.FINISHED or (new == Status.RETURNED and entry.from_status != Status.FINISHED):
        _to_citizen(run, "result_ready", lambda: content.result_ready(d))


def _apology(entry: DossierEvent, run: DossierRun) -> None:
    data = entry.data or {}
    old, new = _moment(data.get("old_appointment")), _moment(data.get("new_appointment"))
    _to_citizen(run, "apology", lambda: content.apology(run.dossier, old, new, entry.note))


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _step_started(entry: DossierEvent, run: DossierRun) -> None:
    task = next((t for t in reversed(run.open_tasks) if t.bpmn_id == entry.step), None)
    if task is None:
        return
    if task.role == APPLICANT_ROLE:
        _applicant_step(task, run)
        return
    step = run.model.steps.get(task.bpmn_id)
    if task.group_id is None and not (step is not None and step.named):
        return
    actor = run.actor.id if run.actor else None
    for person, how in officers_told(task, step, exclude=actor):
        notify(person, "task_assigned", _assigned(task, run, how), dossier=run.dossier, task=task)
    plan_reminders(task, run)


def _assigned(task: Task, run: DossierRun, how: str) -> Callable[[], content.Content]:
    return lambda: content.task_assigned(task, run.dossier, personal=how == "personal", named=how == "named")


def officers_told(task: Task, step: StepSpec | None, exclude: int | None = None) -> list[tuple[User, str]]:
    """Who hears of a new step, and how: the officer it is assigned to ("personal"); the members of its group
    ("group"); the officers it names as candidates while nobody holds it ("named"). Each person once."""
    told: dict[int, tuple[User, str]] = {}
    if task.assignee_id is not None:
        holder = db.session.get(User, task.assignee_id)
        if holder is not None and holder.active:
            told[holder.id] = (holder, "personal")
    if task.group_id is not None:
        for member in group_members([task.group_id]):
            told.setdefault(member.id, (member, "group"))
    if task.assignee_id is None:
        for officer in named_officers(step):
            told.setdefault(officer.id, (officer, "named"))
    return [pair for user_id, pair in told.items() if user_id != exclude]


def _applicant_step(task: Task, run: DossierRun) -> None:
    """A step given to the applicant (the `applicant` role, `${initiator}`) waits for the citizen: they are told
    as of a request. Not for the step they are doing now (their application), nor when the step's own status is
    the request for documents: that status change tells them already."""
    step = run.model.steps.get(task.bpmn_id)
    if (run.actor is not None and run.actor.id == run.dossier.applicant_id) or task.kind == "submit":
        return
    if step is not None and step.status == Status.SUPPLEMENT:
        return
    reason = _last_reason(run)
    if task.kind == "supplement":
        _to_citizen(run, "supplement", lambda: content.supplement(run.dossier, reason))
    else:
        name_en = step.name_en if step is not None else None
        _to_citizen(run, "applicant_step", lambda: content.applicant_step(run.dossier, task, name_en, reason))


def plan_reminders(task: Task, run: DossierRun) -> None:
    """A reminder at the configured share of the step's allowance, an escalation when it runs out."""
    if task.due_at is None:
        return
    share = min(max(float(current_app.config["REMINDER_SHARE"]), 0.0), 1.0)
    if run.procedure.deadline_kind == "working":
        allowance = run.calendar.working_hours_between(task.created_at, task.due_at)
        remind_at = run.calendar.add_working_time(task.created_at, allowance * share)
    else:
        remind_at = task.created_at + (task.due_at - task.created_at) * share
    db.session.add(Reminder(task=task, kind=ReminderKind.REMINDER, due_at=remind_at, state="pending"))
    db.session.add(Reminder(task=task, kind=ReminderKind.ESCALATION, due_at=task.due_at, state="pending"))


HANDLERS = {
    "submitted": _submitted,
    "received": _received,
    "status": _status,
    "apology": _apology,
    "step_started": _step_started,
}


def on_assignee_set(task: Task, value: int | None, old: int | None, _initiator: Any) -> None:
    """A step given to one officer by someone else (a leader assigning it) tells that officer.

    Claiming a step for oneself says nothing; nor do the citizen's own steps.
    """
    if value is None or value == old or task.role in (None, APPLICANT_ROLE) or task.id is None:
        return
    if task.state not in (None, TaskState.READY):
        return
    if value == _current_user_id():
        return
    with db.session.no_autoflush:
        officer = db.session.get(User, value)
        if officer is None or task.dossier is None:
            return
        notify(
            officer,
            "task_assigned",
            lambda: content.task_assigned(task, task.dossier, personal=True),
            dossier=task.dossier,
            task=task,
        )


def _current_user_id() -> int | None:
    if not has_request_context():
        return None
    from flask_login import current_user

    return current_user.id if current_user.is_authenticated else None


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    dossier_event.connect(on_dossier_event, weak=False)
    event.listen(Task.assignee_id, "set", on_assignee_set)
    _connected = True
