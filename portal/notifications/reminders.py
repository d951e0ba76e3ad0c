"""Deadline warnings: a reminder before a step's deadline, an escalation to the leaders once it has passed.

Each warning was planned as a `Reminder` row when its step opened. The periodic job reads only the planned
rows that are due (index on state, due_at), takes each one with a conditional UPDATE, and writes its
notifications in the same transaction, so a warning is sent once even when two passes run at the same time.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.core.sql import rows_changed
from portal.core.time import utcnow
from portal.core.web import unit_of_work
from portal.dossiers.named import named_officers, step_of
from portal.extensions import db
from portal.models import Reminder, ReminderKind, Task, TaskState, User

from . import content
from .outbox import group_members, leaders_of, notify

log = logging.getLogger(__name__)


def due_reminder_ids(now: datetime, limit: int = 500) -> list[int]:
    stmt = (
        select(Reminder.id)
        .where(Reminder.state == "pending", Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def send_due_reminders(now: datetime | None = None, limit: int = 500) -> int:
    """One pass: every due warning, one transaction each. Returns how many were sent."""
    now = now or utcnow()
    ids = due_reminder_ids(now, limit)
    db.session.rollback()  # end the read; each warning gets its own transaction
    sent = 0
    for reminder_id in ids:
        try:
            with unit_of_work():
                done = send_reminder(reminder_id, now)
        except IntegrityError:  # another pass wrote the same notifications first (rolled back)
            continue
        sent += done
    return sent


def send_reminder(reminder_id: int, now: datetime) -> bool:
    taken = rows_changed(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.state == "pending")
        .values(state="sent", sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken != 1:
        return False
    reminder = db.session.get(Reminder, reminder_id, populate_existing=True)
    task = reminder.task if reminder is not None else None
    if reminder is None or task is None or task.state != TaskState.READY:
        # The step was done (or left) in time: nothing to say.
        db.session.execute(update(Reminder).where(Reminder.id == reminder_id).values(state="skipped"))
        return False
    if reminder.kind == ReminderKind.ESCALATION:
        _escalate(reminder, task)
    else:
        _remind(reminder, task)
    return True


def _remind(reminder: Reminder, task: Task) -> None:
    """The officer who holds the step; else its group's members and the officers it names."""
    if task.assignee is not None:
        people = [task.assignee]
    else:
        members = group_members([task.group_id] if task.group_id else [])
        people = list({u.id: u for u in [*members, *named_officers(step_of(task))]}.values())
    for person in people:
        if person is None or not person.active:
            continue
        notify(
            person,
            "reminder",
            lambda: content.reminder(task, task.dossier),
            dossier=task.dossier,
            task=task,
            key=f"reminder.t{task.id}",
        )


def _escalate(reminder: Reminder, task: Task) -> None:
    holder = _holder(task)
    for leader in leaders_of(task.dossier.agency_id):
        notify(
            leader,
            "escalation",
            lambda: content.escalation(task, task.dossier, holder),
            dossier=task.dossier,
            task=task,
            key=f"escalation.t{task.id}",
        )


def _holder(task: Task) -> str:
    assignee: User | None = task.assignee
    if assignee is not None:
        return assignee.full_name
    if task.group is not None:
        return task.group.name
    return ", ".join(u.full_name for u in named_officers(step_of(task)))
