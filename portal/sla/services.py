"""Build an agency's working calendar from its settings and the admins' exceptions."""

from __future__ import annotations

from datetime import time

from flask import current_app
from sqlalchemy import or_, select

from portal.extensions import db
from portal.models import Agency, CalendarException
from portal.sla.calendar import CalendarSettings, WorkingCalendar


def _periods(agency: Agency) -> tuple[tuple[time, time], ...] | None:
    if not agency.work_periods:
        return None
    return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in agency.work_periods)


def calendar_for(agency: Agency) -> WorkingCalendar:
    """The calendar deadlines of this agency's dossiers are counted in."""
    from zoneinfo import ZoneInfo

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
