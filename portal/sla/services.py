"""Build an agency's working calendar from its settings and the admins' exceptions.

Calendars are cached per process, keyed by the agency's `config_version`, which every change to its calendar
bumps: a process never serves a stale calendar, and a dossier step does not re-read the exceptions each time.
"""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from portal.core import audit
from portal.core.cache import ProcessCache
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.models import Agency, CalendarException, User
from portal.models.agency import touch_config
from portal.sla.calendar import CalendarSettings, WorkingCalendar

_calendars: ProcessCache[WorkingCalendar] = ProcessCache()


def _periods(agency: Agency) -> tuple[tuple[time, time], ...] | None:
    if not agency.work_periods:
        return None
    return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in agency.work_periods)


def calendar_for(agency: Agency) -> WorkingCalendar:
    """The calendar deadlines of this agency's dossiers are counted in."""
    key = (agency.id, agency.config_version or 0, current_app.config["TIMEZONE"])
    return _calendars.get_or_build(key, lambda: _build(agency))


def _build(agency: Agency) -> WorkingCalendar:
    rows = db.session.scalars(
        select(CalendarException).where(
            or_(CalendarException.agency_id == agency.id, CalendarException.agency_id.is_(None))
        )
    ).all()
    kwargs: dict = {
        "days_off": frozenset(r.day for r in rows if r.kind == "off"),
        "working_days": frozenset(r.day for r in rows if r.kind == "work"),
        "tz": ZoneInfo(current_app.config["TIMEZONE"]),
    }
    periods = _periods(agency)
    if periods:
        kwargs["periods"] = periods
    if agency.same_day_cutoff:
        kwargs["same_day_cutoff"] = agency.same_day_cutoff
    return WorkingCalendar(CalendarSettings(**kwargs))


def set_calendar_day(
    agency: Agency | None, day: date, kind: str, note: str | None, actor: User | None
) -> CalendarException:
    """Declare a day off (`off`) or a make-up working day (`work`) for one agency, or all of them (None).

    Bumps the agencies' config_version, so every process rebuilds its cached calendar on the next step.
    """
    if kind not in ("off", "work"):
        raise InvalidInput(
            _("A calendar day is either a day off or a working day."), {"kind": [_("Not a valid choice.")]}
        )
    agency_id = agency.id if agency is not None else None
    row = db.session.scalar(
        select(CalendarException).where(
            CalendarException.day == day,
            CalendarException.agency_id.is_(None) if agency_id is None else CalendarException.agency_id == agency_id,
        )
    )
    if row is None:
        row = CalendarException(agency_id=agency_id, day=day, year=day.year)
        db.session.add(row)
    row.kind, row.note = kind, note
    touch_config(agency_id)
    db.session.flush()
    audit.record("calendar.set_day", actor, row, agency=agency.code if agency else None, day=day.isoformat(), kind=kind)
    return row


def remove_calendar_day(row: CalendarException, actor: User | None) -> None:
    touch_config(row.agency_id)
    audit.record("calendar.remove_day", actor, row, day=row.day.isoformat(), kind=row.kind)
    db.session.delete(row)
    db.session.flush()
