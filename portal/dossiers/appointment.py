"""The appointment for the result, in words the citizen reads on every page, slip and message.

A dossier has no appointment date until the one-stop-shop desk receives it (the date is counted from the
reception). Until then the citizen is told why, and when the desk is expected to receive it: by the deadline of
the desk's open reception step, or, for a procedure without one, within one working day of the agency's calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.presentation import when
from portal.core.time import as_utc, utcnow
from portal.extensions import db
from portal.models import Dossier, Status, Task, TaskState
from portal.sla.services import calendar_for

RECEPTION_KIND = "reception"


@dataclass(frozen=True)
class ExpectedReception:
    by: datetime  # the desk receives the dossier by this moment at the latest
    same_day: bool  # on the day it was submitted
    next_working_day: bool  # on the first working day after the day it was submitted
    late: bool  # the moment has passed and the desk has not received it yet


def expected_reception(dossier: Dossier, open_tasks: Iterable[Task] | None = None) -> ExpectedReception | None:
    """When the desk should receive a dossier that waits for it; None once received, closed, or with the citizen.

    `open_tasks` are the dossier's tasks when they are not flushed yet (inside the step that opened them).
    """
    if dossier.received_at is not None or dossier.is_ended or dossier.status != Status.NEW:
        return None
    if dossier.submitted_at is None:
        return None
    tasks = list(open_tasks) if open_tasks is not None else _ready_tasks(dossier)
    # A task opened in this very step has no state until it is flushed (the column's default): it is waiting.
    waiting = [t for t in tasks if t.kind == RECEPTION_KIND and t.state in (None, TaskState.READY)]
    dues = [as_utc(t.due_at) for t in waiting if t.due_at is not None]
    calendar = calendar_for(dossier.agency)
    submitted = as_utc(dossier.submitted_at)
    by = min(dues) if dues else calendar.add_working_time(submitted, calendar.hours_per_day)
    tz = calendar.settings.tz
    first, last = submitted.astimezone(tz).date(), by.astimezone(tz).date()
    between = [first + timedelta(days=n) for n in range(1, (last - first).days)]
    next_day = last > first and calendar.is_working_day(last) and not any(map(calendar.is_working_day, between))
    return ExpectedReception(by=by, same_day=first == last, next_working_day=next_day, late=by < utcnow())


def _ready_tasks(dossier: Dossier) -> list[Task]:
    stmt = select(Task).where(Task.dossier_id == dossier.id, Task.state == TaskState.READY)
    return list(db.session.scalars(stmt))


def reception_promise(expected: ExpectedReception | None) -> str:
    """The sentence that tells when the desk will receive the dossier ("" when it does not wait for the desk)."""
    if expected is None:
        return ""
    at = when(expected.by)
    if expected.late:
        return _(
            "The desk should have received your dossier by %(when)s; it will be received as soon as possible.", when=at
        )
    if expected.same_day:
        return _(
            "Your dossier will be received during working hours, by %(when)s at the latest (the day it was submitted).",
            when=at,
        )
    if expected.next_working_day:
        return _(
            "Your dossier will be received during working hours, by %(when)s at the latest (the next working day).",
            when=at,
        )
    return _("Your dossier will be received during working hours, by %(when)s at the latest.", when=at)


def appointment_text(dossier: Dossier, open_tasks: Iterable[Task] | None = None) -> str:
    """The appointment date, or in words why there is none yet: never an empty value after its label."""
    if dossier.appointment_at is not None:
        return when(dossier.appointment_at)
    if dossier.received_at is None and dossier.is_ended:
        return _("None: the dossier was closed before the desk received it.")
    if dossier.received_at is None and dossier.status == Status.SUPPLEMENT:
        return _("Not set yet: it is set when the desk receives your dossier, after you send the missing documents.")
    if dossier.received_at is None:
        promise = reception_promise(expected_reception(dossier, open_tasks))
        unset = _("Not set yet: it is set when the desk receives your dossier.")
        return f"{unset} {promise}" if promise else unset
    return _("Not set: this procedure has no appointment date.")
