"""Build an agency's working calendar from its settings and the admins' exceptions.

Calendars are cached per process, keyed by the agency's `config_version`, which every change to its calendar
bumps: a process never serves a stale calendar, and a dossier step does not re-read the exceptions each time.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from portal.core.cache import ProcessCache
from portal.extensions import db
from portal.models import Agency, CalendarException
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
