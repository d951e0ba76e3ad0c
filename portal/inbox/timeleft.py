"""Time left before a step's deadline, in the agency's working hours, with a colour tag and the same in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from portal.sla.calendar import WorkingCalendar


@dataclass(frozen=True)
class TimeLeft:
    hours: float  # working hours left; negative when overdue
    tag: str  # ok | soon | late: the CSS class tag-<tag>
    words: str  # what the tag says, so colour is never the only cue


def _span_words(hours: float, per_day: float) -> str:
    whole = round(abs(hours))
    days, rest = divmod(whole, round(per_day) or 8)
    if days and rest:
        return _("%(days)d working days %(hours)d hours", days=days, hours=rest)
    if days:
        return _("%(days)d working days", days=days)
    if whole:
        return _("%(hours)d working hours", hours=whole)
    return _("less than an hour")


def time_left(calendar: WorkingCalendar, now: datetime, due: datetime) -> TimeLeft:
    hours = calendar.working_hours_between(now, due)
    span = _span_words(hours, calendar.hours_per_day)
    if due < now:
        return TimeLeft(hours, "late", _("Overdue by %(span)s", span=span))
    if hours <= float(current_app.config.get("INBOX_DUE_SOON_HOURS", 8)):
        return TimeLeft(hours, "soon", _("Due soon: %(span)s left", span=span))
    return TimeLeft(hours, "ok", _("%(span)s left", span=span))
